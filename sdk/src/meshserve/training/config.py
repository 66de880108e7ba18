"""What a distributed training run is: where its ranks run (:class:`DistributedConfig`) and how
they train (:class:`TrainingConfig`), document 000's two configuration objects.

A bad value is refused when the object is built, with a message naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BACKENDS = ("gloo", "nccl", "mpi")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LOSSES = ("cross_entropy", "mse", "l1", "bce_with_logits", "nll")


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValueError(f"{field}: {message}")


@dataclass
class DistributedConfig:
    """Where the ranks run, as torchrun would launch them.

    ``num_gpus`` ranks per node on CUDA (backend ``nccl``), or ``num_processes`` CPU ranks per node
    (backend ``gloo``); ``num_nodes`` machines in all, this one being ``node_rank``. The trainer
    starts this node's ranks; on several nodes, run the same program on each with its
    ``node_rank`` (rank 0's node is ``master_addr``). A rank that has not heard from the others
    within ``timeout_seconds`` fails rather than waits.
    """

    num_gpus: int = 0
    num_nodes: int = 1
    backend: str = "gloo"
    master_addr: str = "localhost"
    master_port: int = 29500
    num_processes: int = 0
    node_rank: int = 0
    timeout_seconds: float = 120.0

    def __post_init__(self) -> None:
        _require(self.backend in BACKENDS, "backend", f"{self.backend!r} is not one of {', '.join(BACKENDS)}")
        _require(self.num_gpus >= 0, "num_gpus", "must be 0 (CPU) or more")
        _require(self.num_processes >= 0, "num_processes", "must be 0 (one per GPU, else 1) or more")
        _require(self.num_nodes >= 1, "num_nodes", "must be at least 1")
        _require(0 <= self.node_rank < self.num_nodes, "node_rank", f"must be in [0, {self.num_nodes})")
        _require(0 < self.master_port < 65536, "master_port", "must be a TCP port")
        _require(self.timeout_seconds > 0, "timeout_seconds", "must be positive")
        _require(
            not (self.backend == "nccl" and self.num_gpus == 0),
            "backend",
            "nccl runs on GPUs: set num_gpus, or use backend='gloo' on CPUs",
        )

    @property
    def processes_per_node(self) -> int:
        """Ranks this node starts."""
        return self.num_processes or self.num_gpus or 1

    @property
    def world_size(self) -> int:
        """Ranks in all."""
        return self.processes_per_node * self.num_nodes


@dataclass
class TrainingConfig:
    """How the ranks train.

    ``batch_size`` is the global batch of one step, split across the ranks: the gradients DDP
    averages are those of the whole batch, so the result equals single-process training with the
    same batch (up to floating-point summation order). Each epoch visits the data in a permutation
    drawn from ``seed`` and the epoch number when ``shuffle`` is on.
    """

    batch_size: int = 32
    learning_rate: float = 1e-3
    epochs: int = 1
    optimizer: str = "adam"
    loss_function: Any = "cross_entropy"  # a name in LOSSES, or a callable (outputs, targets) -> mean loss
    mixed_precision: bool = False
    gradient_checkpointing: bool = False
    weight_decay: float = 0.0
    momentum: float = 0.0
    shuffle: bool = True
    seed: int = 0
    verbose: bool = False

    def __post_init__(self) -> None:
        _require(self.batch_size >= 1, "batch_size", "must be at least 1")
        _require(self.learning_rate > 0, "learning_rate", "must be positive")
        _require(self.epochs >= 1, "epochs", "must be at least 1")
        _require(
            self.optimizer in OPTIMIZERS,
            "optimizer",
            f"{self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}",
        )
        _require(
            callable(self.loss_function) or self.loss_function in LOSSES,
            "loss_function",
            f"{self.loss_function!r} is not a callable nor one of {', '.join(LOSSES)}",
        )
        _require(self.weight_decay >= 0, "weight_decay", "must be 0 or more")
