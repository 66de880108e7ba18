"""Queue priority without a model: the plan → priority lookup, the rank with aging (a free request
is never starved by premium ones arriving after it), the scheduler admitting in that order, the
worker protocol carrying the priority, and the tensor path's Triton levels and config."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.common.context import Tenant, tenant_var
from services.inference.llm.engine_info import EngineInfo
from services.inference.llm.metrics import SequenceClock
from services.inference.llm.requests import GenerationRequest, SamplingRequest, build_job
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.scheduler import ContinuousBatcher
from services.inference.llm.sequence import Sequence
from services.inference.priority import (
    TRITON_PRIORITY_LEVELS,
    AgingQueue,
    current_priority,
    current_triton_level,
    priority_of,
    triton_level,
    use_plans,
)
from services.inference.repository import Batching, ModelSpec, config_pbtxt
from services.inference.tensors import WireTensor
from services.inference.triton_http import encode_request


def in_plan(plan: str, call: Any) -> Any:
    """``call()`` in a context whose tenant is on ``plan`` (as the server interceptor sets it)."""
    context = contextvars.copy_context()
    context.run(tenant_var.set, Tenant(plan=plan))
    return context.run(call)


def test_plans_map_to_priorities_and_the_lookup_is_replaceable() -> None:
    assert [priority_of(p) for p in ("anonymous", "free", "pro", "enterprise", "nope")] == [0, 0, 10, 20, 0]
    assert current_priority() == 0  # a direct call without a plan
    assert in_plan("pro", current_priority) == 10
    use_plans(lambda plan: {"gold": 7}[plan])
    try:
        assert in_plan("gold", current_priority) == 7
        assert in_plan("pro", current_priority) == 0  # unknown to the new lookup
    finally:
        use_plans(None)
    assert in_plan("enterprise", current_priority) == 20


def test_a_premium_head_start_is_bounded_by_aging() -> None:
    queue: AgingQueue[str] = AgingQueue()
    queue.push("free", enqueued_at=0.0, priority=0, aging_seconds=1.0)
    queue.push("pro-soon", enqueued_at=5.0, priority=10, aging_seconds=1.0)  # within its 10 s head start
    queue.push("pro-late", enqueued_at=11.0, priority=10, aging_seconds=1.0)  # the free one waited longer
    queue.push("free-later", enqueued_at=2.0, priority=0, aging_seconds=1.0)
    # ranks: pro-soon -5, free 0, pro-late 1, free-later 2
    assert [queue.pop() for _ in range(len(queue))] == ["pro-soon", "free", "pro-late", "free-later"]


def test_a_free_request_is_never_starved_by_a_stream_of_premium_ones() -> None:
    """One slot serving one item a second, a premium request arriving every half second (an
    overload that never ends): the free request queued first waits only for the premium requests
    that arrived within its 10 s head start (20 of them), then goes before every later one."""
    queue: AgingQueue[str] = AgingQueue()
    queue.push("free", enqueued_at=0.0, priority=0, aging_seconds=1.0)
    arrived = 0
    for second in range(1, 60):
        while arrived * 0.5 <= second:
            queue.push(f"pro-{arrived}", enqueued_at=arrived * 0.5, priority=10, aging_seconds=1.0)
            arrived += 1
        if queue.pop() == "free":
            break
    else:
        pytest.fail("the free request was starved")
    assert second == 21  # 20 premium requests served before it, none of those arriving after 10 s


class Recording(ContinuousBatcher):
    """A model-free engine with one slot: each sequence ends on its first step; the first step
    blocks until ``release`` so that a queue forms behind it."""

    def __init__(self) -> None:
        super().__init__(EngineInfo("fake", "cpu", 64, vocab_size=8), _Chars(), frozenset({0}), 1, "fake")
        self.order: list[str] = []
        self.release = threading.Event()
        self._start()

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        return [1]

    def _step(self, admitted: list[Sequence]) -> None:
        for seq in admitted:
            self.order.append(seq.id)
            self._join(seq)
            self.release.wait(10)
            self._accept(seq, 0, 0.0)

    def _release(self, gone: list[Sequence]) -> None:
        pass


class _Chars:
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(65 + i) for i in ids)


def test_the_scheduler_admits_by_rank_and_reports_each_wait() -> None:
    engine = Recording()
    finals: dict[str, dict[str, Any]] = {}
    done = threading.Event()
    params = SamplingParams(max_tokens=1)

    def submit(name: str, priority: int) -> None:
        def emit(event: dict[str, Any]) -> None:
            finals[name] = event
            if len(finals) == 5:
                done.set()

        engine.submit(name, [1], params, emit, priority=priority, aging_seconds=0.01)

    try:
        submit("busy", 0)
        while not engine.order:  # "busy" holds the one slot
            time.sleep(0.01)
        submit("free-old", 0)
        time.sleep(0.3)  # longer than pro's head start (10 levels x 0.01 s)
        submit("pro-1", 10)
        submit("free-new", 0)
        submit("pro-2", 10)
        engine.release.set()
        assert done.wait(10)
    finally:
        engine.stop()
    assert engine.order == ["busy", "free-old", "pro-1", "pro-2", "free-new"]
    assert all(e["finish_reason"] == "stop" for e in finals.values())
    waits = {name: e["queue_seconds"] for name, e in finals.items()}
    assert waits["busy"] < 0.1 and waits["free-old"] >= 0.3  # it waited behind "busy"


def test_a_job_carries_its_priority_to_the_worker_but_not_into_the_cache_key() -> None:
    request = GenerationRequest(model="m", prompt="hi", sampling=SamplingRequest(max_tokens=2))
    free = build_job(request, default_max_tokens=8, max_prompt_chars=100)
    pro = build_job(request, default_max_tokens=8, max_prompt_chars=100, priority=10, aging_seconds=1.0)
    body = pro.body()
    assert (body["priority"], body["aging_seconds"]) == (10, 1.0)
    assert pro.key() == free.key()
    assert "priority" not in json.loads(pro.key())


def test_triton_levels_and_the_tensor_models_config() -> None:
    assert [triton_level(p) for p in (-5, 0, 9, 10, 20, 99)] == [3, 3, 3, 2, 1, 1]
    assert current_triton_level() == 0  # the default level: nothing is sent
    assert in_plan("pro", current_triton_level) == 2
    assert in_plan("enterprise", current_triton_level) == 1
    spec = ModelSpec(
        name="t",
        version="1",
        format="onnx",
        inputs=[{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
        outputs=[{"name": "y", "datatype": "FP32", "shape": [-1, 2]}],
    )
    leveled = Batching(8, (4,), 100, priority_levels=TRITON_PRIORITY_LEVELS)
    batcher = config_pbtxt("t--v1", spec, leveled, "cpu")
    batcher = batcher[batcher.index("dynamic_batching {") :]
    assert f"priority_levels: {TRITON_PRIORITY_LEVELS}" in batcher
    assert f"default_priority_level: {TRITON_PRIORITY_LEVELS}" in batcher
    assert "priority_levels" not in config_pbtxt("t--v1", spec, Batching(0, priority_levels=3), "cpu")
    # By default one plain queue and no queue policy: with either, the bundled Triton's batcher at
    # times sleeps its 500 ms idle wait with requests queued.
    plain = config_pbtxt("t--v1", spec, Batching(8, (4,), 100, queue_timeout_microseconds=60_000_000), "cpu")
    assert "dynamic_batching {" in plain and "priority" not in plain and "queue_policy" not in plain
    bounded = config_pbtxt("t--v1", spec, Batching(8, (4,), 100, max_queue_size=5), "cpu")
    assert "default_queue_policy {" in bounded and "max_queue_size: 5" in bounded
    assert "priority" not in bounded


def test_a_request_names_its_triton_level_only_when_it_has_one() -> None:
    x = [WireTensor("x", "FP32", (1, 4), bytes(16))]

    def header(priority: int) -> dict[str, Any]:
        body, length = encode_request(x, [], "r", {}, priority)
        return dict(json.loads(body[:length]))

    assert header(2)["parameters"]["priority"] == 2
    assert "priority" not in header(0)["parameters"]


def test_each_wait_is_observed_by_priority() -> None:
    for priority, waited in ((10, 0.02), (0, 3.0), (0, 4.0)):
        clock = SequenceClock("queued-model", priority)
        clock.finished(prompt_tokens=1, completion_tokens=1, queue_seconds=waited)
        clock.close()

    def sample(name: str, priority: str) -> float:
        labels = {"model": "queued-model", "priority": priority}
        return REGISTRY.get_sample_value(f"meshserve_llm_queue_wait_seconds_{name}", labels) or 0.0

    assert (sample("count", "10"), sample("sum", "10")) == (1, 0.02)
    assert (sample("count", "0"), sample("sum", "0")) == (2, 7.0)
