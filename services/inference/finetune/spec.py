"""A fine-tuning request, validated before any work starts (InvalidInput naming the field), and
its settings (``MESHSERVE_INFERENCE_FINETUNE_*``)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.errors import InvalidInput

ROLES = ("system", "user", "assistant")


class FineTuneSettings(BaseSettings):
    """Limits of fine-tuning runs."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_INFERENCE_FINETUNE_", extra="ignore")

    max_examples: int = Field(5000, ge=1, description="Most training examples one run accepts.")
    max_example_chars: int = Field(8000, ge=1, description="Longest training example, in characters.")
    max_example_tokens: int = Field(512, ge=16, description="Tokens of an example that are trained on.")
    concurrent_runs: int = Field(1, ge=1, description="Fine-tuning runs that train at once; the rest wait.")
    base_cache_entries: int = Field(
        2,
        ge=0,
        description="GGUF base models whose conversion for training is kept for the next run (the most "
        "recently used; each takes 4 bytes per parameter on disk); 0 keeps none.",
    )
    driver: str = Field(
        "local",
        pattern="^(local|kubernetes)$",
        description="Where runs train: `local` (a child process) or `kubernetes` (a batch/v1 Job from "
        "deploy/k8s/training/finetune-job.yaml).",
    )
    shared_dir: Path = Field(
        Path("/shared/finetune"),
        description="Kubernetes driver: the folder on the volume this service shares with the Jobs.",
    )
    kubernetes_namespace: str = Field("default", description="Kubernetes driver: namespace of the Jobs.")
    kubernetes_image: str = Field(
        "meshserve/inference:0.1.0",
        description="Kubernetes driver: image the Jobs run (it holds the worker).",
    )
    kubernetes_api_url: str = Field(
        "",
        description="Kubernetes driver: API server URL; empty: in-cluster service account, else kubeconfig.",
    )
    kubernetes_token: str = Field("", description="Kubernetes driver: bearer token with kubernetes_api_url.")
    kubernetes_verify_tls: bool = Field(True, description="Kubernetes driver: verify the API server's TLS.")
    kubernetes_poll_seconds: float = Field(
        1.0, gt=0, description="Kubernetes driver: how often the Job's pod and log are read."
    )


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters as applied."""

    epochs: int = 3
    learning_rate: float = 1e-4
    batch_size: int = 8
    validation_split: float = 0.1
    lora_rank: int = 8
    max_steps: int = 0
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class FineTuneSpec:
    """A validated request."""

    base_model: str
    output_name: str
    examples: tuple[tuple[tuple[str, str], ...], ...]  # each: (role, content) turns
    config: TrainingConfig
    callback_url: str = ""

    @property
    def dataset_sha256(self) -> str:
        """SHA-256 of the examples as received (canonical JSON)."""
        return hashlib.sha256(json.dumps(self.examples, separators=(",", ":")).encode()).hexdigest()


def _range(value: float, low: float, high: float, field: str) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidInput(
            f"{field} must be between {low:g} and {high:g}", details={"field": field, "provided": str(value)}
        )


def validated(
    base_model: str,
    output_name: str,
    examples: list[list[tuple[str, str]]],
    config: TrainingConfig,
    settings: FineTuneSettings,
    callback_url: str = "",
) -> FineTuneSpec:
    """The request, or InvalidInput naming the first field at fault."""
    if not base_model.strip():
        raise InvalidInput("base_model is required", details={"field": "base_model"})
    if not examples:
        raise InvalidInput(
            "training_data is empty",
            details={"field": "training_data"},
            suggestion='give examples such as [{"prompt": "…", "completion": "…"}]',
        )
    if len(examples) > settings.max_examples:
        raise InvalidInput(
            f"training_data has {len(examples)} examples; at most {settings.max_examples} are accepted",
            details={"field": "training_data", "max": settings.max_examples, "provided": len(examples)},
        )
    for index, turns in enumerate(examples):
        field = f"training_data[{index}]"
        if not turns or turns[-1][0] != "assistant" or not turns[-1][1].strip():
            raise InvalidInput(
                f"{field} must end with the answer to learn (a completion, or an assistant message)",
                details={"field": field},
            )
        for role, _ in turns:
            if role not in ROLES:
                raise InvalidInput(
                    f"{field}: unknown role {role!r}", details={"field": field, "supported": list(ROLES)}
                )
        if sum(len(content) for _, content in turns) > settings.max_example_chars:
            raise InvalidInput(
                f"{field} is longer than {settings.max_example_chars} characters",
                details={"field": field, "max": settings.max_example_chars},
            )
    _range(config.epochs, 1, 50, "config.epochs")
    _range(config.learning_rate, 1e-7, 1e-1, "config.learning_rate")
    _range(config.batch_size, 1, 64, "config.batch_size")
    _range(config.validation_split, 0, 0.5, "config.validation_split")
    _range(config.lora_rank, 1, 64, "config.lora_rank")
    _range(config.max_steps, 0, 100_000, "config.max_steps")
    name = (output_name or f"{base_model}-ft").strip()
    if not all(c.isalnum() or c in "-_." for c in name) or len(name) > 120:
        raise InvalidInput(
            f"output name {name!r} may hold letters, digits, '-', '_' and '.' only",
            details={"field": "output_name"},
        )
    return FineTuneSpec(
        base_model=base_model.strip(),
        output_name=name,
        examples=tuple(tuple(turns) for turns in examples),
        config=config,
        callback_url=callback_url,
    )
