"""Weekly hours (clinic opening hours, provider working hours) and time helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core_app.domain.exceptions import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BLOCK = re.compile(
    r"^\s*(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})\s*$"
)


def ensure_utc(value: datetime, *, name: str = "time") -> datetime:
    """Return `value` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must carry a timezone (got {value.isoformat()})")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown timezone {name!r}") from exc


@dataclass(frozen=True)
class HoursBlock:
    """One weekly block, in clinic local time: weekday 0 = Monday, [start, end)."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValidationError(f"weekday must be 0..6, got {self.weekday}")
        if self.start >= self.end:
            raise ValidationError(
                f"hours block {self.start:%H:%M}-{self.end:%H:%M} ends before it starts"
            )

    def covers(self, local_start: datetime, local_end: datetime) -> bool:
        if local_start.weekday() != self.weekday or local_end.date() != local_start.date():
            # an interval ending exactly at midnight is not supported: clinics close before
            return False
        return self.start <= local_start.time() and local_end.time() <= self.end

    @property
    def minutes(self) -> int:
        delta = datetime.combine(datetime.min, self.end) - datetime.combine(
            datetime.min, self.start
        )
        return int(delta / timedelta(minutes=1))

    def describe(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"


def _parse_time(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValidationError(f"invalid time of day {text!r}")
    return time(hours, minutes)


def _expand_days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValidationError(f"unknown weekday in {part!r}; use mon, tue, ... sun")
        start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if stop < start:
            raise ValidationError(f"weekday range {part!r} runs backwards")
        days.extend(range(start, stop + 1))
    return days


def parse_weekly_hours(text: str) -> tuple[HoursBlock, ...]:
    """Parse `"mon-fri 08:00-17:00; sat 09:00-13:00"` into hours blocks."""
    blocks: list[HoursBlock] = []
    for chunk in text.lower().split(";"):
        if not chunk.strip():
            continue
        match = _BLOCK.match(chunk)
        if match is None:
            raise ValidationError(
                f"cannot read hours {chunk.strip()!r}; write e.g. 'mon-fri 08:00-17:00'"
            )
        start, end = _parse_time(match["start"]), _parse_time(match["end"])
        blocks.extend(HoursBlock(day, start, end) for day in _expand_days(match["days"]))
    if not blocks:
        raise ValidationError("hours are empty; write e.g. 'mon-fri 08:00-17:00'")
    ordered = sorted(blocks, key=lambda b: (b.weekday, b.start))
    for before, after in pairwise(ordered):
        if before.weekday == after.weekday and after.start < before.end:
            raise ValidationError(f"hours {before.describe()} and {after.describe()} overlap")
    return _merge_touching(ordered)


def _merge_touching(ordered: list[HoursBlock]) -> tuple[HoursBlock, ...]:
    """`mon 08:00-12:00; mon 12:00-18:00` is one block: an appointment may span 12:00."""
    merged: list[HoursBlock] = []
    for block in ordered:
        last = merged[-1] if merged else None
        if last is not None and last.weekday == block.weekday and last.end == block.start:
            merged[-1] = HoursBlock(block.weekday, last.start, block.end)
        else:
            merged.append(block)
    return tuple(merged)


def format_weekly_hours(blocks: tuple[HoursBlock, ...] | list[HoursBlock]) -> str:
    return "; ".join(
        block.describe() for block in sorted(blocks, key=lambda b: (b.weekday, b.start))
    )


def blocks_cover(
    blocks: tuple[HoursBlock, ...] | list[HoursBlock], local_start: datetime, local_end: datetime
) -> bool:
    return any(block.covers(local_start, local_end) for block in blocks)
