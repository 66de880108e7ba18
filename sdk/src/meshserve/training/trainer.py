"""Document 000's ``DistributedTrainer``: real data-parallel training with ``torch.distributed``.

``train`` starts this node's ranks the way torchrun does: fresh interpreters
(:mod:`meshserve.training.rank`, never forks of the caller), a TCP rendezvous at
``master_addr:master_port``; each runs
:func:`~meshserve.training.loop.run_rank`: DistributedDataParallel over gloo on CPUs or nccl on
GPUs. When a rank dies or raises, the others are stopped and :class:`TrainingError` names the rank;
a run never hangs on a dead peer. Rank 0's final weights are loaded back into the caller's model,
and :class:`TrainingResult` can export it to ONNX and upload it to the mesh's registry in one call.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshserve.errors import TrainingError, UnsupportedError
from meshserve.training.callbacks import Callback
from meshserve.training.config import DistributedConfig, TrainingConfig


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
        except ImportError as exc:
            raise UnsupportedError("training needs torch: pip install torch") from exc
        config = config or TrainingConfig()
        self._check(torch, len(dataset))
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="meshserve-train-") as folder:
            result_path = str(Path(folder) / "rank0.pt")
            payload = Path(folder) / "payload.pt"
            args = (
                self.config,
                config,
                model,
                dataset,
                validation_dataset,
                list(callbacks or ()),
                result_path,
            )
            try:
                torch.save(args, payload)
            except Exception as error:  # a lambda, a local class: nothing a fresh process can load
                raise TrainingError(
                    f"the model, data and callbacks go to each rank's process and must be picklable: {error}"
                ) from None
            self._run_ranks(payload, Path(folder))
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

    def _run_ranks(self, payload: Path, folder: Path) -> None:
        """Starts this node's ranks as fresh interpreters and waits for all; the first that fails
        stops the others and is named."""
        offset = self.config.node_rank * self.config.processes_per_node
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "meshserve.training.rank",
                    str(payload),
                    str(local),
                    str(folder / f"error-{local}"),
                ]
            )
            for local in range(self.config.processes_per_node)
        ]
        try:
            while True:
                codes = [p.poll() for p in processes]
                failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
                if failed:
                    # The rank at fault, not one that failed because that peer went away.
                    local = min(failed, key=lambda i: (_lost_peer(folder / f"error-{i}"), i))
                    rank, code = offset + local, codes[local]
                    assert code is not None
                    error = folder / f"error-{local}"
                    if error.exists():
                        raise TrainingError(f"rank {rank} failed: {error.read_text()}", rank=rank)
                    why = (
                        f"was killed by {signal.Signals(-code).name}"
                        if code < 0
                        else f"exited with code {code}"
                    )
                    raise TrainingError(f"rank {rank} {why}; the other ranks were stopped", rank=rank)
                if all(code == 0 for code in codes):
                    return
                time.sleep(0.05)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


#: What a rank says when a peer's process went away under a collective (gloo, NCCL, the store).
PEER_LOST = (
    "Connection closed by peer",
    "Connection reset",
    "Broken pipe",
    "DistBackendError",
    "NCCL",
    "gloo",
)


def _lost_peer(error: Path) -> bool:
    """Whether a rank failed only because a peer went away."""
    return error.exists() and any(marker in error.read_text() for marker in PEER_LOST)
