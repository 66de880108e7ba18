"""Aliases so each document's client examples run with only their import line changed.

=====================  ==================================================  =====================
document               original import                                     replacement
=====================  ==================================================  =====================
000 ACE3 SDK           ``import ace3``                                     ``import meshserve.compat.ace3 as ace3``
000 ACE3 SDK           ``from ace3.utils import retry``                    ``from meshserve.compat.ace3.utils import retry``
002 Inferneo client    ``from inferneo import InferneoClient``             ``from meshserve.compat.inferneo import InferneoClient``
003 Auterity SDK       ``from auterity import AIClient``                   ``from meshserve.compat.auterity import AIClient``
004 LLaMA GPU client   ``from llama_gpu_client import LlamaGPUClient``     ``from meshserve.compat.llama_gpu import LlamaGPUClient``
=====================  ==================================================  =====================

Compat clients talk to ``MESHSERVE_BASE_URL`` when it is set, even where the example names its
vendor's host (``https://api.ace3.ai``): pointing unchanged code at your gateway is their purpose.
"""

from __future__ import annotations

from typing import Any

from meshserve.client import AsyncClient, Client
from meshserve.config import base_url_from_env


def redirect(kwargs: dict[str, Any], args: tuple[Any, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Arguments with the URL replaced by MESHSERVE_BASE_URL when that is set."""
    target = base_url_from_env()
    if target:
        if args and isinstance(args[0], str):
            args = (target, *args[1:])
        kwargs = {k: v for k, v in kwargs.items() if k not in ("base_url", "endpoint")}
        if not args:
            kwargs["base_url"] = target
    return args, kwargs


class CompatClient(Client):
    """A Client whose URL MESHSERVE_BASE_URL overrides."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = redirect(kwargs, args)
        super().__init__(*args, **kwargs)


class AsyncCompatClient(AsyncClient):
    """An AsyncClient whose URL MESHSERVE_BASE_URL overrides."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args, kwargs = redirect(kwargs, args)
        super().__init__(*args, **kwargs)
