"""UTC days and months as the metering tables key them ("YYYY-MM-DD", "YYYY-MM")."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, date, datetime

from services.common.errors import InvalidInput


def now() -> float:
    """The current time, Unix seconds."""
    return time.time()


def day_of(at: float) -> str:
    """The UTC day of a time, "YYYY-MM-DD"."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def month_of(at: float) -> str:
    """The UTC month of a time, "YYYY-MM"."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m")


def next_month_start(at: float) -> int:
    """The first second of the UTC month after the one holding ``at``, Unix seconds."""
    moment = datetime.fromtimestamp(at, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def days_in_month(month: str) -> int:
    """How many days a "YYYY-MM" month has."""
    year, number = (int(part) for part in month.split("-"))
    return calendar.monthrange(year, number)[1]


def parse_day(value: str, field: str) -> date:
    """A "YYYY-MM-DD" day; anything else is InvalidInput naming ``field``."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a day, YYYY-MM-DD", details={"field": field, "value": value[:40]}
        ) from None


def day_range(date_from: str, date_to: str, at: float) -> tuple[str, str]:
    """The inclusive days a query covers: from the month's first day and until today by default."""
    first = parse_day(date_from, "date_from") if date_from else parse_day(month_of(at) + "-01", "date_from")
    last = parse_day(date_to, "date_to") if date_to else parse_day(day_of(at), "date_to")
    if first > last:
        raise InvalidInput(
            "date_from must not be after date_to",
            details={"field": "date_from", "date_from": first.isoformat(), "date_to": last.isoformat()},
        )
    return first.isoformat(), last.isoformat()
