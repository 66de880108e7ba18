"""How the commands talk to the terminal: results on stdout (text, a table, or JSON with
``--json``), progress and errors on stderr, errors as one line each with a non-zero exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from meshserve.errors import APIError, MeshserveError, NetworkError, TimeoutError

EXIT_ERROR = 1  # the gateway refused or failed the request, or could not be reached
EXIT_USAGE = 2  # the command line or a local input (file, JSON) is wrong; argparse uses 2 too


class UsageError(Exception):
    """A problem with what the user typed or pointed at, found before any request was sent."""


def emit_json(value: Any) -> None:
    """Prints a JSON document (the ``--json`` output of every command)."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain, left-aligned text table: ``columns`` are (key, heading) pairs."""
    cells = [[heading for _, heading in columns]]
    cells += [["" if row.get(key) is None else str(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in cells
    )


def describe(error: BaseException) -> str:
    """One line that says what went wrong, from the SDK's typed errors."""
    if isinstance(error, APIError):
        text = str(error)
        if error.suggestion:
            text += f" (hint: {error.suggestion})"
    elif isinstance(error, TimeoutError):
        text = f"timed out: {error.message} (raise --timeout for slow operations)"
    elif isinstance(error, NetworkError):
        text = f"cannot reach the gateway: {error.message} (is it running? see --base-url)"
    elif isinstance(error, MeshserveError):
        text = error.message
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def fail(error: BaseException) -> int:
    """Reports an error on stderr and returns the exit code for it."""
    sys.stdout.flush()
    print(f"meshserve: error: {describe(error)}", file=sys.stderr, flush=True)
    return EXIT_USAGE if isinstance(error, UsageError) else EXIT_ERROR
