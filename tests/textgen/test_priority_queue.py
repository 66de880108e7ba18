"""Premium plans go first, over real sockets: a mesh whose language model has one batch slot, a queue
of free-plan generations, and pro-plan ones sent while it is long. The pro requests wait a fraction of
what the free ones wait, and every free request still completes. A tensor prediction on a plan passes
through Triton's priority queue (the model's config carries the levels) and succeeds."""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.common.context import CALLER_HEADER, PLAN_HEADER
from services.common.internal_auth import INTERNAL_TOKEN_HEADER
from services.inference.generation import QUEUE_SECONDS_TRAILER
from services.inference.priority import TRITON_PRIORITY_LEVELS
from services.inference.tensors import from_numpy, to_numpy
from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

TOKEN = secrets.token_urlsafe(24)
FREE, PRO = 12, 4
#: Sixteen tokens each: SmolLM2's end-of-turn token banned, so every generation is the same length.
#: Long enough that the free queue lasts a few seconds: with four tokens it drained in about a
#: second, and once, beside a busy test worker, before the test had seen it form.
SAMPLING = pb.SamplingParams(max_tokens=16, temperature=0.0, logit_bias={2: -100.0})


@pytest.fixture(scope="module")
def one_slot_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """Every service with auth on, the language model decoding one sequence at a time."""
    env = {
        "ENABLE_AUTH": "true",
        "MESHSERVE_JWT_SECRET": secrets.token_urlsafe(48),
        "MESHSERVE_INTERNAL_TOKEN": TOKEN,
        "MESHSERVE_INFERENCE_LLM_MAX_BATCH": "1",
        # A pro head start of 100 s: on a slow, shared machine no free request here ages past it, so
        # the pro requests go first whenever they come (aging itself: tests/inference/test_priority.py).
        "MESHSERVE_INFERENCE_LLM_PRIORITY_AGING_SECONDS": "10",
        # Tensor models' Triton priority levels are opt-in (see services/inference/settings.py).
        "MESHSERVE_INFERENCE_TRITON_PRIORITY": "true",
    }
    with run_mesh(tmp_path_factory.mktemp("priority"), env, preload_llm=True) as mesh:
        yield mesh


def metadata(plan: str) -> tuple[tuple[str, str], ...]:
    """A direct call as the gateway makes it: the internal token, the caller and the tenant's plan."""
    return ((INTERNAL_TOKEN_HEADER, TOKEN), (CALLER_HEADER, f"{plan}-user"), (PLAN_HEADER, plan))


def generate(stub: Any, plan: str, prompt: str) -> tuple[str, float]:
    """One generation to its end: its finish reason and the queue wait the service reports."""
    call = stub.Generate(
        pb.GenerateRequest(model=common.ModelRef(name="default"), prompt=prompt, sampling=SAMPLING),
        timeout=300,
        metadata=metadata(plan),
    )
    finish = [pb.FinishReason.Name(r.finish_reason) for r in call if r.finish_reason]
    waited = float(dict(call.trailing_metadata())[QUEUE_SECONDS_TRAILER])
    return ",".join(finish), waited


def waiting(stub: Any) -> int:
    reply = stub.GetGenerationStats(pb.GetGenerationStatsRequest(), timeout=10, metadata=metadata("free"))
    return sum(m.waiting_sequences for m in reply.models)


def test_premium_generations_wait_a_fraction_of_free_ones(one_slot_mesh: Mesh) -> None:
    results: dict[str, list[tuple[str, float]]] = {"free": [], "pro": []}
    errors: list[BaseException] = []
    with grpc.insecure_channel(one_slot_mesh.address("inference")) as channel:
        stub = pb_grpc.InferenceServiceStub(channel)
        assert generate(stub, "free", "Hello")[0] == "FINISH_REASON_LENGTH"  # the model is loaded

        def run(plan: str, prompt: str) -> None:
            try:
                results[plan].append(generate(stub, plan, prompt))
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)

        free = [threading.Thread(target=run, args=("free", f"Story number {i}:")) for i in range(FREE)]
        for thread in free:
            thread.start()
        deadline = time.monotonic() + 60
        while waiting(stub) < FREE // 2:  # a queue has formed behind the one slot
            assert time.monotonic() < deadline, "no queue formed"
            assert any(t.is_alive() for t in free), (
                "the free requests ended before a queue was seen",
                results,
            )
            time.sleep(0.05)
        for i in range(PRO):  # one premium caller, one request after another, while free ones queue
            run("pro", f"Premium question {i}:")
        for thread in free:
            thread.join(300)
    assert not errors, errors
    assert len(results["free"]) == FREE and len(results["pro"]) == PRO
    assert all(finish == "FINISH_REASON_LENGTH" for finish, _ in results["free"] + results["pro"])
    free_median = statistics.median(w for _, w in results["free"])
    pro_median = statistics.median(w for _, w in results["pro"])
    print(f"queue wait medians: free {free_median:.3f} s, pro {pro_median:.3f} s")
    print("free waits:", sorted(round(w, 3) for _, w in results["free"]))
    print("pro waits:", [round(w, 3) for _, w in results["pro"]])
    assert pro_median < free_median / 4


def test_a_tensor_prediction_on_a_plan_goes_through_triton_priority_levels(one_slot_mesh: Mesh) -> None:
    with grpc.insecure_channel(one_slot_mesh.address("inference")) as channel:
        stub = pb_grpc.InferenceServiceStub(channel)
        for plan in ("enterprise", "pro", "free"):
            reply = stub.Predict(
                pb.PredictRequest(
                    model=common.ModelRef(name="example"),
                    inputs=[from_numpy("", np.array([[1.0, 2.0]], np.float32))],
                ),
                timeout=120,
                metadata=metadata(plan),
            )
            assert to_numpy(reply.outputs[0]).tolist() == [[3.0, 5.0]]  # example: 2x + 1
    configs = list(one_slot_mesh.data_dir.rglob("example--v1--*/config.pbtxt"))
    assert configs, "the example model's Triton config was not written"
    config = configs[0].read_text()
    assert f"priority_levels: {TRITON_PRIORITY_LEVELS}" in config
    assert f"default_priority_level: {TRITON_PRIORITY_LEVELS}" in config
