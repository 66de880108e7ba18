"""One gRPC service served by several small objects, each implementing some of its methods.

A service with many methods (InferenceService: tensors, generation, plugins, advanced inference)
is better written as several classes with one job each than as one class or a chain of mixins.
:func:`compose` checks that together they implement every method exactly once, and returns the
object that the generated ``add_…Servicer_to_server`` function takes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from google.protobuf.descriptor import ServiceDescriptor


def compose(service: ServiceDescriptor, *faces: Any) -> Any:
    """An object whose attribute for each of the service's methods is the one face defining it.

    Raises TypeError at start-up when a method is implemented by no face or by two: a missing method
    would otherwise answer UNIMPLEMENTED at run time, and a duplicate would silently shadow another.
    """
    methods: dict[str, Any] = {}
    for method in service.methods:
        owners = [face for face in faces if callable(getattr(type(face), method.name, None))]
        if len(owners) != 1:
            names = ", ".join(type(f).__name__ for f in owners) or "none of them"
            raise TypeError(f"{service.full_name}.{method.name} must be implemented by one face, not {names}")
        methods[method.name] = getattr(owners[0], method.name)
    return SimpleNamespace(**methods)
