"""Field-by-name copies between protobuf messages and the services' own dataclasses.

Most of a servicer's translation is ``Message(a=x.a, b=x.b, ...)`` and back. Written out, each copy
repeats the field list that the ``.proto`` file and the dataclass already state, and a field added
to both is easily left out of the copy. These two functions copy every field that both sides name,
and take the rest (renamed, nested or computed fields) as keyword arguments.
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
    for field in message_type.DESCRIPTOR.fields:
        value = getattr(source, field.name, None)
        if value is not None:
            values[field.name] = value
    values.update(fields)
    return message_type(**values)


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


def _plain(value: Any) -> Any:
    """A field's value without protobuf containers (nested messages stay messages)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return value
