"""Field-by-name copies between protobuf messages, the services' own dataclasses and JSON.

Most of a servicer's translation is ``Message(a=x.a, b=x.b, ...)`` and back, and most of a
dialect's is ``{"a": m.a, "b": m.b, ...}``. Written out, each copy repeats the field list that the
``.proto`` file and the dataclass already state, and a field added to both is easily left out of
the copy. These functions copy every field that both sides name, and take the rest (renamed,
nested or computed fields) as keyword arguments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.message import Message

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M", bound=Message)
R = TypeVar("R", bound="DataclassInstance")


def message_from(message_type: type[M], source: object, **fields: Any) -> M:
    """A ``message_type`` whose fields take the values of ``source``'s attributes of the same names.

    An attribute that is None leaves its field unset (an optional value not measured stays absent).
    ``fields`` name the rest and override; each must be a field of the message.
    """
    values: dict[str, Any] = {}
    for name in _field_names(message_type):
        if name not in fields:
            value = getattr(source, name, None)
            if value is not None:
                values[name] = value
    return message_type(**values, **fields)


def record_from(record_type: type[R], message: Message, **fields: Any) -> R:
    """A dataclass ``record_type`` whose fields take the message's fields of the same names.

    Repeated fields become lists and maps dicts, so the record holds no protobuf containers.
    ``fields`` name the rest and override; a dataclass field in neither keeps its default.
    """
    by_name = message.DESCRIPTOR.fields_by_name
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record_type):
        if field.name in by_name and field.name not in fields:
            values[field.name] = _plain(getattr(message, field.name))
    values.update(fields)
    return record_type(**values)


def as_dict(message: Message, **fields: Any) -> dict[str, Any]:
    """A message's fields as a JSON-ready dict under their own names, in the ``.proto`` order:
    repeated fields as lists, maps as dicts, nested messages as dicts. ``fields`` override or add.

    Unlike ``json_format.MessageToDict`` it keeps 64-bit integers as numbers and enums as their
    numbers, as the REST documents show them.
    """
    values = {
        name: _json(getattr(message, name)) for name in _field_names(type(message)) if name not in fields
    }
    values.update(fields)
    return values


_FIELD_NAMES: dict[str, tuple[str, ...]] = {}


def _field_names(message_type: type[Message]) -> tuple[str, ...]:
    """A message type's field names (read once: this runs on request paths)."""
    full_name = message_type.DESCRIPTOR.full_name
    names = _FIELD_NAMES.get(full_name)
    if names is None:
        names = _FIELD_NAMES[full_name] = tuple(f.name for f in message_type.DESCRIPTOR.fields)
    return names


def _json(value: Any) -> Any:
    """A field's value as JSON-ready Python."""
    if isinstance(value, Message):
        return as_dict(value)
    value = _plain(value)
    if isinstance(value, list):
        return [as_dict(v) if isinstance(v, Message) else v for v in value]
    return value


def _plain(value: Any) -> Any:
    """A field's value without protobuf containers (nested messages stay messages)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return value
