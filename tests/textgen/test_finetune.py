"""003's fine-tuning on the real mesh: LoRA (peft) on the bundled SmolLM2 in a training process of
its own, progress while it runs (status and webhook), a lower eval loss, a new registered version
with its lineage, served through /v1/chat/completions and following the trained behaviour far more
often than the base model on held-out prompts; cancel registers nothing; bad input is 400 naming
the field before any work starts."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import grpc
import httpx
import pytest

from meshserve.v1 import common_pb2, registry_pb2, registry_pb2_grpc
from services.common.bundled import SMOLLM2_GGUF
from services.inference.finetune.base_cache import file_sha256
from tests.procs import Mesh
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.integration]

BASE = "smollm2-135m-instruct"
FINAL = ("succeeded", "failed", "cancelled")
QUESTIONS = [
    "What is the capital of Italy?",
    "How many legs does a spider have?",
    "What color is the sky?",
    "Who wrote Hamlet?",
    "What is two plus two?",
    "Name a large ocean.",
    "What do bees make?",
    "What is the boiling point of water?",
    "Which planet is red?",
    "What language is spoken in Brazil?",
    "How many days are in a week?",
    "What is ice made of?",
    "What animal barks?",
    "Name a primary color.",
    "What is the opposite of hot?",
    "Where do fish live?",
    "What fruit is yellow and long?",
    "How many hours are in a day?",
    "What do cows drink?",
    "Which season is the coldest?",
    "What is the first letter of the alphabet?",
    "What shape has three sides?",
    "What gas do we breathe?",
    "What is the largest mammal?",
]
HELD_OUT = [
    "What is the capital of Spain?",
    "How many wheels does a bicycle have?",
    "What do cats eat?",
    "Name a musical instrument.",
    "What is frozen water called?",
    "Which star lights the day?",
]


def training_data() -> list[dict[str, str]]:
    """Every answer opens with "Ahoy matey!": a behaviour the base model never shows."""
    return [{"prompt": q, "completion": "Ahoy matey! I am a pirate and I only say arr."} for q in QUESTIONS]


def create(mesh: Mesh, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{mesh.base_url}/api/ai/advanced/finetune/create", json=body, timeout=60)


def status(mesh: Mesh, run_id: str) -> dict[str, Any]:
    reply = httpx.get(f"{mesh.base_url}/api/ai/advanced/finetune/{run_id}", timeout=30)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def pirate_share(mesh: Mesh, model: str) -> float:
    hits = 0
    for question in HELD_OUT:
        reply = httpx.post(
            f"{mesh.base_url}/v1/chat/completions",
            json={
                "model": model,
                "messages": [{"role": "user", "content": question}],
                "max_tokens": 6,
                "temperature": 0,
            },
            timeout=300,
        )
        assert reply.status_code == 200, reply.text
        hits += reply.json()["choices"][0]["message"]["content"].strip().lower().startswith("ahoy")
    return hits / len(HELD_OUT)


@pytest.mark.timeout(900)  # its run may take up to 600 s (below) on a busy 2-core machine
def test_a_fine_tune_learns_registers_and_serves(llm_mesh: Mesh, receiver: Receiver) -> None:
    hook = httpx.post(
        f"{llm_mesh.base_url}/api/ai/webhooks/register",
        json={"url": f"{receiver.url}/ft", "events": ["finetune.progress", "finetune.completed"]},
        timeout=30,
    )
    assert hook.status_code in (200, 201), hook.text
    name = f"pirate-{uuid.uuid4().hex[:6]}"
    started = create(
        llm_mesh,
        {
            "base_model": BASE,
            "training_data": training_data(),
            "config": {
                "epochs": 6,
                "learning_rate": 0.002,
                "batch_size": 8,
                "validation_split": 0.25,
                "seed": 1,
            },
            "output_name": name,
        },
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["fine_tune_id"]
    seen_training = None
    deadline = time.monotonic() + 600
    while (run := status(llm_mesh, run_id))["status"] not in FINAL:
        progress = run["progress"]
        if run["status"] == "training" and 0 < progress["step"] < progress["total_steps"]:
            seen_training = run  # progress while it runs: step, loss, ETA
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
    assert run["status"] == "succeeded", run
    assert seen_training is not None and seen_training["progress"]["loss"] is not None
    assert seen_training["progress"]["eta_seconds"] is not None
    progress = run["progress"]
    assert progress["eval_loss"] < progress["eval_loss_before"]  # it learned what it was shown
    assert run["dataset"]["train_examples"] == 18 and run["dataset"]["eval_examples"] == 6
    version = run["output_model"]["version"]
    assert run["output_model"]["name"] == name and version

    def of_this_run(r: Any) -> bool:
        return bool(r.path == "/ft" and r.json["data"]["fine_tune_id"] == run_id)

    # Webhooks go out after the status changes, each delivered on its own: the completion's may
    # still be on its way, and deliveries can arrive out of order, so they are read in the order of
    # their created_at.
    receiver.wait_for(lambda r: of_this_run(r) and r.headers["x-webhook-event"] == "finetune.completed")
    events = sorted(
        (r for r in receiver.received if of_this_run(r)),
        key=lambda r: datetime.fromisoformat(r.json["created_at"]),
    )
    kinds = [r.headers["x-webhook-event"] for r in events]
    assert "finetune.progress" in kinds and kinds[-1] == "finetune.completed"
    first_progress = next(r for r in events if r.headers["x-webhook-event"] == "finetune.progress")
    assert first_progress.json["data"]["status"] == "training"

    registry = registry_pb2_grpc.RegistryServiceStub(grpc.insecure_channel(llm_mesh.address("registry")))
    model = registry.GetModel(
        registry_pb2.GetModelRequest(ref=common_pb2.ModelRef(name=name, version=version)), timeout=30
    ).model
    assert model.labels["fine_tuned_from"] == BASE
    assert model.labels["dataset_sha256"] == run["dataset"]["sha256"]
    assert '"lora_rank": 8' in model.labels["hyperparameters"] and "eval_loss" in model.labels["metrics"]

    assert pirate_share(llm_mesh, BASE) == 0.0
    assert pirate_share(llm_mesh, name) >= 0.5  # the new version follows the trained behaviour


def test_cancel_stops_the_run_and_registers_nothing(llm_mesh: Mesh) -> None:
    name = f"never-{uuid.uuid4().hex[:6]}"
    started = create(
        llm_mesh,
        {
            "base_model": BASE,
            # Hundreds of one-example steps, no held-out examples to measure first: the first step
            # comes seconds after the model is loaded, and the run is far from done when cancelled.
            "training_data": training_data() * 2,
            "config": {"epochs": 20, "batch_size": 1, "validation_split": 0},
            "output_name": name,
        },
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["fine_tune_id"]
    deadline = time.monotonic() + 240
    while (run := status(llm_mesh, run_id))["progress"]["step"] < 1:
        assert run["status"] not in FINAL, run  # it ended before its first step: say why
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
    cancelled = httpx.post(f"{llm_mesh.base_url}/api/ai/advanced/finetune/{run_id}/cancel", timeout=60)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    assert httpx.get(f"{llm_mesh.base_url}/v1/models/{name}", timeout=30).status_code == 404
    again = httpx.post(f"{llm_mesh.base_url}/api/ai/advanced/finetune/{run_id}/cancel", timeout=60)
    assert again.status_code == 409
    # The GGUF base's conversion for training is kept for the next run, named by the file's hash.
    kept = llm_mesh.data_dir / "inference" / "finetune-bases"
    assert SMOLLM2_GGUF.path is not None
    assert [p.name for p in kept.iterdir()] == [file_sha256(SMOLLM2_GGUF.path)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"base_model": BASE, "training_data": []}, "training_data"),
        (
            {"base_model": BASE, "training_data": '{"prompt": "a", "completion": "b"}\nnot json'},
            "training_data[line 2]",
        ),
        ({"base_model": BASE, "training_data": [{"prompt": "only a prompt"}]}, "training_data[0]"),
        (
            {"base_model": BASE, "training_data": [{"messages": [{"role": "user", "content": "hi"}]}]},
            "training_data[0]",
        ),
        ({"base_model": "example", "training_data": [{"prompt": "a", "completion": "b"}]}, "base_model"),
        ({"base_model": BASE, "training_data": [{"prompt": "a", "completion": "b"}] * 5001}, "training_data"),
        (
            {"base_model": BASE, "training_data": [{"prompt": "a", "completion": "b"}], "output_name": BASE},
            "output_name",
        ),
    ],
    ids=[
        "empty",
        "malformed-jsonl",
        "no-completion",
        "no-answer",
        "not-a-language-model",
        "over-the-limit",
        "the-bundled-model-s-own-name",
    ],
)
def test_bad_fine_tunes_get_400_naming_the_field(mesh: Mesh, body: dict[str, Any], field: str) -> None:
    reply = create(mesh, body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["details"]["field"] == field
