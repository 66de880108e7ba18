"""OpenAI's cursor pages of items (a stored response's input items, a conversation's items): the
``limit``, ``order`` and ``after`` query parameters and the ``list`` object."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query

from services.common.errors import InvalidInput

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Order = Annotated[Literal["asc", "desc"], Query(description="Oldest (asc) or newest first.")]
After = Annotated[str | None, Query(description="List the items after this item id.")]


def item_list(items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    """A page of items as OpenAI's ``list`` object."""
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": more,
    }


def page_of(items: list[dict[str, Any]], limit: int, order: str, after: str | None) -> dict[str, Any]:
    """One page of items given oldest first: in ``order``, after the item ``after`` names."""
    ordered = list(reversed(items)) if order == "desc" else list(items)
    if after is not None:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise InvalidInput(f"no item {after!r} in this list", details={"field": "after"})
        ordered = ordered[ids.index(after) + 1 :]
    return item_list(ordered[:limit], len(ordered) > limit)
