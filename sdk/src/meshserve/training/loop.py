"""One rank of a distributed run: joins the process group, wraps the model in
DistributedDataParallel, and trains on its share of every global batch.

Every step each rank takes ``global_batch[rank::world_size]``, sums its samples' losses and scales
the sum by ``world_size / len(global_batch)``; DDP's gradient average is then exactly the gradient
of the mean loss over the whole batch, however unevenly it splits. Epoch metrics are sums
all-reduced over the ranks.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from meshserve.training.callbacks import Callback, TrainingState
from meshserve.training.config import DistributedConfig, TrainingConfig


def batches(size: int, config: TrainingConfig, epoch: int) -> list[list[int]]:
    """The global batches of one epoch: a permutation from the seed and the epoch, cut in order."""
    import torch

    if config.shuffle:
        generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(size, generator=generator).tolist()
    else:
        order = list(range(size))
    return [order[i : i + config.batch_size] for i in range(0, size, config.batch_size)]


def collate(dataset: Any, indices: Sequence[int], device: Any) -> tuple[Any, Any]:
    """The samples at ``indices`` stacked into (inputs, targets) on ``device``."""
    import torch

    if not indices:  # this rank's share of a short batch is empty: same shapes, no rows
        x0, y0 = dataset[0]
        x0, y0 = torch.as_tensor(x0), torch.as_tensor(y0)
        return x0.new_empty((0, *x0.shape)).to(device), y0.new_empty((0, *y0.shape)).to(device)
    pairs = [dataset[i] for i in indices]
    inputs = torch.stack([torch.as_tensor(x) for x, _ in pairs]).to(device)
    targets = torch.stack([torch.as_tensor(y) for _, y in pairs]).to(device)
    return inputs, targets


def summed_loss(config: TrainingConfig) -> Any:
    """A function of (outputs, targets) giving the *sum* of the samples' losses."""
    import torch

    named = {
        "cross_entropy": torch.nn.CrossEntropyLoss,
        "mse": torch.nn.MSELoss,
        "l1": torch.nn.L1Loss,
        "bce_with_logits": torch.nn.BCEWithLogitsLoss,
        "nll": torch.nn.NLLLoss,
    }
    if callable(config.loss_function):
        custom = config.loss_function
        return lambda out, y: custom(out, y) * out.shape[0] if out.shape[0] else out.sum() * 0
    criterion = named[config.loss_function](reduction="sum")
    return lambda out, y: criterion(out, y) if out.shape[0] else out.sum() * 0


def optimizer_for(config: TrainingConfig, parameters: Any) -> Any:
    """The configured optimizer."""
    import torch

    kind, lr, decay = config.optimizer, config.learning_rate, config.weight_decay
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=lr, weight_decay=decay)
    if kind == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, weight_decay=decay)
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, weight_decay=decay, momentum=config.momentum)
    return torch.optim.SGD(parameters, lr=lr, weight_decay=decay, momentum=config.momentum)


def run_rank(
    local_rank: int,
    dist_config: DistributedConfig,
    config: TrainingConfig,
    model: Any,
    dataset: Any,
    validation: Any,
    callbacks: list[Callback],
    result_path: str,
) -> None:
    """The body of one rank (started by :class:`~meshserve.training.trainer.DistributedTrainer`)."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    world = dist_config.world_size
    rank = dist_config.node_rank * dist_config.processes_per_node + local_rank
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # ranks share the CPUs
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // dist_config.processes_per_node))
    dist.init_process_group(
        dist_config.backend,
        init_method=f"tcp://{dist_config.master_addr}:{dist_config.master_port}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=dist_config.timeout_seconds),
    )
    try:
        cuda = dist_config.backend == "nccl"
        device = torch.device(f"cuda:{local_rank}") if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        torch.manual_seed(config.seed)
        model.to(device)
        if config.gradient_checkpointing and hasattr(model, "gradient_checkpointing_enable"):
            model.gradient_checkpointing_enable()
        ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
        optimizer = optimizer_for(config, ddp.parameters())
        loss_sum = summed_loss(config)
        state = TrainingState(rank=rank, world_size=world, model=model, optimizer=optimizer)
        amp = torch.autocast(device.type, enabled=config.mixed_precision and cuda)
        scaler = torch.amp.GradScaler(device.type, enabled=config.mixed_precision and cuda)
        for callback in callbacks:
            callback.on_train_begin(state)
        for epoch in range(1, config.epochs + 1):
            state.epoch = epoch
            for callback in callbacks:
                callback.on_epoch_begin(state)
            ddp.train()
            totals = torch.zeros(2, dtype=torch.float64, device=device)  # loss sum, samples
            for global_batch in batches(len(dataset), config, epoch):
                inputs, targets = collate(dataset, global_batch[rank::world], device)
                with amp:
                    summed = loss_sum(ddp(inputs), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(summed * (world / len(global_batch))).backward()
                scaler.step(optimizer)
                scaler.update()
                batch_loss = summed.detach().double().reshape(1)
                dist.all_reduce(batch_loss)  # the whole batch's loss sum
                totals[0] += batch_loss[0]
                totals[1] += len(global_batch)
                state.step += 1
                state.metrics = {"batch_loss": float(batch_loss[0]) / len(global_batch)}
                for callback in callbacks:
                    callback.on_step_end(state)
            metrics = {"loss": float(totals[0] / totals[1]), "lr": optimizer.param_groups[0]["lr"]}
            if validation is not None:
                metrics.update(evaluate(ddp, validation, loss_sum, rank, world, device, config))
            state.metrics = metrics
            state.history.append({"epoch": float(epoch), **metrics})
            if config.verbose and rank == 0:
                print(f"epoch {epoch}: " + " ".join(f"{k}={v:.6g}" for k, v in metrics.items()), flush=True)
            for callback in callbacks:
                callback.on_epoch_end(state)
            if state.stop_training:
                break
        for callback in callbacks:
            callback.on_train_end(state)
        if rank == 0:
            state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            torch.save({"state_dict": state_dict, "history": state.history}, Path(result_path))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def evaluate(
    ddp: Any, validation: Any, loss_sum: Any, rank: int, world: int, device: Any, config: TrainingConfig
) -> dict[str, float]:
    """Mean loss (and accuracy, for classification) over the validation data, split across ranks."""
    import torch
    import torch.distributed as dist

    ddp.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, samples, correct
    with torch.no_grad():
        indices = list(range(rank, len(validation), world))
        for start in range(0, max(len(indices), 1), config.batch_size):
            inputs, targets = collate(validation, indices[start : start + config.batch_size], device)
            outputs = ddp.module(inputs)
            totals[0] += float(loss_sum(outputs, targets))
            totals[1] += inputs.shape[0]
            if config.loss_function in ("cross_entropy", "nll") and inputs.shape[0]:
                totals[2] += float((outputs.argmax(dim=-1) == targets).sum())
    dist.all_reduce(totals)
    seen = max(float(totals[1]), 1.0)
    metrics = {"val_loss": float(totals[0]) / seen}
    if config.loss_function in ("cross_entropy", "nll"):
        metrics["val_accuracy"] = float(totals[2]) / seen
    return metrics
