"""Shared readers for the deploy tests: compose with interpolation, the settings' environment names."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

#: Modules whose settings classes define every MESHSERVE_* variable a process reads.
SETTINGS_MODULES = (
    "services.common.settings",
    "services.common.discovery",
    "services.common.internal_auth",
    "services.auth.settings",
    "services.registry.settings",
    "services.inference.settings",
    "services.inference.llm.settings",
    "services.inference.finetune.spec",
    "services.speech.settings",
    "services.autoscaler.settings",
    "services.launcher.settings",
    "gateway.settings",
    "gateway.security.settings",
)
#: Variables read by libraries or documented in ARCHITECTURE.md rather than by a settings class.
OTHER_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "PYTHONUNBUFFERED",
    "ENABLE_AUTH",
}


def settings_env_names() -> set[str]:
    """Every environment variable name some settings class of the project reads."""
    names: set[str] = set()
    for module_name in SETTINGS_MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, BaseSettings) or cls is BaseSettings:
                continue
            prefix = str(cls.model_config.get("env_prefix", ""))
            if not prefix:
                continue  # a base such as ServiceSettings: its fields count under each subclass's prefix
            for field_name, info in cls.model_fields.items():
                names.add(f"{prefix}{field_name}".upper())
                alias = info.validation_alias
                if isinstance(alias, AliasChoices):
                    names.update(str(choice).upper() for choice in alias.choices)
                elif isinstance(alias, str):
                    names.add(alias.upper())
    return names


def env_example() -> dict[str, str]:
    """Variables of .env.example."""
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` substitution."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = env.get(name)
        if op in (":-", "-"):
            return value if value else arg
        if op in (":?", "?"):
            if not value:
                raise KeyError(f"{name} is required: {arg}")
            return value
        return value or ""

    return _VARIABLE.sub(substitute, text)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml after interpolation with ``env`` (default: .env.example) and YAML merge keys."""
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), env if env is not None else env_example()))


def required_variables() -> set[str]:
    """Variables the compose file refuses to run without (``${VAR:?…}``)."""
    return {m.group("name") for m in _VARIABLE.finditer(COMPOSE_FILE.read_text()) if m.group("op") == ":?"}
