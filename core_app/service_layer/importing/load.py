"""`import_directory`: the interchange files of one folder into the database, all or nothing.

1. Parse the files (outside the transaction): every unreadable cell, unknown or missing column.
2. In one transaction: plan (resolve names, fill defaults, check the core's rules, compare with
   the records imported before under the namespace), then — only if no file, line or column
   has a problem — create the clinics, providers and chairs named, update changed records and
   load the new ones (`load_history`). Any problem refuses the whole import, listing all.

Re-importing the same files changes nothing: each record keeps its source key in `source_ref`
(`<namespace>:appointments:<appointment_id>`), and a row equal to its record is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core_app.domain.hours import HoursBlock
from core_app.domain.staff import Action, Actor
from core_app.service_layer.importing.apply import apply_plan
from core_app.service_layer.importing.options import ImportOptions
from core_app.service_layer.importing.parse import parse_folder
from core_app.service_layer.importing.plan import make_plan
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.memory import gc_paused
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case


@dataclass(frozen=True)
class FileCounts:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ImportReport:
    namespace: str
    patients: FileCounts
    appointments: FileCounts
    payments: FileCounts
    clinics_created: list[str]
    providers_created: list[str]
    chairs_created: list[str]
    charges_created: int
    refunds_created: int


def import_directory(
    uow: UnitOfWork, actor: Actor, folder: Path, options: ImportOptions
) -> ImportReport:
    """Import `folder`'s patients.csv, appointments.csv and (optional) payments.csv."""
    hours = options.check()
    with gc_paused():
        return _import(uow, actor, folder, options, hours)


def _import(
    uow: UnitOfWork,
    actor: Actor,
    folder: Path,
    options: ImportOptions,
    hours: tuple[HoursBlock, ...],
) -> ImportReport:
    parsed_problems = Problems()
    parsed = parse_folder(folder, parsed_problems)

    def work(uow: UnitOfWork) -> ImportReport:
        actor.require(Action.IMPORT)
        problems = Problems(list(parsed_problems.found), set(parsed_problems.bad))
        plan = make_plan(uow, parsed, options, hours, problems)
        problems.refuse_if_any()
        touched = (
            {p.clinic.name for p in plan.patients}
            | {v.clinic.name for v in plan.visits}
            | {p.clinic.name for p in plan.payments}
        )
        for name in sorted(touched):
            actor.require(Action.IMPORT, clinic_id=plan.world.clinics[name].clinic_id)
        applied = apply_plan(uow, actor, plan)
        report = ImportReport(
            namespace=options.namespace,
            patients=_counts(plan.patients, applied.updated["patients"]),
            appointments=_counts(plan.visits, applied.updated["appointments"]),
            payments=_counts(plan.payments, applied.updated["payments"]),
            clinics_created=applied.created["clinics"],
            providers_created=applied.created["providers"],
            chairs_created=applied.created["chairs"],
            charges_created=applied.charges,
            refunds_created=applied.refunds,
        )
        uow.audit(actor, "history.import", "history", None, detail=_summary(report))
        return report

    return run_use_case(
        uow, actor, action="history.import", entity_type="history", entity_id=None, work=work
    )


class _Planned(Protocol):
    @property
    def stored(self) -> object: ...


def _counts(plans: Sequence[_Planned], updated: int) -> FileCounts:
    created = sum(1 for p in plans if p.stored is None)
    return FileCounts(created=created, updated=updated, unchanged=len(plans) - created - updated)


def _summary(report: ImportReport) -> str:
    parts = [
        f"{name} {c.created}/{c.updated}/{c.unchanged}"
        for name, c in (
            ("patients", report.patients),
            ("appointments", report.appointments),
            ("payments", report.payments),
        )
    ]
    return f"namespace {report.namespace}: created/updated/unchanged " + ", ".join(parts)
