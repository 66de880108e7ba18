"""An error's facts (its details: field, limits, what was provided) as each wire carries them: JSON
values, the text map plain gRPC clients read, and a ``google.protobuf.Struct``."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2


def json_value(value: Any) -> Any:
    """``value`` as a JSON value: scalars and containers as they are, anything else as its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no inf or nan: "inf", "-inf", "nan"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def facts_as_text(facts: Mapping[str, Any]) -> dict[str, str]:
    """Facts as the text map that plain gRPC clients read (strings bare, the rest as JSON)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in facts.items()}


def facts_as_struct(facts: Mapping[str, Any]) -> struct_pb2.Struct:
    """Facts as a ``google.protobuf.Struct``."""
    struct = struct_pb2.Struct()
    struct.update(facts)
    return struct
