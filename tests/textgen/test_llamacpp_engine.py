"""The llama.cpp engine in this process: continuous batching keeps each sequence's greedy output, a
cancelled sequence leaves within one step, sampling parameters act, and the reported log-probabilities
are llama.cpp's own."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from services.common.bundled import SMOLLM2_GGUF
from services.inference.llm.engines import choose, load_engine
from services.inference.llm.engines.llamacpp import LlamaCppEngine
from services.inference.llm.engines.thread_choice import ThreadChoice
from services.inference.llm.sampling import SamplingParams
from tests.textgen.conftest import llama_greedy

pytestmark = pytest.mark.slow

PROMPTS = [
    "List three colors.",
    "Explain gravity in one sentence.",
    "Write a haiku about rain.",
    "Count to five.",
]


@dataclass
class Collected:
    """The events of one sequence."""

    events: list[dict[str, Any]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if any(key in event for key in ("finish_reason", "error", "cancelled")):
            self.done.set()

    @property
    def text(self) -> str:
        return "".join(e.get("text", "") for e in self.events)

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1]


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaCppEngine]:
    assert SMOLLM2_GGUF.path is not None
    engine = load_engine(SMOLLM2_GGUF.path, name="test", max_batch=4, context_tokens=1024, threads=2)
    assert isinstance(engine, LlamaCppEngine)
    yield engine
    engine.stop()


def chat(engine: LlamaCppEngine, prompt: str) -> list[int]:
    return engine.encode("", [{"role": "user", "content": prompt}])


def run(engine: LlamaCppEngine, jobs: list[tuple[list[int], SamplingParams]]) -> list[Collected]:
    results = [Collected() for _ in jobs]
    for i, (ids, params) in enumerate(jobs):
        engine.submit(f"s{i}-{time.monotonic_ns()}", ids, params, results[i].emit)
    for result in results:
        assert result.done.wait(120)
    return results


def test_gguf_is_served_by_llama_cpp() -> None:
    assert SMOLLM2_GGUF.path is not None
    choice = choose(SMOLLM2_GGUF.path, "cpu")
    assert (choice.engine, choice.reason) == ("llama.cpp", "GGUF file")


def test_batched_sequences_equal_their_solo_runs_and_llama_cpp(
    engine: LlamaCppEngine, llama_reference: Any
) -> None:
    greedy = [SamplingParams(max_tokens=24 + 6 * i, temperature=0.0) for i in range(len(PROMPTS))]
    jobs = [(chat(engine, p), g) for p, g in zip(PROMPTS, greedy, strict=True)]
    solo = [run(engine, [job])[0] for job in jobs]
    # All four at once, then again with staggered arrivals so later ones join a running batch.
    together = run(engine, jobs)
    staggered = [Collected() for _ in jobs]
    for i, (ids, params) in enumerate(jobs):
        engine.submit(f"late{i}", ids, params, staggered[i].emit)
        time.sleep(0.05)
    for result in staggered:
        assert result.done.wait(120)
    for i, prompt in enumerate(PROMPTS):
        expected = llama_greedy(llama_reference, [{"role": "user", "content": prompt}], greedy[i].max_tokens)
        assert solo[i].text == expected["choices"][0]["message"]["content"], prompt
        assert solo[i].last["usage"]["completion_tokens"] == expected["usage"]["completion_tokens"]
        assert solo[i].last["usage"]["prompt_tokens"] == expected["usage"]["prompt_tokens"]
        assert together[i].text == solo[i].text, prompt
        assert staggered[i].text == solo[i].text, prompt
    stats = engine.stats()
    assert (stats["engine"], stats["device"], stats["threads"]) == ("llama.cpp", "cpu", 2)
    assert stats["active"] == stats["waiting"] == 0


class Alternating(ThreadChoice):
    """Switches between the two thread counts at every decode, whatever the timings."""

    def __init__(self) -> None:
        super().__init__(2)
        self.picked: list[int] = []

    def pick(self, tokens: int) -> int:
        self.picked.append(self.counts[len(self.picked) % 2])
        return self.picked[-1]


def test_the_thread_count_of_a_decode_never_changes_the_tokens(
    engine: LlamaCppEngine, llama_reference: Any
) -> None:
    """Adaptive threads move decodes between 2 threads and 1 as the load changes: llama.cpp computes
    each output on one thread, so the greedy text is llama.cpp's own either way."""
    engine._thread_choice = alternating = Alternating()
    try:
        greedy = SamplingParams(max_tokens=40, temperature=0.0)
        jobs = [(chat(engine, p), greedy) for p in PROMPTS[:2]]
        results = run(engine, jobs)
    finally:
        engine._thread_choice = ThreadChoice(2)
    assert set(alternating.picked) == {2, 1} and len(alternating.picked) > 40
    for prompt, result in zip(PROMPTS[:2], results, strict=True):
        expected = llama_greedy(llama_reference, [{"role": "user", "content": prompt}], 40)
        assert result.text == expected["choices"][0]["message"]["content"], prompt


def test_prompt_cache_reuses_a_shared_prefix_and_keeps_the_output(engine: LlamaCppEngine) -> None:
    first = chat(engine, "Name a famous painter.")
    cold = run(engine, [(first, SamplingParams(max_tokens=16, temperature=0.0))])[0]
    again = run(engine, [(first, SamplingParams(max_tokens=16, temperature=0.0))])[0]
    # The whole prompt is cached but its last token, which is evaluated for the first logits.
    assert again.last["usage"]["cached_tokens"] == len(first) - 1
    assert again.text == cold.text
    other = chat(engine, "Name a famous composer.")
    shared = next(i for i, (a, b) in enumerate(zip(first, other, strict=False)) if a != b)
    reused = run(engine, [(other, SamplingParams(max_tokens=16, temperature=0.0))])[0]
    assert reused.last["usage"]["cached_tokens"] == shared > 20  # the chat template's system prompt


def test_a_prompt_cut_from_a_longer_cached_one_reads_nothing_past_the_cut(
    engine: LlamaCppEngine, llama_reference: Any
) -> None:
    """The KV cells past a cached prefix are removed before the prompt's rest is evaluated. A slot
    filled by one long prefill (64 tokens or more in one micro-batch) once left llama.cpp's CPU flash
    attention reading the removed cells: the question alone was answered in the removed turn's
    French (the engine now keeps micro-batches under 64 tokens)."""
    question = "Which city is the capital of France?"
    french = "Le Grand Paris est la capitale de la France, une ville de lumière, d'art et d'histoire. " * 3
    conversation = [
        {"role": "user", "content": question},
        {"role": "assistant", "content": french},
        {"role": "user", "content": "And which river flows through it?"},
    ]
    long_ids = engine.encode("", conversation)
    asked = [{"role": "user", "content": question}]
    ids = engine.encode("", asked)
    assert long_ids[: len(ids)] == ids and len(long_ids) - len(ids) >= 64
    run(engine, [(long_ids, SamplingParams(max_tokens=4, temperature=0.0))])
    again = run(engine, [(ids, SamplingParams(max_tokens=24, temperature=0.0))])[0]
    assert again.last["usage"]["cached_tokens"] == len(ids) - 1  # the cut prefix was reused
    expected = llama_greedy(llama_reference, asked, 24)["choices"][0]["message"]["content"]
    assert again.text == expected


def test_cancel_frees_the_slot_within_one_step(engine: LlamaCppEngine) -> None:
    stay = Collected()
    engine.submit(
        "stay", chat(engine, "Tell a long story."), SamplingParams(max_tokens=300, temperature=0.0), stay.emit
    )
    leave = Collected()
    cancelled = threading.Event()
    leave_prompt = chat(engine, "Tell another long story.")
    engine.submit(
        "leave",
        leave_prompt,
        SamplingParams(max_tokens=300, temperature=0.0),
        leave.emit,
        cancelled.is_set,
    )
    while len(leave.events) < 3:
        time.sleep(0.005)
    stay_tokens = len(stay.events)
    cancelled.set()
    assert leave.done.wait(5)
    # The last event says what the dropped sequence cost (metering bills it): its prompt, and every
    # token it generated, those sent as text and any the step had made when it left.
    assert leave.last["cancelled"] is True
    assert leave.last["usage"]["prompt_tokens"] == len(leave_prompt)
    assert len(leave.events) - 1 <= leave.last["usage"]["completion_tokens"] < 300
    # The step running when it left may still deliver one token; none after that.
    assert len(stay.events) - stay_tokens <= 2
    assert engine.stats()["active"] == 1
    engine.cancel("stay")  # the worker protocol's cancel op: the same end, with the usage
    assert stay.done.wait(5)
    assert stay.last["cancelled"] is True and stay.last["usage"]["completion_tokens"] >= stay_tokens
    assert engine.stats()["active"] == 0


def test_seeded_sampling_repeats_and_parameters_act(engine: LlamaCppEngine) -> None:
    ids = chat(engine, "Write a sentence about the sea.")
    hot = SamplingParams(max_tokens=24, temperature=1.2, top_p=0.95, seed=11)
    first, second = run(engine, [(ids, hot), (ids, hot)])
    assert first.text == second.text  # the same seed gives the same text, batched together
    other = run(engine, [(ids, SamplingParams(max_tokens=24, temperature=1.2, top_p=0.95, seed=12))])[0]
    assert other.text != first.text
    greedy = run(engine, [(ids, SamplingParams(max_tokens=24, temperature=0.0))])[0]
    top1 = run(engine, [(ids, SamplingParams(max_tokens=24, temperature=1.5, top_k=1, seed=3))])[0]
    assert top1.text == greedy.text  # top_k=1 leaves only the arg-max
    repeat = chat(engine, "Repeat the word 'cat' many times.")
    plain = run(engine, [(repeat, SamplingParams(max_tokens=30, temperature=0.0))])[0]
    penalised = run(
        engine, [(repeat, SamplingParams(max_tokens=30, temperature=0.0, frequency_penalty=2.0))]
    )[0]
    assert plain.text.lower().count("cat") > penalised.text.lower().count("cat")
    stopped = run(engine, [(ids, SamplingParams(max_tokens=40, temperature=0.0, stop=(" the",)))])[0]
    assert " the" not in stopped.text and stopped.last["finish_reason"] == "stop"


def test_logit_bias_bans_and_forces_tokens(engine: LlamaCppEngine) -> None:
    from services.common.errors import InvalidInput
    from services.inference.llm.limits import check_token_ids

    ids = chat(engine, "Write a sentence about the sea.")
    plain = Collected()
    seq = engine.submit("plain", ids, SamplingParams(max_tokens=8, temperature=0.0), plain.emit)
    assert plain.done.wait(60)
    first = seq.output_ids[0]
    banned = Collected()
    seq = engine.submit(
        "banned",
        ids,
        SamplingParams(max_tokens=8, temperature=0.0, logit_bias=((first, -100.0),)),
        banned.emit,
    )
    assert banned.done.wait(60)
    assert first not in seq.output_ids
    forced = Collected()
    seq = engine.submit(
        "forced",
        ids,
        SamplingParams(max_tokens=4, temperature=0.9, seed=5, logit_bias=((first, 100.0),)),
        forced.emit,
    )
    assert forced.done.wait(60)
    assert seq.output_ids == [first] * 4
    with pytest.raises(InvalidInput) as caught:
        check_token_ids(SamplingParams(logit_bias=((engine.vocab_size, 1.0),)), engine.vocab_size)
    assert caught.value.details["max"] == engine.vocab_size - 1 == 49151


def test_mean_logprob_is_llama_cpp_distribution(engine: LlamaCppEngine, llama_reference: Any) -> None:
    ids = chat(engine, "Explain what a lighthouse does.")
    result = Collected()
    seq = engine.submit("lp", ids, SamplingParams(max_tokens=12, temperature=1.3, seed=7), result.emit)
    assert result.done.wait(60)
    output = seq.output_ids
    assert len(output) == result.last["usage"]["completion_tokens"]
    llama_reference.reset()
    llama_reference.eval(ids + output)
    scores = np.asarray(llama_reference.scores[: len(ids) + len(output)], dtype=np.float64)
    total = 0.0
    for i, token in enumerate(output):
        row = scores[len(ids) - 1 + i]  # the logits at position p predict token p + 1
        total += row[token] - (row.max() + math.log(np.exp(row - row.max()).sum()))
    assert result.last["mean_logprob"] == pytest.approx(total / len(output), abs=2e-3)


def test_context_and_prompt_limits(engine: LlamaCppEngine) -> None:
    from services.common.errors import InvalidInput

    assert engine.context_length == 1024
    with pytest.raises(InvalidInput) as caught:
        engine.check_context(list(range(1024)), 16, explicit=False)
    assert caught.value.details["max_length"] == 1024
    assert engine.check_context([1, 2, 3], 5000, explicit=False) == 1021
    with pytest.raises(InvalidInput):
        engine.encode("", [{"role": "robot", "content": "hi"}])


def test_a_failed_step_ends_every_sequence_it_held(
    engine: LlamaCppEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decode that fails ends the running, the admitted and the waiting sequences with an error
    event (none is left waiting forever), and the engine serves the next request."""
    calls = {"n": 0}
    real = engine._decode

    def failing(tokens: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated llama_decode failure")
        real(tokens)

    monkeypatch.setattr(engine, "_decode", failing)
    results = [Collected() for _ in range(3)]
    for i, result in enumerate(results):
        engine.submit(
            f"f{i}", chat(engine, PROMPTS[i]), SamplingParams(max_tokens=8, temperature=0.0), result.emit
        )
    for result in results:
        assert result.done.wait(30)
    failed = [r for r in results if "error" in r.last]
    assert failed and all(r.last["error"]["code"] == "INFERENCE_FAILED" for r in failed)
    assert all("error" in r.last or r.last.get("finish_reason") for r in results)
    after = run(engine, [(chat(engine, PROMPTS[0]), SamplingParams(max_tokens=4, temperature=0.0))])[0]
    assert after.last["finish_reason"] in ("stop", "length")
    assert engine.stats()["active"] == 0


class BrokenGrammar:
    """A constraint whose matcher fails after a few tokens."""

    def __init__(self) -> None:
        self.accepted = 0

    def mask(self, logits: np.ndarray) -> None:
        if self.accepted >= 3:
            raise RuntimeError("simulated grammar failure")

    def accept(self, token: int) -> None:
        self.accepted += 1


def test_a_broken_grammar_ends_its_sequence_only(engine: LlamaCppEngine) -> None:
    broken, healthy = Collected(), Collected()
    params = SamplingParams(max_tokens=12, temperature=0.0)
    engine.submit("g-broken", chat(engine, PROMPTS[0]), params, broken.emit, grammar=BrokenGrammar())
    engine.submit("g-healthy", chat(engine, PROMPTS[1]), params, healthy.emit)
    assert broken.done.wait(60) and healthy.done.wait(60)
    assert (
        broken.last["error"]["code"] == "INFERENCE_FAILED" and len(broken.events) == 4
    )  # 3 tokens, then the error
    assert healthy.last["finish_reason"] in ("stop", "length")
    assert engine.stats()["active"] == 0
