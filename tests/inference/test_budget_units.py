"""The memory budget's plan: least recently used idle models go first; busy ones never; a model that
cannot fit is refused with INSUFFICIENT_MEMORY naming the budget and the need."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import InsufficientMemory
from services.inference.budget import MB, Resident, plan_room


def resident(name: str, size_mb: int, last_used: float, busy: bool = False) -> Resident:
    return Resident(name, size_mb * MB, last_used, busy)


def test_fits_without_unloading() -> None:
    assert plan_room(1000 * MB, "new", 300 * MB, [resident("a", 600, 1.0)]) == []


def test_least_recently_used_idle_models_go_first() -> None:
    loaded = [resident("old", 300, 1.0), resident("busy", 300, 0.5, busy=True), resident("recent", 300, 9.0)]
    assert plan_room(1000 * MB, "new", 400 * MB, loaded) == ["old"]
    assert plan_room(1000 * MB, "new", 700 * MB, loaded) == ["old", "recent"]


def test_the_model_itself_is_not_counted() -> None:
    assert plan_room(1000 * MB, "a", 900 * MB, [resident("a", 900, 1.0)]) == []


def test_a_model_larger_than_the_budget_is_refused() -> None:
    with pytest.raises(InsufficientMemory) as caught:
        plan_room(500 * MB, "big", 600 * MB, [])
    assert caught.value.details == {"model": "big", "budget_bytes": 500 * MB, "required_bytes": 600 * MB}
    assert "600 MB" in caught.value.message and "500 MB" in caught.value.message


def test_busy_models_are_never_unloaded() -> None:
    with pytest.raises(InsufficientMemory) as caught:
        plan_room(1000 * MB, "new", 500 * MB, [resident("busy", 600, 1.0, busy=True)])
    assert caught.value.details["busy_bytes"] == 600 * MB


def test_language_model_estimates_err_high(tmp_path: Path) -> None:
    from services.common.bundled import SMOLLM2_GGUF
    from services.inference.llm.memory import RUNTIME_BYTES, TORCH_RUNTIME_BYTES, estimate_bytes
    from services.inference.llm.model_dir import LLMSpec

    assert SMOLLM2_GGUF.path is not None
    spec = LLMSpec("m", SMOLLM2_GGUF.path, max_batch=16, context_tokens=2048)
    kv = 30 * 2048 * 16 * 3 * (64 + 64) * 2  # layers x cells x kv heads x (key + value) x f16
    assert estimate_bytes(spec) == RUNTIME_BYTES + SMOLLM2_GGUF.path.stat().st_size + kv
    directory = tmp_path / "hf"
    directory.mkdir()
    (directory / "model.safetensors").write_bytes(b"x" * 1000)
    assert estimate_bytes(LLMSpec("d", directory)) == TORCH_RUNTIME_BYTES + 2000
