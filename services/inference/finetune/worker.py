"""One fine-tuning run, in a process of its own: ``python -m services.inference.finetune.worker
SPEC.json OUT_DIR``.

Loads the base model with transformers (a GGUF file is de-quantized, or its conversion read from
the spec's ``base_cache``: :mod:`.base_cache`), wraps it with a LoRA adapter
(peft) on the attention projections, and trains on the examples' last assistant turns only (the
prompt's tokens are masked out of the loss). The eval loss is measured on the held-out examples
before training and after every epoch. The adapter is then merged into the weights and the model
saved as a Hugging Face directory (bfloat16) with its tokenizer, which the registry takes as a new
version. Progress goes to stdout as one JSON object per line; a failure ends with an ``error`` line
and exit code 1.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from services.inference.finetune.base_cache import load_base, plain


def emit(event: str, **fields: Any) -> None:
    """One progress line."""
    print(json.dumps({"event": event, **fields}), flush=True)


def encode(tokenizer: Any, turns: list[dict[str, str]], max_tokens: int) -> tuple[list[int], list[int]]:
    """Token ids of the conversation and its labels: -100 except on the last assistant turn."""
    prompt = tokenizer.apply_chat_template(turns[:-1], tokenize=True, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(turns, tokenize=True)
    prompt, full = list(_ids(prompt)), list(_ids(full))
    labels = [-100] * len(prompt) + full[len(prompt) :]
    return full[:max_tokens], labels[:max_tokens]


def _ids(encoded: Any) -> Any:
    return encoded["input_ids"] if isinstance(encoded, dict) or hasattr(encoded, "keys") else encoded


def batch_of(pairs: list[tuple[list[int], list[int]]], pad: int) -> dict[str, Any]:
    """Right-padded tensors of a batch."""
    import torch

    width = max(len(ids) for ids, _ in pairs)
    ids = [p + [pad] * (width - len(p)) for p, _ in pairs]
    labels = [lab + [-100] * (width - len(lab)) for _, lab in pairs]
    mask = [[1] * len(p) + [0] * (width - len(p)) for p, _ in pairs]
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }


def mean_loss(model: Any, pairs: list[tuple[list[int], list[int]]], pad: int, size: int) -> float | None:
    """The loss over ``pairs`` (token-weighted), without gradients; None when there are none."""
    import torch

    if not pairs:
        return None
    total = tokens = 0.0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(pairs), size):
            batch = batch_of(pairs[start : start + size], pad)
            counted = float((batch["labels"][:, 1:] != -100).sum())
            total += float(model(**batch).loss) * counted
            tokens += counted
    model.train()
    return total / tokens if tokens else None


def run(spec: dict[str, Any], out: Path) -> dict[str, Any]:
    """The whole run; returns its final metrics."""
    import torch
    from peft import LoraConfig, get_peft_model

    config = spec["config"]
    random.seed(config["seed"])
    torch.manual_seed(config["seed"])
    emit("loading")
    cache = spec.get("base_cache")
    tokenizer, model = load_base(
        Path(spec["source"]), Path(cache) if cache else None, spec.get("base_cache_entries", 0)
    )
    pairs = [encode(tokenizer, example, spec["max_tokens"]) for example in spec["examples"]]
    order = list(range(len(pairs)))
    random.Random(config["seed"]).shuffle(order)
    held = round(len(pairs) * config["validation_split"]) if len(pairs) > 1 else 0
    evaluation = [pairs[i] for i in order[:held]]
    training = [pairs[i] for i in order[held:]]
    lora = LoraConfig(
        r=config["lora_rank"],
        lora_alpha=config["lora_rank"] * 2,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.train()
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=config["learning_rate"]
    )
    size = config["batch_size"]
    steps_per_epoch = math.ceil(len(training) / size)
    total = steps_per_epoch * config["epochs"]
    if config["max_steps"]:
        total = min(total, config["max_steps"])
    pad = tokenizer.pad_token_id
    before = mean_loss(model, evaluation, pad, size)
    emit(
        "training",
        total_steps=total,
        train_examples=len(training),
        eval_examples=len(evaluation),
        eval_loss_before=before,
    )
    started, step, loss, latest_eval = time.monotonic(), 0, None, before
    for epoch in range(1, config["epochs"] + 1):
        random.Random(config["seed"] + epoch).shuffle(training)
        for start in range(0, len(training), size):
            if step >= total:
                break
            output = model(**batch_of(training[start : start + size], pad))
            output.loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            loss = float(output.loss)
            elapsed = time.monotonic() - started
            emit(
                "progress",
                step=step,
                total_steps=total,
                epoch=epoch,
                loss=loss,
                eta_seconds=elapsed / step * (total - step),
            )
        latest_eval = mean_loss(model, evaluation, pad, size)
        emit("eval", step=step, epoch=epoch, eval_loss=latest_eval)
        if step >= total:
            break
    emit("saving")
    # A GGUF base was de-quantized on load: what is saved is plain weights, not a GGUF quantization.
    merged: Any = plain(model.merge_and_unload())
    merged.to(torch.bfloat16)
    merged.save_pretrained(out / "model", safe_serialization=True)
    tokenizer.save_pretrained(out / "model")
    return {"steps": step, "train_loss": loss, "eval_loss_before": before, "eval_loss": latest_eval}


def main() -> int:
    """Entry point."""
    spec_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        metrics = run(json.loads(spec_path.read_text()), out)
    except Exception as error:  # reported to the service, which fails the run with it
        emit("error", message=f"{type(error).__name__}: {error}"[:1000])
        return 1
    emit("done", metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
