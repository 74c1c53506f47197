"""Appointments whose start_at is a date alone (the source kept no time of day) get a start.

Per clinic and day, in file order: each such appointment starts when its provider, its chair
and its patient are all free, beginning at the clinic's opening time that weekday, and skipping
past the timed active appointments of the files on that day. Deterministic: the same files give
the same starts, so a re-import finds nothing changed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import TYPE_CHECKING

from core_app.service_layer.importing.visit_rules import ACTIVE

if TYPE_CHECKING:
    from core_app.service_layer.importing.visits import VisitPlan

Day = tuple[str, date]


def place_date_only(plans: list[VisitPlan]) -> None:
    busy: dict[Day, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    waiting: dict[Day, list[VisitPlan]] = defaultdict(list)
    for plan in plans:
        clinic = plan.clinic
        if plan.row.start_at.date_only:
            waiting[(clinic.name, plan.row.start_at.moment.date())].append(plan)
        elif plan.row.status in ACTIVE:
            day = datetime.fromtimestamp(plan.start, clinic.zone).date()
            for key in _resources(plan):
                busy[(clinic.name, day)][key].append((plan.start, plan.start + plan.duration_s))
    for (_, day), group in waiting.items():
        clinic = group[0].clinic
        minute = clinic.opening_minute(day.weekday())
        opening = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        first = int(opening.replace(tzinfo=clinic.zone).timestamp())
        taken = busy.get((clinic.name, day), {})
        free_from: dict[str, int] = {}
        for plan in group:
            keys = _resources(plan)
            start = max(free_from.get(key, first) for key in keys)
            start = _skip_busy(start, plan.duration_s, [taken.get(key, []) for key in keys])
            plan.start = start
            for key in keys:
                free_from[key] = start + plan.duration_s


def _resources(plan: VisitPlan) -> tuple[str, str, str]:
    return (plan.provider.key, plan.chair.key, plan.patient)


def _skip_busy(start: int, duration: int, intervals: list[list[tuple[int, int]]]) -> int:
    moved = True
    while moved:
        moved = False
        for taken in intervals:
            for busy_start, busy_end in taken:
                if busy_start < start + duration and start < busy_end:
                    start, moved = busy_end, True
    return start
