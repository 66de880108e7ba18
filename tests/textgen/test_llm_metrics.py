"""The language-model metrics one sequence records: its first text as time to first token, each
later one as an inter-token gap, its tokens when it finishes, and its place in flight until it leaves."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.inference.llm.metrics import SequenceClock


def value(name: str, model: str) -> float:
    return REGISTRY.get_sample_value(name, {"model": model}) or 0.0


def test_a_sequence_is_timed_and_counted_once() -> None:
    model = "clocked-model"
    clock = SequenceClock(model)
    assert value("meshserve_llm_sequences_in_flight", model) == 1
    for _ in range(3):
        clock.text()
    clock.finished(prompt_tokens=7, completion_tokens=3)
    clock.close()
    assert value("meshserve_llm_time_to_first_token_seconds_count", model) == 1
    assert value("meshserve_llm_inter_token_seconds_count", model) == 2
    assert value("meshserve_llm_completion_tokens_total", model) == 3
    assert value("meshserve_llm_prompt_tokens_total", model) == 7
    assert value("meshserve_llm_sequences_in_flight", model) == 0
