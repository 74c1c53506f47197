"""The simulated calendar: which days the clinics are open, and local time as UTC epochs.

Day index 0 is the first day of history; `today_index` is `--today`, whose local midnight is
the simulation's "now": everything before it has happened, everything from it on is booked.
All clinics share one timezone and one set of opening hours (one block per weekday).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import parse_weekly_hours
from simulator.params import SimulationParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Timeline:
    first_day: date
    today_index: int
    n_days: int
    weekday: IntArray
    day_of_year: IntArray
    is_holiday: BoolArray
    is_open: BoolArray
    open_min: IntArray  # local minutes after midnight; 0 on closed days
    close_min: IntArray
    midnight: IntArray  # UTC epoch of local 00:00 (offset taken at local noon)
    holiday_names: dict[int, str]

    @property
    def now(self) -> int:
        return int(self.midnight[self.today_index])

    def day(self, index: int) -> date:
        return self.first_day + timedelta(days=index)

    def day_of(self, epoch: IntArray) -> IntArray:
        """Day index of UTC epochs that fall inside opening hours."""
        return np.searchsorted(self.midnight, epoch, side="right").astype(np.int64) - 1


def weekly_blocks(hours: str) -> tuple[dict[int, int], dict[int, int]]:
    """Opening minute and closing minute per weekday (one block a day)."""
    opening: dict[int, int] = {}
    closing: dict[int, int] = {}
    for block in parse_weekly_hours(hours):
        if block.weekday in opening:
            raise ValidationError("the simulator takes one block of opening hours per weekday")
        opening[block.weekday] = block.start.hour * 60 + block.start.minute
        closing[block.weekday] = block.end.hour * 60 + block.end.minute
    return opening, closing


def build_timeline(params: SimulationParams) -> Timeline:
    first = params.today - timedelta(days=params.history_days)
    n_days = params.history_days + 7 * params.future_weeks
    zone = ZoneInfo(params.timezone)
    opening, closing = weekly_blocks(params.opening_hours)
    years = list(range(first.year, (first + timedelta(days=n_days)).year + 1))
    try:
        calendar = holidays.country_holidays(params.country, years=years)
    except NotImplementedError as error:
        raise ValidationError(f"no public holidays known for country {params.country}") from error
    days = [first + timedelta(days=i) for i in range(n_days)]
    weekday = np.array([d.weekday() for d in days], dtype=np.int64)
    is_holiday = np.array([d in calendar for d in days], dtype=np.bool_)
    has_hours = np.array([d.weekday() in opening for d in days], dtype=np.bool_)
    is_open = has_hours & ~(is_holiday & params.demand.close_on_public_holidays)
    open_min = np.array([opening.get(d.weekday(), 0) for d in days], dtype=np.int64) * is_open
    close_min = np.array([closing.get(d.weekday(), 0) for d in days], dtype=np.int64) * is_open
    midnight = np.empty(n_days, dtype=np.int64)
    for i, d in enumerate(days):
        noon = datetime.combine(d, time(12), zone)
        offset = noon.utcoffset() or timedelta(0)
        naive_epoch = (d - date(1970, 1, 1)).days * 86400
        midnight[i] = naive_epoch - int(offset.total_seconds())
    return Timeline(
        first_day=first,
        today_index=params.history_days,
        n_days=n_days,
        weekday=weekday,
        day_of_year=np.array([d.timetuple().tm_yday for d in days], dtype=np.int64),
        is_holiday=is_holiday,
        is_open=is_open,
        open_min=open_min,
        close_min=close_min,
        midnight=midnight,
        holiday_names={i: str(calendar.get(d)) for i, d in enumerate(days) if d in calendar},
    )
