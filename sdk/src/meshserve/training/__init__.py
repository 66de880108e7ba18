"""Distributed training (document 000): ``DistributedConfig``, ``TrainingConfig``,
``DistributedTrainer`` and ``callbacks``, on ``torch.distributed`` (DDP over gloo on CPUs, nccl on
GPUs). Needs torch, imported only when a run starts."""

from __future__ import annotations

from meshserve.errors import TrainingError
from meshserve.training import callbacks
from meshserve.training.callbacks import Callback, TrainingState
from meshserve.training.config import DistributedConfig, TrainingConfig
from meshserve.training.trainer import DistributedTrainer, TrainingResult

__all__ = [
    "Callback",
    "DistributedConfig",
    "DistributedTrainer",
    "TrainingConfig",
    "TrainingError",
    "TrainingResult",
    "TrainingState",
    "callbacks",
]
