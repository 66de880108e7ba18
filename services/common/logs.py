"""Structured JSON logs, one object a line, with the request id of the current call.

Every process logs to stderr and, when ``MESHSERVE_LOG_DIR`` is set (the launcher sets it to
``var/logs``), also to its own rotated file ``<service>.jsonl`` there (``MESHSERVE_LOG_MAX_BYTES``,
``MESHSERVE_LOG_BACKUPS``). :class:`LogDirectory` lists, reads, filters and clears those files for the
API, refusing any name that is not a plain file directly inside the directory.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from services.common.context import request_id_var
from services.common.errors import InvalidInput, NotFound

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats records as JSON with service name, request id and any ``extra`` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object for one record."""
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_dir_from_env() -> Path | None:
    """The directory of the rotated log files, when ``MESHSERVE_LOG_DIR`` names one."""
    value = os.environ.get("MESHSERVE_LOG_DIR", "")
    return Path(value) if value else None


def configure_logging(service: str, level: str = "INFO") -> None:
    """Routes every logger to stderr as JSON lines, and to ``<service>.jsonl`` in the log directory."""
    formatter = JsonFormatter(service)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handlers: list[logging.Handler] = [handler]
    directory = log_dir_from_env()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            directory / f"{service}.jsonl",
            maxBytes=int(os.environ.get("MESHSERVE_LOG_MAX_BYTES", 10 * 1024 * 1024)),
            backupCount=int(os.environ.get("MESHSERVE_LOG_BACKUPS", 5)),
            encoding="utf-8",
        )
        rotating.setFormatter(formatter)
        handlers.append(rotating)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())


#: Log file names the API accepts: one path segment of safe characters, not a dot file.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


@dataclass(frozen=True)
class LogFile:
    """One file of the log directory."""

    name: str
    size_bytes: int
    modified: float


@dataclass(frozen=True)
class LogEntry:
    """One structured log line."""

    timestamp: str
    level: str
    component: str
    message: str
    metadata: dict[str, object]


class LogDirectory:
    """The log files of the mesh's processes, read and cleared without leaving the directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def files(self) -> list[LogFile]:
        """Plain files in the directory, by name."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.iterdir()):
            if path.is_file() and not path.is_symlink() and _SAFE_NAME.match(path.name):
                stat = path.stat()
                found.append(LogFile(path.name, stat.st_size, stat.st_mtime))
        return found

    def path_of(self, name: str) -> Path:
        """The file called ``name`` in the directory, or :class:`InvalidInput`/:class:`NotFound`."""
        if not _SAFE_NAME.match(name) or ".." in name:
            raise InvalidInput(
                "log file names are plain file names inside the log directory",
                details={"field": "log_file"},
                suggestion="list the files with GET /logs",
            )
        root = self.directory.resolve()
        path = (root / name).resolve()
        if path.parent != root or not path.is_file() or (root / name).is_symlink():
            raise NotFound(f"no log file {name!r}", details={"log_file": name})
        return path

    def read(self, name: str, tail_lines: int = 0) -> str:
        """The text of a log file (its last ``tail_lines`` lines when given)."""
        text = self.path_of(name).read_text(encoding="utf-8", errors="replace")
        if tail_lines > 0:
            text = "".join(text.splitlines(keepends=True)[-tail_lines:])
        return text

    def clear(self, name: str) -> int:
        """Empties a log file (the writer keeps its handle); returns the bytes removed."""
        path = self.path_of(name)
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.truncate(0)
        return size

    def entries(self) -> Iterator[LogEntry]:
        """Every structured entry of every ``.jsonl`` file (rotated ones included)."""
        for log_file in self.files():
            if ".jsonl" not in log_file.name:
                continue
            with (self.directory / log_file.name).open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    entry = _parse(line)
                    if entry is not None:
                        yield entry

    def query(
        self, level: str = "info", limit: int = 100, since: datetime | None = None
    ) -> tuple[list[LogEntry], int]:
        """Entries at ``level`` or above, newer than ``since``, newest first; and the total count."""
        floor = LEVELS.get(level.lower())
        if floor is None:
            raise InvalidInput(
                f"unknown level {level!r}", details={"field": "level", "allowed": ",".join(LEVELS)}
            )
        since_text = _iso(since) if since else ""
        total = 0
        matching: list[LogEntry] = []
        for entry in self.entries():
            total += 1
            if LEVELS.get(entry.level, 0) >= floor and entry.timestamp >= since_text:
                matching.append(entry)
        matching.sort(key=lambda e: e.timestamp, reverse=True)
        return matching[:limit], total


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(line: str) -> LogEntry | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or "ts" not in raw:
        return None
    metadata = {k: v for k, v in raw.items() if k not in ("ts", "level", "service", "msg")}
    return LogEntry(
        timestamp=str(raw["ts"]),
        level=str(raw.get("level", "info")),
        component=str(raw.get("service", "")),
        message=str(raw.get("msg", "")),
        metadata=metadata,
    )
