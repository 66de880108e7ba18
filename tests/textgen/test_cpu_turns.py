"""Engines on one CPU take turns on its cores: a turn held in one process keeps another process's
turn waiting until it ends (real processes, a real file lock)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from services.inference.llm.engines.cpu_turns import CpuTurns


def _hold(path: str, seconds: float, started: multiprocessing.synchronize.Event) -> None:
    turns = CpuTurns(Path(path))
    with turns.turn():
        started.set()
        time.sleep(seconds)


def test_a_turn_waits_for_another_processes_turn_to_end(tmp_path: Path) -> None:
    path = tmp_path / "turns.lock"
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    holder = context.Process(target=_hold, args=(str(path), 0.8, started))
    holder.start()
    assert started.wait(30)
    turns = CpuTurns(path)
    waited = time.monotonic()
    with turns.turn():
        waited = time.monotonic() - waited
    holder.join(10)
    turns.close()
    assert 0.4 < waited < 5, waited  # it waited for the other turn, which then ended


def test_turns_without_a_path_never_wait(tmp_path: Path) -> None:
    one, other = CpuTurns(None), CpuTurns(None)
    with one.turn(), other.turn():  # would deadlock if they shared a lock
        pass


def test_turns_in_one_process_take_turns_too(tmp_path: Path) -> None:
    # flock locks belong to open files: two engines' turns in one process exclude each other too.
    path = tmp_path / "turns.lock"
    first, second = CpuTurns(path), CpuTurns(path)
    order: list[str] = []

    def take_second() -> None:
        with second.turn():
            order.append("second")

    with first.turn():
        thread = threading.Thread(target=take_second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]
    first.close()
    second.close()
