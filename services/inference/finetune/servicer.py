"""FineTuneService over gRPC: translates messages to :class:`~.runs.FineTuneRuns` calls."""

from __future__ import annotations

import json
from dataclasses import dataclass

import grpc

from meshserve.v1 import finetune_pb2 as pb
from meshserve.v1 import finetune_pb2_grpc as pb_grpc
from services.inference.finetune.runs import FineTuneRecord, FineTuneRuns
from services.inference.finetune.spec import FineTuneSettings, TrainingConfig, validated
from services.inference.jobs.records import iso

DEFAULTS = TrainingConfig()


def config_of(message: pb.FineTuneConfig) -> TrainingConfig:
    """The message's hyper-parameters, defaults where unset (0)."""
    return TrainingConfig(
        epochs=message.epochs or DEFAULTS.epochs,
        learning_rate=message.learning_rate or DEFAULTS.learning_rate,
        batch_size=message.batch_size or DEFAULTS.batch_size,
        validation_split=message.validation_split if message.validation_split else DEFAULTS.validation_split,
        lora_rank=message.lora_rank or DEFAULTS.lora_rank,
        max_steps=message.max_steps,
        seed=message.seed,
    )


def fine_tune_message(record: FineTuneRecord) -> pb.FineTune:
    """A run as its message."""
    progress = record.progress
    message = pb.FineTune(
        fine_tune_id=record.fine_tune_id,
        status=record.status,
        base_model=record.base_model,
        output_name=record.output_name,
        output_version=record.output_version,
        step=int(progress.get("step", 0)),
        total_steps=int(progress.get("total_steps", 0)),
        train_examples=int(progress.get("train_examples", 0)),
        eval_examples=int(progress.get("eval_examples", 0)),
        dataset_sha256=record.dataset_sha256,
        created_at=iso(record.created_at) or "",
        finished_at=iso(record.finished_at) or "",
        error=record.error,
        config_json=json.dumps(
            {k: v for k, v in record.config.items() if k != "callback_url"}, sort_keys=True
        ),
    )
    for name in ("loss", "eval_loss_before", "eval_loss", "eta_seconds"):
        if progress.get(name) is not None:
            setattr(message, name, float(progress[name]))
    return message


@dataclass(eq=False)
class FineTuneServicer(pb_grpc.FineTuneServiceServicer):
    """The gRPC face of fine-tuning."""

    runs: FineTuneRuns
    settings: FineTuneSettings

    async def CreateFineTune(
        self, request: pb.CreateFineTuneRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateFineTuneResponse:
        """Validates, then starts a run."""
        spec = validated(
            request.base_model,
            request.output_name,
            [[(t.role, t.content) for t in e.turns] for e in request.examples],
            config_of(request.config),
            self.settings,
            request.config.callback_url,
        )
        return pb.CreateFineTuneResponse(fine_tune=fine_tune_message(await self.runs.create(spec)))

    async def GetFineTune(
        self, request: pb.GetFineTuneRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetFineTuneResponse:
        """A run now."""
        return pb.GetFineTuneResponse(fine_tune=fine_tune_message(self.runs.get(request.fine_tune_id)))

    async def CancelFineTune(
        self, request: pb.CancelFineTuneRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelFineTuneResponse:
        """Stops a run."""
        return pb.CancelFineTuneResponse(
            fine_tune=fine_tune_message(await self.runs.cancel(request.fine_tune_id))
        )
