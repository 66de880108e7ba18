"""Benchmarks of language models: each case run a few times, greedy, with a small token budget,
measuring end-to-end latency, time to the first token and tokens per second. No transport imports.

Prompts go to chat models as one user message (through their chat template, as an instruct model
expects), to other models as raw text. Runs are sequential so one does not slow another, and they
go straight to the generation service
(below plugins and the response cache): a benchmark measures the model, not a cached answer. They
are real requests and so show in the service's statistics like any other.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from dataclasses import dataclass, field

from services.common.errors import DeadlineExceeded, InvalidInput, MeshError
from services.inference.llm.requests import GenerationRequest, SamplingRequest
from services.inference.llm.service import GenerationService
from services.inference.plugins.base import Message

#: Document 003's test case names, each with a short prompt of that kind.
BUILTIN_CASES: dict[str, str] = {
    "Simple Q&A": "Which city is the capital of France?",
    "Code Generation": "Write a Python function that returns the sum of a list of numbers.",
    "Creative Writing": "Write a two-line poem about the sea.",
    "Mathematical Reasoning": "A train travels 60 km in 1.5 hours. What is its average speed in km/h?",
    "Summarization": "Summarize in one sentence: The meeting moved to Friday because the room was booked.",
    "Translation": "Translate to French: Good morning, how are you?",
}
DEFAULT_MAX_TOKENS = 16
DEFAULT_REPETITIONS = 3
LIMITS = {"models": 8, "cases": 8, "max_tokens": 128, "repetitions": 10}
#: Seconds of a call's deadline kept back for the reply, when the deadline sets the budget.
REPLY_MARGIN_SECONDS = 2.0


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_NORMAL = {_normal(name): (name, prompt) for name, prompt in BUILTIN_CASES.items()}


@dataclass(frozen=True)
class Case:
    """A named prompt."""

    name: str
    prompt: str


@dataclass
class CaseResult:
    """Measurements of one case on one model."""

    case: Case
    latencies_ms: list[float] = field(default_factory=list)
    first_token_ms: list[float] = field(default_factory=list)
    completion_tokens: int = 0
    sample_output: str = ""

    @property
    def tokens_per_second(self) -> float:
        """Completion tokens over the summed end-to-end time of the runs."""
        seconds = sum(self.latencies_ms) / 1000
        return self.completion_tokens / seconds if seconds else 0.0


@dataclass
class ModelResult:
    """A model's results, or why it could not be measured."""

    asked: str
    resolved: str = ""
    device: str = ""
    error: MeshError | None = None
    cases: list[CaseResult] = field(default_factory=list)


def resolve_cases(cases: list[Case]) -> list[Case]:
    """Built-in prompts for known names; every built-in case when none is given."""
    if not cases:
        return [Case(n, p) for n, p in BUILTIN_CASES.items()]
    resolved = []
    for position, case in enumerate(cases):
        if case.prompt:
            resolved.append(Case(case.name or f"case {position + 1}", case.prompt))
            continue
        known = _BY_NORMAL.get(_normal(case.name))
        if known is None:
            raise InvalidInput(
                f"test case {case.name!r} is not a built-in case and has no prompt",
                details={"field": f"test_cases[{position}]", "builtin_cases": list(BUILTIN_CASES)},
                suggestion='use a built-in name, or give {"name": ..., "prompt": ...}',
            )
        resolved.append(Case(*known))
    return resolved


def check_limits(models: list[str], cases: int, max_tokens: int, repetitions: int) -> None:
    """Refuses benchmarks too large to run inside one request, and empty model names (which would
    resolve to the default model rather than say which one to measure)."""
    for position, model in enumerate(models):
        if not model.strip():
            raise InvalidInput("a model name must not be empty", details={"field": f"models[{position}]"})
    for name, value in (("models", len(models)), ("cases", cases)):
        if value > LIMITS[name]:
            raise InvalidInput(
                f"at most {LIMITS[name]} {name} per benchmark", details={"field": name, "provided": value}
            )
    if not models:
        raise InvalidInput("name at least one model", details={"field": "models"})
    for name, value in (("max_tokens", max_tokens), ("repetitions", repetitions)):
        if not 1 <= value <= LIMITS[name]:
            raise InvalidInput(
                f"{name} must be between 1 and {LIMITS[name]}", details={"field": name, "provided": value}
            )


@dataclass(frozen=True)
class Budget:
    """How long a benchmark may measure: ``seconds`` in all, until ``deadline`` (``time.monotonic``)."""

    seconds: float
    deadline: float

    def remaining(self) -> float:
        """Seconds left; :class:`DeadlineExceeded` when none."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.spent()
        return left

    def spent(self) -> DeadlineExceeded:
        """The error a model cut by the budget reports."""
        return DeadlineExceeded(
            f"the benchmark's time budget of {round(self.seconds, 1):g} s was spent: stopped here, "
            "the runs measured before are reported",
            details={"budget_seconds": round(self.seconds, 3)},
        )


def budget_of(configured: float, call_remaining: float | None) -> float:
    """The budget of one run: the configured one, or less when the call's deadline comes first."""
    if call_remaining is None:
        return configured
    return max(0.0, min(configured, call_remaining - REPLY_MARGIN_SECONDS))


async def run_case(
    service: GenerationService, model: str, case: Case, max_tokens: int, chat: bool
) -> tuple[float, float, int, str, str]:
    """One greedy run: (latency ms, first token ms, completion tokens, text, device)."""
    job = service.job(
        GenerationRequest(
            model=model,
            prompt="" if chat else case.prompt,
            messages=(Message("user", case.prompt),) if chat else (),
            sampling=SamplingRequest(max_tokens=max_tokens, temperature=0.0),
        )
    )
    started = time.perf_counter()
    first = 0.0
    parts: list[str] = []
    tokens, device = 0, ""
    async for chunk in service.generate(job):
        if chunk.text and not first:
            first = time.perf_counter() - started
        parts.append(chunk.text)
        device = chunk.device
        if chunk.finish_reason:
            tokens = chunk.completion_tokens
    latency = time.perf_counter() - started
    return latency * 1000, (first or latency) * 1000, tokens, "".join(parts), device


async def benchmark_model(
    service: GenerationService,
    model: str,
    cases: list[Case],
    max_tokens: int,
    repetitions: int,
    chat_models: set[str],
    budget: Budget,
) -> ModelResult:
    """Every case on one model; a model that cannot run is reported, not raised. A run still going
    when the budget is spent is cancelled and left out; the runs before it are kept."""
    result = ModelResult(asked=model)
    try:
        async with asyncio.timeout(budget.remaining()):
            spec = await service.catalog.resolve(model)
        result.resolved = spec.model_id
        for case in cases:
            measured = CaseResult(case)
            try:
                for _ in range(repetitions):
                    async with asyncio.timeout(budget.remaining()):
                        latency, first, tokens, text, device = await run_case(
                            service, model, case, max_tokens, spec.model_id in chat_models
                        )
                    measured.latencies_ms.append(latency)
                    measured.first_token_ms.append(first)
                    measured.completion_tokens += tokens
                    measured.sample_output = text
                    result.device = device
            finally:
                if measured.latencies_ms:
                    result.cases.append(measured)
    except TimeoutError:
        result.error = budget.spent()
    except MeshError as error:
        result.error = error
    return result


def median(values: list[float]) -> float:
    """The median, 0 for none."""
    return statistics.median(values) if values else 0.0
