"""The core's side: the connected application and the clinic facts every page needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from core_app.domain.staff import Actor
from core_app.service_layer import practice_queries
from core_app.service_layer.bootstrap import App


@dataclass(frozen=True)
class Clinic:
    clinic_id: int
    name: str
    timezone: str
    currency: str

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: datetime | None = None) -> date:
        return (now or datetime.now(UTC)).astimezone(self.zone()).date()

    def day_bounds(self, first: date, days: int) -> tuple[datetime, datetime]:
        """UTC bounds of `days` clinic-local days from `first` (daylight-saving safe)."""
        zone = self.zone()
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def clinics(app: App, actor: Actor) -> list[Clinic]:
    """The clinics this actor may see (a clinic-bound user sees only theirs)."""
    return [
        Clinic(int(c["clinic_id"]), str(c["name"]), str(c["timezone"]), str(c["currency"]))
        for c in practice_queries.list_clinics(app.uow(), actor)
    ]


def names_by_id(app: App, actor: Actor, clinic: Clinic) -> tuple[dict[int, str], dict[int, str]]:
    """Names of the clinic's providers and chairs (set-up data, not patient data)."""
    return practice_queries.clinic_names(app.uow(), actor, clinic_id=clinic.clinic_id)


def empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
