"""Per-arm figures and the tests between arms, with scipy's tests rather than hand-written ones:

- ``error_rate``: a chi-squared test of independence on (failed, succeeded) per arm
  (``scipy.stats.chi2_contingency``);
- ``latency``: the Mann-Whitney U test on the two arms' latencies (``scipy.stats.mannwhitneyu``),
  which assumes no distribution;
- ``user_satisfaction``: Welch's t-test on the feedback scores (``scipy.stats.ttest_ind``,
  ``equal_var=False``).

A comparison with fewer than 2 observations on either side reports p = 1 (not significant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.inference.experiments.records import Experiment
from services.inference.experiments.store import ArmEvents

ALPHA = 0.05
TESTS = {
    "error_rate": "chi2_contingency",
    "latency": "mannwhitneyu",
    "user_satisfaction": "ttest_ind (Welch)",
}


@dataclass(frozen=True)
class ArmFigures:
    """One arm's figures."""

    arm: str
    model: str
    requests: int
    errors: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    completion_tokens: int
    feedback_count: int
    feedback_mean: float
    callers: int


@dataclass(frozen=True)
class Comparison:
    """A test of one metric between the control (first arm) and a variant."""

    control: str
    variant: str
    metric: str
    test: str
    p_value: float
    significant: bool
    better: str


def figures(experiment: Experiment, events: dict[str, ArmEvents]) -> list[ArmFigures]:
    """Every arm's figures, in the experiment's order (zeros for an arm nothing reached)."""
    out = []
    for arm in experiment.arms:
        seen = events.get(arm.name, ArmEvents([], 0, 0, [], 0))
        latencies = np.asarray(seen.latencies_ms) if seen.latencies_ms else np.zeros(1)
        p50, p95, p99 = (float(v) for v in np.percentile(latencies, [50, 95, 99]))
        out.append(
            ArmFigures(
                arm=arm.name,
                model=arm.model,
                requests=len(seen.latencies_ms) + seen.errors,
                errors=seen.errors,
                latency_p50_ms=p50,
                latency_p95_ms=p95,
                latency_p99_ms=p99,
                completion_tokens=seen.completion_tokens,
                feedback_count=len(seen.feedback),
                feedback_mean=float(np.mean(seen.feedback)) if seen.feedback else 0.0,
                callers=seen.callers,
            )
        )
    return out


def compare(experiment: Experiment, events: dict[str, ArmEvents], metric: str) -> list[Comparison]:
    """The control against each other arm on ``metric``."""
    empty = ArmEvents([], 0, 0, [], 0)
    control = experiment.arms[0].name
    first = events.get(control, empty)
    return [
        _test(control, arm.name, metric, first, events.get(arm.name, empty)) for arm in experiment.arms[1:]
    ]


def _test(control: str, variant: str, metric: str, a: ArmEvents, b: ArmEvents) -> Comparison:
    from scipy import stats

    p_value, a_better = 1.0, False
    if metric == "error_rate":
        table = np.array([[a.errors, len(a.latencies_ms)], [b.errors, len(b.latencies_ms)]])
        if table.sum(axis=1).min() >= 2 and table.sum(axis=0).min() > 0:
            p_value = float(stats.chi2_contingency(table).pvalue)
            a_better = a.errors / table[0].sum() < b.errors / table[1].sum()
    elif metric == "latency":
        if min(len(a.latencies_ms), len(b.latencies_ms)) >= 2:
            p_value = float(stats.mannwhitneyu(a.latencies_ms, b.latencies_ms).pvalue)
            a_better = float(np.median(a.latencies_ms)) < float(np.median(b.latencies_ms))
    elif min(len(a.feedback), len(b.feedback)) >= 2:
        p_value = float(stats.ttest_ind(a.feedback, b.feedback, equal_var=False).pvalue)
        a_better = float(np.mean(a.feedback)) > float(np.mean(b.feedback))
    if not math.isfinite(p_value):  # identical constant samples: no evidence either way
        p_value = 1.0
    significant = p_value < ALPHA
    return Comparison(
        control=control,
        variant=variant,
        metric=metric,
        test=TESTS[metric],
        p_value=p_value,
        significant=significant,
        better=(control if a_better else variant) if significant else "",
    )


def favoured(experiment: Experiment, comparisons: list[Comparison]) -> str:
    """The arm the success metric favours: a variant that beat the control significantly (the one
    with the smallest p), else the control."""
    winners = sorted((c.p_value, c.variant) for c in comparisons if c.significant and c.better == c.variant)
    return winners[0][1] if winners else experiment.arms[0].name
