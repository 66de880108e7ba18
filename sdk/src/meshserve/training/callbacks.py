"""Training callbacks (document 000's ``callbacks``): hooks every rank calls at the same points.

Metrics in :class:`TrainingState` are already averaged over every rank, so decisions such as
early stopping are the same on each. Side effects on disk (checkpoints, TensorBoard events) happen
on rank 0 only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshserve.errors import UnsupportedError


@dataclass
class TrainingState:
    """What a callback sees: where the run is, the model and optimizer, and the latest metrics."""

    rank: int
    world_size: int
    model: Any
    optimizer: Any
    epoch: int = 0
    step: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    stop_training: bool = False


class Callback:
    """Override the hooks you need; each gets the shared :class:`TrainingState`."""

    def on_train_begin(self, state: TrainingState) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Before each epoch."""

    def on_step_end(self, state: TrainingState) -> None:
        """After each optimizer step (``state.metrics['batch_loss']`` is this step's global loss)."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """After each epoch, with ``loss`` (and ``val_loss`` when there is validation data)."""

    def on_train_end(self, state: TrainingState) -> None:
        """After the last epoch."""


class _Monitor:
    """Tracks the best value of one metric."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0, patience: int = 1) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode: {mode!r} is not 'min' or 'max'")
        self.monitor, self.mode, self.min_delta = monitor, mode, min_delta
        self.best = math.inf if mode == "min" else -math.inf
        self.patience, self.waited = patience, 0

    def stalled(self, state: TrainingState) -> bool:
        """After an epoch: whether the metric has gone ``patience`` epochs without improving (the
        count then starts again)."""
        value = self.value(state)
        if value is None:
            return False
        if self.improved(value):
            self.waited = 0
            return False
        self.waited += 1
        if self.waited < self.patience:
            return False
        self.waited = 0
        return True

    def value(self, state: TrainingState) -> float | None:
        """The monitored metric, falling back from val_loss to loss when there is no validation."""
        if self.monitor in state.metrics:
            return state.metrics[self.monitor]
        if self.monitor == "val_loss":
            return state.metrics.get("loss")
        return None

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta`` (and records it)."""
        better = (
            value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        )
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stops when ``monitor`` has not improved for ``patience`` epochs."""

    def __init__(
        self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0, mode: str = "min"
    ) -> None:
        self.tracker = _Monitor(monitor, mode, min_delta, patience)
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, state: TrainingState) -> None:
        if self.tracker.stalled(state):
            state.stop_training = True
            self.stopped_epoch = state.epoch


class ModelCheckpoint(Callback):
    """Saves the model's ``state_dict`` after each epoch (only improvements with ``save_best_only``)
    to ``filepath``, formatted with the epoch and metrics (rank 0)."""

    def __init__(
        self,
        filepath: str = "checkpoints/model-epoch{epoch:03d}.pt",
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "min",
    ) -> None:
        self.filepath = filepath
        self.save_best_only = save_best_only
        self.tracker = _Monitor(monitor, mode)
        self.saved: list[str] = []

    def on_epoch_end(self, state: TrainingState) -> None:
        value = self.tracker.value(state)
        improved = value is not None and self.tracker.improved(value)
        if state.rank != 0 or (self.save_best_only and not improved):
            return
        import torch

        path = Path(self.filepath.format(epoch=state.epoch, **state.metrics))
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state.model.state_dict(), path)
        self.saved.append(str(path))


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` has not improved for
    ``patience`` epochs (every rank, so their optimizers stay identical)."""

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 2,
        monitor: str = "val_loss",
        min_lr: float = 0.0,
        mode: str = "min",
    ) -> None:
        if not 0 < factor < 1:
            raise ValueError("factor: must be in (0, 1)")
        self.factor, self.min_lr = factor, min_lr
        self.tracker = _Monitor(monitor, mode, patience=patience)

    def on_epoch_end(self, state: TrainingState) -> None:
        if self.tracker.stalled(state):
            for group in state.optimizer.param_groups:
                group["lr"] = max(self.min_lr, group["lr"] * self.factor)


class TensorBoard(Callback):
    """Writes every epoch's metrics (and each step's loss) as TensorBoard events under ``log_dir``
    (rank 0), with torch's SummaryWriter."""

    def __init__(self, log_dir: str = "./logs") -> None:
        try:
            import tensorboard  # noqa: F401  (torch's SummaryWriter needs it)
        except ImportError as exc:
            raise UnsupportedError(
                "callbacks.TensorBoard needs tensorboard: pip install tensorboard"
            ) from exc
        self.log_dir = log_dir
        self._writer: Any = None

    def on_train_begin(self, state: TrainingState) -> None:
        if state.rank == 0:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=self.log_dir)

    def on_step_end(self, state: TrainingState) -> None:
        if self._writer is not None:
            self._writer.add_scalar("batch_loss", state.metrics["batch_loss"], state.step)

    def on_epoch_end(self, state: TrainingState) -> None:
        if self._writer is not None:
            for name, value in state.metrics.items():
                if name != "batch_loss":
                    self._writer.add_scalar(name, value, state.epoch)
            self._writer.flush()

    def on_train_end(self, state: TrainingState) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
