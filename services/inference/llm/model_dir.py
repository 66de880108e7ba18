"""Writes the Triton model directory of a language model (config.pbtxt + 1/model.py)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

MODEL_PY = Path(__file__).with_name("triton_model") / "model.py"
#: Repository root, put on the python backend's sys.path so model.py imports the engine.
CODE_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class LLMSpec:
    """A language model to serve: its public id and where its weights are."""

    model_id: str
    source: Path
    device: str = "auto"
    max_batch: int = 16
    #: Which weights (a registry model's sha256 prefix); a new version is another Triton model.
    revision: str = ""
    #: ``auto``, ``llama.cpp``, ``vllm`` or ``transformers`` (services.inference.llm.engines).
    engine: str = "auto"
    #: CPU threads of the engine (0: every core the worker may use).
    threads: int = 0
    #: Tokens one sequence may hold (0: the model's trained context).
    context_tokens: int = 0
    #: Whether each decode picks all of ``threads`` or half, whichever has been faster.
    adaptive_threads: bool = True
    #: Whether a CPU engine takes turns on the cores with the machine's other engines.
    cpu_turns: bool = True

    @property
    def triton_name(self) -> str:
        """Triton model name (Triton names allow no '/' or ':')."""
        name = "llm--" + re.sub(r"[^A-Za-z0-9_.-]", "_", self.model_id)
        return f"{name}--{self.revision}" if self.revision else name


def config_pbtxt(spec: LLMSpec) -> str:
    """A decoupled python-backend config taking one JSON request and streaming JSON events."""
    params = {
        "source": str(spec.source),
        "device": spec.device,
        "max_batch": str(spec.max_batch),
        "engine": spec.engine,
        "threads": str(spec.threads),
        "context_tokens": str(spec.context_tokens),
        "adaptive_threads": "1" if spec.adaptive_threads else "0",
        "cpu_turns": "1" if spec.cpu_turns else "0",
        "code_root": str(CODE_ROOT),
    }
    lines = [
        f'name: "{spec.triton_name}"',
        'backend: "python"',
        "max_batch_size: 0",
        "model_transaction_policy { decoupled: true }",
        'input [ { name: "REQUEST" data_type: TYPE_STRING dims: [ 1 ] } ]',
        'output [ { name: "EVENT" data_type: TYPE_STRING dims: [ 1 ] } ]',
        # One instance: the engine batches internally; a second would hold a second copy.
        "instance_group [ { count: 1 kind: KIND_CPU } ]",
        *(f'parameters: {{ key: "{k}" value: {{ string_value: "{v}" }} }}' for k, v in params.items()),
    ]
    return "\n".join(lines) + "\n"


def write_model_directory(spec: LLMSpec, dest: Path) -> Path:
    """Writes ``dest/<triton name>/`` and returns it."""
    model = dest / spec.triton_name
    (model / "1").mkdir(parents=True, exist_ok=True)
    shutil.copy(MODEL_PY, model / "1" / "model.py")
    (model / "config.pbtxt").write_text(config_pbtxt(spec))
    return model
