"""Planning an import: every row resolved, checked and compared with what is stored, without
writing anything. The plan says what will be created, updated or left unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from core_app.domain.hours import HoursBlock
from core_app.service_layer.importing.context import Context, Stored
from core_app.service_layer.importing.options import ImportOptions
from core_app.service_layer.importing.overlaps import check_overlaps
from core_app.service_layer.importing.parse import Parsed
from core_app.service_layer.importing.patients import PatientPlan, settle_patients
from core_app.service_layer.importing.payments import PaymentPlan, settle_payments
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.values import Stamp
from core_app.service_layer.importing.visits import VisitPlan, settle_visits
from core_app.service_layer.importing.world import ClinicPlan, World
from core_app.service_layer.unit_of_work import UnitOfWork


@dataclass
class Plan:
    world: World
    patients: list[PatientPlan]
    visits: list[VisitPlan]
    payments: list[PaymentPlan]
    now: int


def make_plan(
    uow: UnitOfWork,
    parsed: Parsed,
    options: ImportOptions,
    hours: tuple[HoursBlock, ...],
    problems: Problems,
) -> Plan:
    """Inside the import's transaction (so that what is stored cannot change meanwhile)."""
    now = int(uow.now().timestamp())
    world = World(uow, options, hours)
    ctx = Context(uow, options, world, Stored.load(uow, options), parsed, problems, now)
    patients = settle_patients(ctx, _first_visits(ctx))
    visits = settle_visits(ctx, patients)
    check_overlaps(ctx, visits)
    payments = settle_payments(ctx, patients, visits)
    return Plan(world, list(patients.values()), visits, payments, now)


def _first_visits(ctx: Context) -> dict[str, tuple[str, int]]:
    """Per patient_id: the clinic of its first appointment row and its earliest booking."""
    first: dict[str, tuple[ClinicPlan, Stamp]] = {}
    for row in ctx.parsed.appointments:
        found = first.get(row.patient_id)
        if found is None:
            clinic = ctx.world.clinic(row.clinic or ctx.options.clinic)
            if isinstance(clinic, ClinicPlan):
                first[row.patient_id] = (clinic, row.booked_at)
        elif _earlier(row.booked_at, found[1], found[0]):
            first[row.patient_id] = (found[0], row.booked_at)
    return {key: (clinic.name, stamp.epoch(clinic.zone)) for key, (clinic, stamp) in first.items()}


def _earlier(a: Stamp, b: Stamp, clinic: ClinicPlan) -> bool:
    if (a.moment.tzinfo is None) == (b.moment.tzinfo is None):
        return a.moment < b.moment  # both naive (one clinic's local time) or both aware
    return a.epoch(clinic.zone) < b.epoch(clinic.zone)
