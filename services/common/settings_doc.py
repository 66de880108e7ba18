"""Prints the configuration table of every process (``python -m services.common.settings_doc``).

The README's configuration table is this output; a test keeps the two in step.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from services.common.settings import ServiceSettings

#: (process, "module:Class") of every settings object, in README order.
SETTINGS_CLASSES: tuple[tuple[str, str], ...] = (
    ("launcher", "services.launcher.settings:LauncherSettings"),
    ("all services", "services.common.settings:MeshEndpoints"),
    ("gateway", "gateway.settings:GatewaySettings"),
    ("gateway", "gateway.security.settings:SecuritySettings"),
    ("gateway", "gateway.dashboard.settings:OpsSettings"),
    ("all processes", "services.common.internal_auth:InternalAuthSettings"),
    ("all processes", "services.common.discovery:DiscoverySettings"),
    ("auth", "services.auth.settings:AuthSettings"),
    ("registry", "services.registry.settings:RegistrySettings"),
    ("inference", "services.inference.settings:InferenceSettings"),
    ("inference (text generation)", "services.inference.llm.settings:GenerationSettings"),
    ("inference (jobs and webhooks)", "services.inference.jobs.settings:JobSettings"),
    ("inference (fine-tuning)", "services.inference.finetune.spec:FineTuneSettings"),
    ("speech", "services.speech.settings:SpeechSettings"),
    ("autoscaler", "services.autoscaler.settings:AutoscalerSettings"),
)


def load(path: str) -> type[BaseSettings]:
    """A settings class from ``module:Class``."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def rows() -> Iterator[tuple[str, str, str, str]]:
    """(process, variable, default, description) for every field of every settings class.

    Fields every service inherits from :class:`ServiceSettings` are listed once, as
    ``MESHSERVE_<NAME>_…``; each service then lists its port, its own fields, and the inherited ones
    it gives another default or meaning.
    """
    common = set(ServiceSettings.model_fields) - {"port"}

    def inherited(name: str, field: FieldInfo) -> bool:
        base = ServiceSettings.model_fields[name]
        return _default(field) == _default(base) and field.description == base.description

    for name, field in ServiceSettings.model_fields.items():
        if name in common:
            yield (
                "every service",
                f"MESHSERVE_<NAME>_{name.upper()}",
                _default(field),
                field.description or "",
            )
    for process, path in SETTINGS_CLASSES:
        cls = load(path)
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, field in cls.model_fields.items():
            if issubclass(cls, ServiceSettings) and name in common and inherited(name, field):
                continue
            yield process, f"{prefix}{name}".upper(), _default(field), field.description or ""


def _default(field: FieldInfo) -> str:
    """The default as a user would write it; empty for none (or an empty collection)."""
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return ""
    if isinstance(value, (dict, list, tuple, set)):
        return json.dumps(list(value) if isinstance(value, (tuple, set)) else value) if value else ""
    return str(value)


def markdown() -> str:
    """The configuration table as markdown."""
    lines = ["| process | variable | default | meaning |", "|---|---|---|---|"]
    lines += [f"| {p} | `{v}` | `{d}` | {m} |" if d else f"| {p} | `{v}` | | {m} |" for p, v, d, m in rows()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
