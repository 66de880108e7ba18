"""Document 001 logging: ``GET /logs``, ``GET /logs/{log_file}``, ``DELETE /logs/{log_file}``.

Only plain files directly inside the log directory are served; any other name (``..``, slashes,
dot files, links) is refused before the file system is touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import PlainTextResponse

from gateway.dashboard import views
from gateway.dialects import dialect_router
from gateway.dialects.pytorch_if.envelope import ops_reply

router = dialect_router("pytorch_if", "pytorch-if operations")


@router.get("/logs", summary="Logging information")
async def logs(request: Request) -> dict[str, Any]:
    """The log files of every process, with sizes and modification times."""
    directory = views.log_directory(request)
    files = directory.files()
    return ops_reply(
        request,
        log_directory=str(directory.directory),
        files=[
            {
                "name": f.name,
                "size_bytes": f.size_bytes,
                "modified": datetime.fromtimestamp(f.modified, UTC).isoformat().replace("+00:00", "Z"),
            }
            for f in files
        ],
        total_files=len(files),
        total_size_bytes=sum(f.size_bytes for f in files),
    )


@router.get("/logs/{log_file:path}", summary="View a log file")
async def log_file(
    request: Request,
    log_file: str,
    lines: Annotated[int, Query(ge=0, le=100_000, description="Only the last N lines; 0 for all.")] = 0,
) -> PlainTextResponse:
    """The text of one log file."""
    text = views.log_directory(request).read(log_file, tail_lines=lines)
    return PlainTextResponse(text, headers={"Content-Disposition": f'inline; filename="{log_file}"'})


@router.delete("/logs/{log_file:path}", summary="Clear a log file")
async def clear_log_file(request: Request, log_file: str) -> dict[str, Any]:
    """Empties one log file (the process keeps writing to it)."""
    removed = views.log_directory(request).clear(log_file)
    return ops_reply(
        request,
        message=f"log file {log_file} cleared",
        file=log_file,
        bytes_removed=removed,
    )
