"""Document 000's ``DistributedTrainer``: real data-parallel training with ``torch.distributed``.

``train`` starts this node's ranks the way torchrun does (``RANK``/``WORLD_SIZE`` semantics, a TCP
rendezvous at ``master_addr:master_port``) as child processes, each running
:func:`~meshserve.training.loop.run_rank`: DistributedDataParallel over gloo on CPUs or nccl on
GPUs. When a rank dies or raises, the others are stopped and :class:`TrainingError` names the rank;
a run never hangs on a dead peer. Rank 0's final weights are loaded back into the caller's model,
and :class:`TrainingResult` can export it to ONNX and upload it to the mesh's registry in one call.
"""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshserve.errors import TrainingError, UnsupportedError
from meshserve.training.callbacks import Callback
from meshserve.training.config import DistributedConfig, TrainingConfig
from meshserve.training.loop import run_rank


@dataclass
class TrainingResult:
    """The trained model (the caller's object, holding rank 0's final weights) and its history."""

    model: Any
    history: list[dict[str, float]]
    world_size: int
    seconds: float
    config: TrainingConfig = field(default_factory=TrainingConfig)

    def export_onnx(self, path: str | Path, example_input: Any) -> Path:
        """Writes the model as ONNX (dynamic batch axis) to ``path``."""
        import torch

        path = Path(path)
        self.model.eval()
        torch.onnx.export(
            self.model,
            (example_input,),
            path,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            dynamo=False,
        )
        return path

    def upload(self, client: Any, name: str, example_input: Any, **fields: Any) -> Any:
        """Exports to ONNX and uploads it to the registry as ``name`` (``client.upload_model``);
        returns the registered Model."""
        with tempfile.TemporaryDirectory(prefix="meshserve-export-") as folder:
            path = self.export_onnx(Path(folder) / f"{name}.onnx", example_input)
            return client.upload_model(path, name=name, format="onnx", **fields)


class DistributedTrainer:
    """Trains a torch module on this node's ranks of a :class:`DistributedConfig`."""

    def __init__(self, config: DistributedConfig | None = None) -> None:
        self.config = config or DistributedConfig(num_processes=2)

    def train(
        self,
        model: Any,
        dataset: Any,
        config: TrainingConfig | None = None,
        validation_dataset: Any = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> TrainingResult:
        """Runs the training; returns the trained model and the per-epoch history."""
        try:
            import torch
            import torch.multiprocessing as mp
        except ImportError as exc:
            raise UnsupportedError("training needs torch: pip install torch") from exc
        config = config or TrainingConfig()
        self._check(torch, len(dataset))
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="meshserve-train-") as folder:
            result_path = str(Path(folder) / "rank0.pt")
            # fork on CPUs (the model, data and callbacks are inherited as they are); CUDA needs spawn.
            method = "spawn" if self.config.backend == "nccl" else "fork"
            context = mp.start_processes(
                run_rank,
                args=(
                    self.config,
                    config,
                    model,
                    dataset,
                    validation_dataset,
                    list(callbacks or ()),
                    result_path,
                ),
                nprocs=self.config.processes_per_node,
                join=False,
                start_method=method,
            )
            self._join(context)
            if self.config.node_rank != 0:
                return TrainingResult(
                    model, [], self.config.world_size, time.perf_counter() - started, config
                )
            saved = torch.load(result_path, weights_only=True)
        model.load_state_dict(saved["state_dict"])
        return TrainingResult(
            model, saved["history"], self.config.world_size, time.perf_counter() - started, config
        )

    def _check(self, torch: Any, samples: int) -> None:
        import torch.distributed as dist

        if samples == 0:
            raise TrainingError("the dataset is empty")
        backend = self.config.backend
        if backend == "nccl":
            found = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if found < self.config.num_gpus:
                raise TrainingError(
                    f"num_gpus={self.config.num_gpus} but this machine has {found} CUDA device(s): "
                    "use backend='gloo' with num_processes on CPUs"
                )
        if backend == "mpi" and not dist.is_mpi_available():
            raise UnsupportedError("backend='mpi' needs a torch built with MPI; use 'gloo' or 'nccl'")
        if backend == "gloo" and not dist.is_gloo_available():
            raise UnsupportedError("this torch has no gloo backend")

    def _join(self, context: Any) -> None:
        """Waits for every rank; a failure stops the rest and names the rank that failed."""
        import torch.multiprocessing as mp

        offset = self.config.node_rank * self.config.processes_per_node
        try:
            while not context.join(timeout=0.5):
                pass
        except mp.ProcessExitedException as failure:
            rank = offset + failure.error_index
            if failure.exit_code < 0:
                why = f"was killed by {signal.Signals(-failure.exit_code).name}"
            else:
                why = f"exited with code {failure.exit_code}"
            raise TrainingError(f"rank {rank} {why}; the other ranks were stopped", rank=rank) from None
        except mp.ProcessRaisedException as failure:
            rank = offset + failure.error_index
            lines = [line for line in str(failure).strip().splitlines() if line.strip()]
            raise TrainingError(
                f"rank {rank} failed: {lines[-1] if lines else 'unknown error'}", rank=rank
            ) from None
