"""Reading one cell: each reader returns the value or raises `CellError` with the reason."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core_app.service_layer.importing.csv_format import LIST_SEPARATOR, METHODS, STATUSES

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^-?\d+$", re.ASCII)
_CODE = re.compile(r"^[A-Z0-9]{1,10}$", re.ASCII)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_SEX = {
    "female": "female",
    "f": "female",
    "male": "male",
    "m": "male",
    "other": "other",
    "o": "other",
    "x": "other",
    "u": None,
    "unknown": None,
}
MAX_KEY = 50


class CellError(ValueError):
    """The cell cannot be read; the message is the reason shown to the user."""


class Stamp(NamedTuple):
    """A timestamp as written: aware, or naive (clinic local time), or a date alone."""

    moment: datetime
    date_only: bool

    def epoch(self, zone: ZoneInfo) -> int:
        """UTC epoch seconds; a naive time is read in `zone` (fractions of a second dropped).

        A naive time in a daylight-saving gap or fold takes the offset in force before the
        change (Python's `fold=0`): 02:30 on a spring-forward night is 03:30 daylight time."""
        moment = self.moment
        if moment.tzinfo is not None:
            return int(moment.timestamp() // 1)
        day = moment.toordinal()
        offset = _hour_offset(zone, day, moment.hour)
        if offset is None:  # the offset changes within this hour: ask the zone
            return int(moment.replace(tzinfo=zone).timestamp() // 1)
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        return (day - _EPOCH_DAY) * 86400 + seconds - offset


_EPOCH_DAY = datetime(1970, 1, 1).toordinal()


@lru_cache(maxsize=1 << 17)
def _hour_offset(zone: ZoneInfo, day: int, hour: int) -> int | None:
    """The zone's UTC offset (s) for every local time in that hour, or None if it changes.
    (Offsets change at most once in an hour, so equal offsets at both ends mean constant.)"""
    start = datetime.fromordinal(day).replace(hour=hour, tzinfo=zone)
    first = start.utcoffset()
    last = start.replace(minute=59, second=59).utcoffset()
    if first is None or first != last:
        return None
    return int(first.total_seconds())


def key(text: str) -> str:
    if len(text) > MAX_KEY:
        raise CellError(f"a key may have at most {MAX_KEY} characters, got {len(text)}")
    return text


def timestamp(text: str, *, date_allowed: bool = True) -> Stamp:
    if len(text) == 10 and _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise CellError(f"{text!r} is not a date (YYYY-MM-DD)") from None
        if not date_allowed:
            raise CellError(f"{text!r} has no time of day")
        return Stamp(datetime(day.year, day.month, day.day), True)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CellError(
            f"{text!r} is not an ISO 8601 timestamp (e.g. 2024-03-01T09:30:00-05:00 or "
            "2024-03-01 09:30 in clinic local time)"
        ) from None
    if moment.tzinfo is not None and moment.utcoffset() is None:
        raise CellError(f"{text!r} has a timezone without an offset")
    return Stamp(moment, False)


def birth_date(text: str) -> date:
    if _DATE_ONLY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise CellError(f"{text!r} is not a date (YYYY-MM-DD)")


def integer(text: str, *, low: int, high: int, what: str) -> int:
    if not _INTEGER.match(text):
        raise CellError(f"{what} must be a whole number, got {text!r}")
    value = int(text)
    if value < low:
        raise CellError(f"{what} must not be {'negative' if low == 0 else f'below {low}'}: {value}")
    if value > high:
        raise CellError(f"{what} must be at most {high}, got {value}")
    return value


def cents_list(text: str) -> tuple[int, ...]:
    return tuple(
        integer(part.strip(), low=0, high=100_000_000_00, what="a fee in cents")
        for part in text.split(LIST_SEPARATOR)
    )


@lru_cache(maxsize=4096)
def codes(text: str) -> tuple[str, ...]:
    found = tuple(part.strip().upper() for part in text.split(LIST_SEPARATOR))
    for code in found:
        if not _CODE.match(code):
            raise CellError(f"{code!r} is not a procedure code (letters and digits, e.g. D1110)")
    return found


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(f"{text!r} is not a boolean (true/false, yes/no, 1/0)")


def sex(text: str) -> str | None:
    lowered = text.lower()
    if lowered not in _SEX:
        raise CellError(f"{text!r} is not a sex (female, male, other, unknown)")
    return _SEX[lowered]


def decimal(text: str, *, low: float, high: float, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"{what} must be a number, got {text!r}") from None
    if not low <= value <= high:
        raise CellError(f"{what} must be between {low:g} and {high:g}, got {text}")
    return value


def choice(text: str, allowed: tuple[str, ...], what: str) -> str:
    lowered = text.lower()
    if lowered not in allowed:
        raise CellError(f"{what} {text!r} is not one of {', '.join(allowed)}")
    return lowered


def status(text: str) -> str:
    return choice(text, STATUSES, "status")


def method(text: str) -> str:
    return choice(text, METHODS, "method")


def bounded_text(text: str, *, high: int, what: str) -> str:
    if len(text) > high:
        raise CellError(f"{what} is longer than {high} characters")
    return text
