"""The local multi-replica mode, for real: two replicas of auth, registry, inference and the
gateway, started by ``meshserve up`` with ``MESHSERVE_REPLICAS`` over a real PostgreSQL and a real
Redis (session servers from tests.servers), each replica a process of its own.

What must hold with two of everything: a job submitted through gateway A is visible, cancellable and
finished through gateway B and through each inference replica; kill -9 of the replica running a job
leaves it to the other, which finishes it with one webhook and one callback; a prefetched answer is
a hit through either replica; a Socket.IO client of gateway B hears the requests gateway A serves; a
plugin loaded through one gateway is in force on both inference replicas; the autoscaler's
in-flight is the sum over both replicas; a fine-tune running on one replica is cancelled through
the other; a model unloaded or loaded through one replica is unloaded
or loaded, with the same batching, on both; and a model deleted (through a gateway or in the
registry directly) leaves both replicas.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import psycopg
import pytest
import socketio

from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import autoscaler_pb2_grpc as apb_grpc
from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import finetune_pb2 as fpb
from meshserve.v1 import finetune_pb2_grpc as fpb_grpc
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from meshserve.v1 import jobs_pb2 as jpb
from meshserve.v1 import jobs_pb2_grpc as jpb_grpc
from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from tests.procs import Mesh, run_mesh
from tests.servers import fresh_database
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MODEL = "smollm2-135m-instruct"
LONG = {"max_tokens": 120, "logit_bias": {"2": -100}}  # no end-of-turn: every item runs its length


class HA:
    """The running two-replica mesh and its addresses."""

    def __init__(self, mesh: Mesh, database_url: str, redis_url: str) -> None:
        self.mesh = mesh
        self.database_url = database_url
        self.redis_url = redis_url
        self.gateways = [mesh.base_url, f"http://127.0.0.1:{mesh.ports['gateway'] + 1}"]
        self.inference = [mesh.address("inference"), f"127.0.0.1:{mesh.ports['inference'] + 100}"]

    def jobs_stub(self, replica: int) -> jpb_grpc.JobServiceStub:
        return jpb_grpc.JobServiceStub(grpc.insecure_channel(self.inference[replica]))

    def inference_stub(self, replica: int) -> ipb_grpc.InferenceServiceStub:
        return ipb_grpc.InferenceServiceStub(grpc.insecure_channel(self.inference[replica]))

    def owner(self, job_id: str) -> tuple[str | None, int]:
        with psycopg.connect(self.database_url) as db:
            row = db.execute("SELECT owner, claims FROM jobs WHERE job_id = %s", (job_id,)).fetchone()
        assert row is not None
        return row[0], int(row[1])


@pytest.fixture(scope="module")
def ha(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str) -> Iterator[HA]:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    database = fresh_database(postgres_url)
    env = {
        "MESHSERVE_REPLICAS": "auth=2,registry=2,inference=2,gateway=2",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "MESHSERVE_INFERENCE_JOBS_LEASE_SECONDS": "3",
        "MESHSERVE_INFERENCE_JOBS_POLL_SECONDS": "0.2",
        "MESHSERVE_INFERENCE_JOBS_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "MESHSERVE_AUTOSCALER_METRICS_PERIOD_SECONDS": "0.5",
        "MESHSERVE_GATEWAY_EVENTS_PERIOD_SECONDS": "0.5",
        "MESHSERVE_INFERENCE_DELETED_MODEL_SWEEP_SECONDS": "0.5",
    }
    with run_mesh(tmp_path_factory.mktemp("ha"), env, timeout=300, preload_llm=True) as mesh:
        yield HA(mesh, database, redis_url)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def status(base: str, job_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{base}/api/ai/advanced/job/{job_id}/status", timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def submit(base: str, prompts: list[str], parameters: dict[str, Any], **config: Any) -> str:
    reply = httpx.post(
        f"{base}/api/ai/advanced/batch/create",
        json={
            "requests": [{"prompt": p, "parameters": parameters} for p in prompts],
            "config": {"batch_size": 1, **config},
        },
        timeout=60,
    )
    assert reply.status_code == 202, reply.text
    return str(reply.json()["job_id"])


def test_every_replica_is_listed_and_serving(ha: HA) -> None:
    for base in ha.gateways:
        reply = httpx.get(f"{base}/health", timeout=10)
        assert reply.status_code == 200, reply.text
    for replica in (0, 1):
        assert ha.inference_stub(replica).GetStats(ipb.GetStatsRequest(), timeout=10) is not None


def test_a_job_through_gateway_a_is_seen_and_finished_through_b_and_both_replicas(ha: HA) -> None:
    a, b = ha.gateways
    job_id = submit(a, ["Say hi.", "Name a colour."], {"max_tokens": 8})
    done = wait_for(lambda: (s := status(b, job_id))["status"] == "completed" and s, 180, "the job")
    assert [r["status"] for r in done["results"]] == ["completed", "completed"]
    for replica in (0, 1):  # either inference replica answers for it
        job = ha.jobs_stub(replica).GetJob(jpb.GetJobRequest(job_id=job_id), timeout=10).job
        assert job.job_id == job_id and len(job.results) == 2
    assert status(a, job_id)["results"] == done["results"]


def test_a_job_is_cancelled_through_the_other_gateway(ha: HA) -> None:
    a, b = ha.gateways
    job_id = submit(a, [f"Tell a long story {i}." for i in range(6)], LONG)
    wait_for(lambda: status(b, job_id)["status"] == "running", 120, "the job to start")
    reply = httpx.post(f"{b}/api/ai/advanced/job/{job_id}/cancel", timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "cancelled"
    for base in (a, b):
        assert status(base, job_id)["status"] == "cancelled"


def test_kill_9_of_the_replica_running_a_job_leaves_it_to_the_other(ha: HA, receiver: Receiver) -> None:
    a, b = ha.gateways
    hook = httpx.post(
        f"{a}/api/ai/webhooks/register",
        json={"url": f"{receiver.url}/hook", "events": ["job.completed"]},
        timeout=30,
    )
    assert hook.status_code in (200, 201), hook.text
    job_id = submit(
        a, [f"Describe city number {i}." for i in range(6)], LONG, callback_url=f"{receiver.url}/callback"
    )
    owner = wait_for(lambda: ha.owner(job_id)[0], 120, "a replica to claim the job")
    wait_for(lambda: status(b, job_id)["progress"]["completed"] >= 1, 180, "a first item")
    pid = int(owner.split(":")[1])
    os.kill(pid, signal.SIGKILL)
    done = wait_for(
        lambda: (s := status(b, job_id))["status"] in ("completed", "failed") and s, 240, "the job to finish"
    )
    assert done["status"] == "completed", done
    assert [r["status"] for r in done["results"]] == ["completed"] * 6
    final_owner, claims = ha.owner(job_id)
    assert claims >= 2 and final_owner is not None and int(final_owner.split(":")[1]) != pid
    time.sleep(2)  # any duplicate delivery would arrive by now
    mine = [r for r in receiver.received if r.json.get("data", {}).get("job_id") == job_id]
    assert len([r for r in mine if r.path == "/hook"]) == 1, [(r.path, r.headers) for r in mine]
    assert len([r for r in mine if r.path == "/callback"]) == 1, [(r.path, r.headers) for r in mine]


def test_an_answer_cached_through_one_replica_is_a_hit_through_the_other(ha: HA) -> None:
    a, b = ha.gateways
    prompt = f"Story {uuid.uuid4().hex[:8]}: Once upon a time"
    stored = httpx.post(
        f"{a}/api/ai/advanced/cache/prefetch",
        json={
            "model_id": "default",
            "prompts": [prompt],
            "config": {"ttl": 600},
            "parameters": {"max_tokens": 12},
        },
        timeout=300,
    )
    assert stored.status_code == 200, stored.text
    for replica in (0, 1):
        stats = ha.inference_stub(replica).GetCacheStats(ipb.GetCacheStatsRequest(), timeout=10)
        assert stats.entries >= 1
    asked = {"model_id": "default", "prompt": prompt, "parameters": {"max_tokens": 12, "temperature": 0}}
    hits = [httpx.post(f"{base}/api/ai/inference", json=asked, timeout=120).json() for base in (a, b, a, b)]
    assert all(h["cached"] is True for h in hits), hits  # four asks: both replicas served from Redis
    assert len({h["response"] for h in hits}) == 1
    counted = [
        ha.inference_stub(r).GetCacheStats(ipb.GetCacheStatsRequest(), timeout=10).hits for r in (0, 1)
    ]
    assert all(n >= 1 for n in counted), counted


async def test_a_socketio_client_of_gateway_b_hears_requests_served_by_gateway_a(ha: HA) -> None:
    """…and the gateways send these events through Redis only while some replica's client listens."""
    import redis.asyncio as redis

    a, b = ha.gateways
    client = socketio.AsyncClient()
    rid = f"ha-{uuid.uuid4().hex[:12]}"
    heard = asyncio.Event()

    @client.on("inference_completed")
    async def on_completed(data: dict[str, Any]) -> None:
        if data["data"]["request_id"] == rid:
            heard.set()

    shared = redis.Redis.from_url(ha.redis_url)
    relayed = shared.pubsub()
    await relayed.subscribe("meshserve.socketio")  # python-socketio's channel between the replicas

    async def complete_through_a(request_id: str) -> int:
        """One completion through gateway A; the events about it Redis carried meanwhile."""
        async with httpx.AsyncClient(timeout=120) as http:
            reply = await http.post(
                f"{a}/v1/completions",
                json={"model": MODEL, "prompt": "Hi", "max_tokens": 2},
                headers={"X-Request-ID": request_id},
            )
        assert reply.status_code == 200, reply.text
        carried, until = 0, time.monotonic() + 0.5
        while time.monotonic() < until:  # None also stands for a subscribe confirmation: read on
            message = await relayed.get_message(ignore_subscribe_messages=True, timeout=0.1)
            carried += message is not None and request_id.encode() in message["data"]
        return carried

    try:
        assert await complete_through_a(f"{rid}-unheard") == 0  # nobody listens: Redis carries nothing
        await client.connect(b, transports=["websocket"])
        ack = await client.call("subscribe", {"channels": ["inference_events"]}, timeout=5)
        assert ack["success"]
        assert await complete_through_a(rid) >= 1
        await asyncio.wait_for(heard.wait(), 15)
        await client.disconnect()
        deadline = time.monotonic() + 10
        while await complete_through_a(f"{rid}-{time.monotonic()}"):  # A hears that B's listener left
            assert time.monotonic() < deadline, "gateway A kept sending events nobody listens to"
    finally:
        await client.disconnect()
        await relayed.aclose()
        await shared.aclose()


def test_a_response_stored_through_one_replica_is_read_and_continued_through_the_other(ha: HA) -> None:
    a, b = ha.gateways
    asked = {"model": MODEL, "input": "Name a colour.", "temperature": 0, "max_output_tokens": 4}
    first = httpx.post(f"{a}/v1/responses", json=asked, timeout=120)
    assert first.status_code == 200, first.text
    response_id = first.json()["id"]
    for base in (a, b, a, b):  # each gateway reaches either inference replica
        read = httpx.get(f"{base}/v1/responses/{response_id}", timeout=30)
        assert read.status_code == 200, read.text
        assert {k: v for k, v in read.json().items() if v != first.json().get(k)} == {}, first.text
    stored = [
        ha.inference_stub(r)
        .GetStoredGeneration(ipb.GetStoredGenerationRequest(id=response_id), timeout=10)
        .generation
        for r in (0, 1)
    ]
    assert (
        stored[0] == stored[1] and stored[0].output.content == first.json()["output"][0]["content"][0]["text"]
    )
    follow = {**asked, "input": "Another one.", "previous_response_id": response_id}
    second = httpx.post(f"{b}/v1/responses", json=follow, timeout=120)
    assert second.status_code == 200, second.text
    items = httpx.get(f"{a}/v1/responses/{second.json()['id']}/input_items?order=asc", timeout=30).json()
    assert [i["role"] for i in items["data"]] == ["user", "assistant", "user"]
    conversation = httpx.post(f"{a}/v1/conversations", json={}, timeout=30).json()["id"]
    for base, text in ((a, "Name a colour."), (b, "Another one."), (a, "And one more.")):
        turn = {**asked, "input": text, "conversation": conversation}
        assert httpx.post(f"{base}/v1/responses", json=turn, timeout=120).status_code == 200
    kept = httpx.get(f"{b}/v1/conversations/{conversation}/items?order=asc", timeout=30).json()["data"]
    assert [i["role"] for i in kept] == ["user", "assistant"] * 3


def test_a_plugin_loaded_through_one_gateway_is_in_force_on_both_replicas(ha: HA) -> None:
    a, b = ha.gateways
    loaded = httpx.post(
        f"{a}/api/v1/plugins/prompt_guard/load",
        json={"config": {"settings": {"blocked_patterns": ["forbidden phrase"]}}},
        timeout=30,
    )
    assert loaded.status_code == 200, loaded.text
    try:

        def everywhere() -> bool:
            states = [
                {
                    p.id: p.status
                    for p in ha.inference_stub(r).ListPlugins(ipb.ListPluginsRequest(), timeout=10).plugins
                }
                for r in (0, 1)
            ]
            return all(s.get("prompt_guard") == ipb.PLUGIN_STATUS_LOADED for s in states)

        wait_for(everywhere, 10, "both replicas to load the plugin")
        for base in (a, b, a, b):  # round robin: each inference replica refuses it
            reply = httpx.post(
                f"{base}/v1/completions",
                json={"model": MODEL, "prompt": "say the forbidden phrase", "max_tokens": 2},
                timeout=60,
            )
            assert reply.status_code == 400, reply.text
    finally:
        httpx.delete(f"{b}/api/v1/plugins/prompt_guard/unload", timeout=30)


async def test_the_autoscaler_counts_in_flight_over_both_replicas(ha: HA) -> None:
    a, b = ha.gateways
    body = {"model": MODEL, "prompt": "Write a very long essay.", **LONG, "max_tokens": 400}
    autoscaler = apb_grpc.AutoscalerServiceStub(grpc.insecure_channel(ha.mesh.address("autoscaler")))

    def readings() -> tuple[int, int, float]:
        per_replica = []
        for replica in (0, 1):
            stats = ha.inference_stub(replica).GetStats(ipb.GetStatsRequest(), timeout=10)
            per_replica.append(sum(m.in_flight for m in stats.models if m.model_name == MODEL))
        latest = autoscaler.GetMetricsHistory(
            apb.GetMetricsHistoryRequest(timeframe_seconds=60), timeout=10
        ).latest
        pooled = sum(m.in_flight for m in latest.models if m.model_name == MODEL)
        return per_replica[0], per_replica[1], pooled

    async with httpx.AsyncClient(timeout=300) as http:
        load = [asyncio.create_task(http.post(f"{base}/v1/completions", json=body)) for base in (a, b, a, b)]
        try:
            deadline = time.monotonic() + 60
            seen: list[tuple[int, int, float]] = []
            while time.monotonic() < deadline:
                one, two, pooled = await asyncio.to_thread(readings)
                seen.append((one, two, pooled))
                if one > 0 and two > 0 and pooled == one + two:
                    break
                await asyncio.sleep(0.2)
            else:
                pytest.fail(f"the autoscaler never reported the sum of both replicas: {seen[-10:]}")
        finally:
            for task in load:
                task.cancel()
            await asyncio.gather(*load, return_exceptions=True)
    stats = autoscaler.GetAutoscalerStats(apb.GetAutoscalerStatsRequest(), timeout=10)
    assert stats is not None


def test_several_replicas_without_redis_are_refused_naming_what_breaks(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.procs import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({"MESHSERVE_DATA_DIR": str(tmp_path), "MESHSERVE_REPLICAS": "inference=2"})
    done = subprocess.run(
        [sys.executable, "-m", "services.launcher", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "need Redis" in done.stderr and "rate limits" in done.stderr
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"
    done = subprocess.run(
        [sys.executable, "-m", "services.launcher", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "need PostgreSQL" in done.stderr and "jobs" in done.stderr


def test_a_model_uploaded_through_one_gateway_serves_on_both_inference_replicas(ha: HA) -> None:
    import numpy as np

    from tests.inference.models import mlp, onnx_bytes, onnx_reference

    a, b = ha.gateways
    model = onnx_bytes(mlp(3))
    reply = httpx.post(
        f"{b}/v1/models",
        data={"name": "ha-mlp", "format": "onnx"},
        files={"file": ("mlp.onnx", model)},
        timeout=120,
    )
    assert reply.status_code == 201, reply.text
    batch = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    expected = onnx_reference(model, batch)
    for base in (a, b, a, b):  # each gateway's round robin reaches both inference replicas
        answer = httpx.post(f"{base}/v1/models/ha-mlp/predict", json={"inputs": batch.tolist()}, timeout=180)
        assert answer.status_code == 200, answer.text
        np.testing.assert_allclose(
            np.asarray(answer.json()["outputs"], dtype=np.float32), expected, rtol=1e-4, atol=1e-5
        )
    for replica in (0, 1):  # both replicas fetched the artifact from a registry replica and loaded it
        states = ha.inference_stub(replica).ListModelStates(ipb.ListModelStatesRequest(), timeout=10)
        assert any(s.model.name == "ha-mlp" and s.worker_ids for s in states.states), replica


ROW = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}


def served_everywhere(ha: HA, name: str) -> None:
    """Uploads a model through gateway B, has each inference replica load it, and predicts through
    both gateways."""
    from tests.inference.models import mlp, onnx_bytes

    reply = httpx.post(
        f"{ha.gateways[1]}/v1/models",
        data={"name": name, "format": "onnx"},
        files={"file": ("mlp.onnx", onnx_bytes(mlp(3)))},
        timeout=120,
    )
    assert reply.status_code == 201, reply.text
    for replica in (0, 1):
        load = ipb.LoadModelRequest(model=cpb.ModelRef(name=name), this_replica_only=True)
        ha.inference_stub(replica).LoadModel(load, timeout=120)
    for base in ha.gateways:
        answer = httpx.post(f"{base}/v1/models/{name}/predict", json=ROW, timeout=180)
        assert answer.status_code == 200, answer.text
    assert all(held(ha, replica, name) for replica in (0, 1))


def held(ha: HA, replica: int, name: str) -> list[ipb.ModelState]:
    """The states of ``name`` that one inference replica lists, those with workers."""
    states = ha.inference_stub(replica).ListModelStates(ipb.ListModelStatesRequest(), timeout=10).states
    return [s for s in states if s.model.name == name and s.worker_ids]


def listed(ha: HA, replica: int, name: str) -> bool:
    states = ha.inference_stub(replica).ListModelStates(ipb.ListModelStatesRequest(), timeout=10).states
    return any(s.model.name == name for s in states)


def test_an_unload_and_a_load_through_one_replica_reach_both(ha: HA) -> None:
    served_everywhere(ha, "ha-unload")
    a, b = ha.gateways
    unloaded = httpx.delete(f"{a}/api/v1/models/ha-unload/unload", timeout=60)
    assert unloaded.status_code == 200, unloaded.text
    for replica in (0, 1):
        assert not held(ha, replica, "ha-unload"), replica
    for base in (a, b, a, b):  # no replica serves it on demand: it was unloaded everywhere
        answer = httpx.post(f"{base}/v1/models/ha-unload/predict", json=ROW, timeout=60)
        assert answer.status_code == 409 and answer.json()["error"]["reason"] == "MODEL_NOT_LOADED", (
            answer.text
        )
    # A load through one replica, with its own batching: both place it, configured alike.
    ha.inference_stub(1).LoadModel(
        ipb.LoadModelRequest(
            model=cpb.ModelRef(name="ha-unload"), batching=ipb.BatchingConfig(max_batch_size=4)
        ),
        timeout=120,
    )
    for replica in (0, 1):
        [state] = held(ha, replica, "ha-unload")
        assert state.status == cpb.MODEL_STATUS_LOADED and state.batching.max_batch_size == 4, replica
    for base in (a, b, a, b):
        answer = httpx.post(f"{base}/v1/models/ha-unload/predict", json=ROW, timeout=60)
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("through", ["gateway", "registry"])
def test_a_deleted_model_leaves_both_replicas(ha: HA, through: str) -> None:
    name = f"ha-deleted-{through}"
    served_everywhere(ha, name)
    if through == "gateway":
        deleted = httpx.delete(f"{ha.gateways[0]}/v1/models/{name}", timeout=60)
        assert deleted.status_code == 200, deleted.text
    else:  # the registry's own DeleteModel, which tells no inference replica
        registry = rpb_grpc.RegistryServiceStub(grpc.insecure_channel(ha.mesh.address("registry")))
        registry.DeleteModel(
            rpb.DeleteModelRequest(ref=cpb.ModelRef(name=name), all_versions=True), timeout=30
        )
    # Each replica asks the registry about what it holds every 0.5 s here (10 s by default).
    wait_for(lambda: not listed(ha, 0, name) and not listed(ha, 1, name), 20, "both replicas to let go")
    for base in ha.gateways:
        answer = httpx.post(f"{base}/v1/models/{name}/predict", json=ROW, timeout=60)
        assert answer.status_code == 404, answer.text
    for replica in (0, 1):  # nor does it linger in the statistics (what the autoscaler sums)
        stats = ha.inference_stub(replica).GetStats(ipb.GetStatsRequest(), timeout=10)
        assert not [m.model_name for m in stats.models if m.model_name.startswith(name)], replica


def test_a_fine_tune_running_on_one_replica_is_cancelled_through_the_other(ha: HA) -> None:
    owner, other = (fpb_grpc.FineTuneServiceStub(grpc.insecure_channel(a)) for a in ha.inference)
    example = fpb.TrainingExample(
        turns=[fpb.ExampleTurn(role="user", content="Hi"), fpb.ExampleTurn(role="assistant", content="Arr!")]
    )
    started = owner.CreateFineTune(
        fpb.CreateFineTuneRequest(
            base_model=MODEL,
            examples=[example] * 8,
            config=fpb.FineTuneConfig(epochs=20, batch_size=1, validation_split=0),
            output_name="ha-never",
        ),
        timeout=60,
    ).fine_tune
    # The other replica asks the owner (a flag in the shared store) and answers once it stopped.
    cancelled = other.CancelFineTune(fpb.CancelFineTuneRequest(fine_tune_id=started.fine_tune_id), timeout=60)
    assert cancelled.fine_tune.status == "cancelled", cancelled
    seen = owner.GetFineTune(fpb.GetFineTuneRequest(fine_tune_id=started.fine_tune_id), timeout=10)
    assert seen.fine_tune.status == "cancelled"
    with pytest.raises(grpc.RpcError) as again:
        other.CancelFineTune(fpb.CancelFineTuneRequest(fine_tune_id=started.fine_tune_id), timeout=60)
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert httpx.get(f"{ha.gateways[0]}/v1/models/ha-never", timeout=30).status_code == 404


def test_a_superseded_language_model_version_leaves_and_the_newest_stays(ha: HA) -> None:
    """A registry language model re-quantized into a new version: each replica lets go of the old
    version's weights, and only of them (the newest version serving beside them stays)."""
    from tests.textgen.conftest import register_bundled_gguf

    register_bundled_gguf(ha.mesh, "ha-llm")

    def load_everywhere() -> None:
        for replica in (0, 1):
            load = ipb.LoadModelRequest(model=cpb.ModelRef(name="ha-llm"), this_replica_only=True)
            ha.inference_stub(replica).LoadModel(load, timeout=300)

    load_everywhere()
    optimized = httpx.post(
        f"{ha.gateways[0]}/api/ai/advanced/optimize/model",
        json={"model_id": "ha-llm", "quantization": "8-bit"},
        timeout=600,
    )
    assert optimized.status_code == 201, optimized.text
    registry = rpb_grpc.RegistryServiceStub(grpc.insecure_channel(ha.mesh.address("registry")))
    stored = registry.GetModel(rpb.GetModelRequest(ref=cpb.ModelRef(name="ha-llm")), timeout=30).model
    assert stored.version == optimized.json()["model"]["version"]
    newest = f"llm--ha-llm--{stored.sha256[:12]}"
    time.sleep(2.5)  # the replicas' registry look-ups (2 s) see the new version
    load_everywhere()  # the newest version placed, maybe beside the old one until a sweep

    def only_the_newest() -> bool:
        return all([s.triton_name for s in held(ha, r, "ha-llm")] == [newest] for r in (0, 1))

    wait_for(only_the_newest, 20, "each replica to hold the newest version alone")
    time.sleep(1.5)  # three more sweeps: the newest stays
    assert only_the_newest()


def test_the_autoscaler_sizes_the_pool_over_both_inference_replicas(ha: HA) -> None:
    """A pool size is a mesh-wide count: each inference replica runs its share of the workers."""
    autoscaler = apb_grpc.AutoscalerServiceStub(grpc.insecure_channel(ha.mesh.address("autoscaler")))

    def workers() -> tuple[int, ...]:
        listed = [
            ha.inference_stub(r).ListWorkers(ipb.ListWorkersRequest(), timeout=10).workers for r in (0, 1)
        ]
        return tuple(sum(1 for w in each if w.state != "stopping") for each in listed)

    before = sum(workers())
    try:
        decision = autoscaler.Scale(
            apb.ScaleRequest(target="*", replicas=3, reason="test"), timeout=120
        ).decision
        assert decision.to_replicas == 3 and decision.from_replicas == before
        assert wait_for(lambda: sorted(workers()) == [1, 2], 120, "three workers over two replicas")
    finally:
        autoscaler.Scale(apb.ScaleRequest(target="*", replicas=2, reason="test"), timeout=120)
    assert wait_for(lambda: workers() == (1, 1), 120, "one worker on each replica")
