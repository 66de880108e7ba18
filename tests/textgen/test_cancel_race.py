"""A ``cancel`` op that arrives while the scheduler asks Triton whether the caller went away is
never lost: the sequence leaves at the end of that step (it used to generate on, holding its slot,
until its stream was cancelled 5 s later)."""

from __future__ import annotations

import threading
from typing import Any

from services.inference.llm.engine_info import EngineInfo
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.scheduler import ContinuousBatcher
from services.inference.llm.sequence import Sequence


class _Chars:
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(65 + i) for i in ids)


class Endless(ContinuousBatcher):
    """A model-free engine whose sequences generate token 1 at every step, never an end token."""

    def __init__(self) -> None:
        super().__init__(EngineInfo("fake", "cpu", 4096, vocab_size=8), _Chars(), frozenset({0}), 2, "fake")
        self._start()

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        return [1]

    def _step(self, admitted: list[Sequence]) -> None:
        for seq in admitted:
            self._join(seq)
        for seq in self._running:
            self._accept(seq, 1, 0.0)

    def _release(self, gone: list[Sequence]) -> None:
        pass


def test_a_cancel_during_the_is_cancelled_call_drops_the_sequence() -> None:
    engine = Endless()
    events: list[dict[str, Any]] = []
    done = threading.Event()
    asked = 0

    def emit(event: dict[str, Any]) -> None:
        events.append(event)
        if "finish_reason" in event or "cancelled" in event:
            done.set()

    def is_cancelled() -> bool:
        """Triton's answer is False, but the worker's cancel op lands while it is being asked."""
        nonlocal asked
        asked += 1
        if asked == 3:
            canceller = threading.Thread(target=engine.cancel, args=("s",))
            canceller.start()
            canceller.join()
        return False

    try:
        engine.submit("s", [1], SamplingParams(max_tokens=2000, temperature=0.0), emit, is_cancelled)
        assert done.wait(10)
        assert events[-1].get("cancelled") is True, events[-1]
        assert events[-1]["usage"]["completion_tokens"] < 10
        assert engine.stats()["active"] == 0
    finally:
        engine.stop()
