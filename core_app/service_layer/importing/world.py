"""The practice as the import sees it: clinics, providers and chairs by name, each either stored
already or planned (to be created when the whole import is valid).

Keys identify a resource before it has an id: `provider#12` is stored, `provider+Main/Dr Ada`
is planned. The overlap check and the comparison with stored records work on these keys.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core_app.domain.catalog import DEFAULT_CATALOG
from core_app.domain.hours import HoursBlock, zone
from core_app.domain.practice import Clinic, ProviderKind
from core_app.service_layer.importing.options import ImportOptions
from core_app.service_layer.unit_of_work import UnitOfWork


class CatalogItem(NamedTuple):
    duration_min: int
    fee_cents: int
    hygienist_allowed: bool


@dataclass
class ClinicPlan:
    name: str
    clinic_id: int | None
    timezone: str
    currency: str
    country: str
    hours: tuple[HoursBlock, ...]
    catalog: dict[str, CatalogItem]
    zone: ZoneInfo = field(init=False)

    def __post_init__(self) -> None:
        self.zone = zone(self.timezone)

    def local_today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def opening_minute(self, weekday: int) -> int:
        """Minutes after midnight at which the clinic opens on `weekday` (else its earliest)."""
        same_day = [b.start for b in self.hours if b.weekday == weekday]
        starts = same_day or [b.start for b in self.hours]
        first = min(starts) if starts else None
        return first.hour * 60 + first.minute if first else 8 * 60


@dataclass
class ResourcePlan:
    """A provider or chair: `line` is the first appointments.csv row that named it."""

    key: str
    clinic: str
    name: str
    resource_id: int | None
    line: int
    kind: ProviderKind | None = None  # providers only


class World:
    """Stored clinics, providers and chairs, and the ones this import would create."""

    def __init__(self, uow: UnitOfWork, options: ImportOptions, hours: tuple[HoursBlock, ...]):
        self.options = options
        self.hours = hours
        self.clinics: dict[str, ClinicPlan] = {}
        self.clinic_names: dict[int, str] = {}
        for clinic in uow.clinics.list():
            plan = _stored_clinic(uow, clinic)
            self.clinics[clinic.name] = plan
            self.clinic_names[plan.clinic_id or 0] = clinic.name
        self.providers: dict[tuple[str, str], list[ResourcePlan]] = defaultdict(list)
        self.provider_names: dict[int, str] = {}
        self.stored_providers: dict[int, ResourcePlan] = {}
        for provider in uow.providers.list():
            pid = provider.provider_id or 0
            self.provider_names[pid] = provider.name
            for clinic_id in {h.clinic_id for h in provider.working_hours}:
                name = self.clinic_names.get(clinic_id)
                if name is not None:
                    known = ResourcePlan(
                        f"provider#{pid}", name, provider.name, pid, 0, provider.kind
                    )
                    self.providers[(name, provider.name)].append(known)
                    self.stored_providers[pid] = known
        self.chairs: dict[tuple[str, str], ResourcePlan] = {}
        self.chair_names: dict[int, str] = {}
        self.stored_chairs: dict[int, ResourcePlan] = {}
        for clinic_id, clinic_name in self.clinic_names.items():
            for chair in uow.chairs.for_clinic(clinic_id):
                cid = chair.chair_id or 0
                self.chair_names[cid] = chair.name
                seat = ResourcePlan(f"chair#{cid}", clinic_name, chair.name, cid, 0)
                self.chairs[(clinic_name, chair.name)] = self.stored_chairs[cid] = seat

    def clinic(self, name: str) -> ClinicPlan | str:
        """The clinic of that name, stored or planned; or why it cannot be created."""
        found = self.clinics.get(name)
        if found is not None:
            return found
        if self.options.timezone is None:
            return f"clinic {name!r} does not exist; give --clinic-timezone to create it"
        plan = ClinicPlan(
            name=name,
            clinic_id=None,
            timezone=self.options.timezone,
            currency=self.options.currency,
            country=self.options.country,
            hours=self.hours,
            catalog={
                e.code: CatalogItem(e.duration_min, e.fee_cents, e.hygienist_allowed)
                for e in DEFAULT_CATALOG
            },
        )
        self.clinics[name] = plan
        return plan

    def provider(
        self, clinic: ClinicPlan, name: str, kind: str | None, line: int
    ) -> ResourcePlan | str:
        found = self.providers.get((clinic.name, name), [])
        if len(found) > 1:
            ids = ", ".join(str(p.resource_id) for p in found)
            return f"provider {name!r} is ambiguous at clinic {clinic.name!r} (ids {ids})"
        if found:
            plan = found[0]
            if kind is not None and plan.kind is not None and str(plan.kind) != kind:
                return f"provider {name!r} is a {plan.kind}, not a {kind}"
            return plan
        new_kind = ProviderKind(kind) if kind else self.options.kind_for(name)
        plan = ResourcePlan(
            f"provider+{clinic.name}/{name}", clinic.name, name, None, line, new_kind
        )
        self.providers[(clinic.name, name)].append(plan)
        return plan

    def chair(self, clinic: ClinicPlan, name: str, line: int) -> ResourcePlan:
        found = self.chairs.get((clinic.name, name))
        if found is None:
            found = ResourcePlan(f"chair+{clinic.name}/{name}", clinic.name, name, None, line)
            self.chairs[(clinic.name, name)] = found
        return found

    def planned_clinics(self) -> list[ClinicPlan]:
        return [c for c in self.clinics.values() if c.clinic_id is None]

    def planned_providers(self) -> list[ResourcePlan]:
        return [p for ps in self.providers.values() for p in ps if p.resource_id is None]

    def planned_chairs(self) -> list[ResourcePlan]:
        return [c for c in self.chairs.values() if c.resource_id is None]


def _stored_clinic(uow: UnitOfWork, clinic: Clinic) -> ClinicPlan:
    clinic_id = clinic.clinic_id or 0
    return ClinicPlan(
        name=clinic.name,
        clinic_id=clinic_id,
        timezone=clinic.timezone,
        currency=clinic.currency,
        country=clinic.country,
        hours=tuple(h.block for h in clinic.opening_hours),
        catalog={
            p.code: CatalogItem(p.default_duration_min, p.fee_cents, p.hygienist_allowed)
            for p in uow.procedures.for_clinic(clinic_id)
            if p.is_active
        },
    )
