"""`export_directory`: the database's patients, appointments and payments in the interchange
format, so that another dentops (or this one, after a reset) can import them back.

Every exported patient is an audited read of patient data (names, birth date, contacts are
decrypted). Ids: a record imported before keeps its source key, a record made in dentops its
dentops id — so export → import → export gives the same files (see docs/import-format.md).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core_app.adapters.interchange import (
    StoredAppointment,
    StoredPatient,
    StoredPayment,
    stored_appointments,
    stored_patients,
    stored_payments,
)
from core_app.domain.exceptions import NotFound
from core_app.domain.staff import Action, Actor
from core_app.service_layer.importing.csv_format import (
    APPOINTMENTS,
    LIST_SEPARATOR,
    PATIENTS,
    PAYMENTS,
    FileSpec,
)
from core_app.service_layer.importing.patients import state_of
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case


@dataclass(frozen=True)
class ExportReport:
    folder: str
    patients: int
    appointments: int
    payments: int


def export_directory(
    uow: UnitOfWork, actor: Actor, folder: Path, *, clinic: str | None = None
) -> ExportReport:
    """Write the three files of every clinic (or of the one named) into `folder`."""

    def work(uow: UnitOfWork) -> ExportReport:
        actor.require(Action.IMPORT)
        clinics = {c.clinic_id or 0: c for c in uow.clinics.list()}
        if clinic is not None:
            clinics = {cid: c for cid, c in clinics.items() if c.name == clinic}
            if not clinics:
                raise NotFound("clinic", clinic)
        for clinic_id in clinics:
            actor.require(Action.READ_PATIENT, clinic_id=clinic_id)
        connection = uow.session.connection()
        patients = [p for p in stored_patients(connection, None) if p.clinic_id in clinics]
        visits = [a for a in stored_appointments(connection, None) if a.clinic_id in clinics]
        payments = [p for p in stored_payments(connection, None) if p.clinic_id in clinics]
        names = _Names(
            clinics={cid: c.name for cid, c in clinics.items()},
            zones={cid: ZoneInfo(c.timezone) for cid, c in clinics.items()},
            providers={p.provider_id or 0: (p.name, str(p.kind)) for p in uow.providers.list()},
            chairs={c.chair_id or 0: c.name for cid in clinics for c in uow.chairs.for_clinic(cid)},
            patients=export_ids([(p.patient_id, p.source_ref) for p in patients], "patients"),
            visits=export_ids([(a.appointment_id, a.source_ref) for a in visits], "appointments"),
            payments=export_ids([(p.payment_id, p.source_ref) for p in payments], "payments"),
        )
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder, PATIENTS, _patient_rows(patients, names))
        _write(folder, APPOINTMENTS, _visit_rows(visits, names))
        _write(folder, PAYMENTS, _payment_rows(payments, names))
        uow.audit(actor, "patient.export", "patient", [p.patient_id for p in patients] or None)
        counts = f"{len(patients)} patients, {len(visits)} appointments, {len(payments)} payments"
        uow.audit(actor, "history.export", "history", None, detail=counts)
        return ExportReport(str(folder), len(patients), len(visits), len(payments))

    return run_use_case(
        uow, actor, action="history.export", entity_type="history", entity_id=None, work=work
    )


@dataclass(frozen=True)
class _Names:
    """How ids are written: clinic, provider and chair names, records' exported ids."""

    clinics: dict[int, str]
    zones: dict[int, ZoneInfo]
    providers: dict[int, tuple[str, str]]
    chairs: dict[int, str]
    patients: dict[int, str]
    visits: dict[int, str]
    payments: dict[int, str]

    def when(self, epoch: int | None, clinic_id: int) -> str:
        """Clinic local time with its UTC offset, to the second."""
        if epoch is None:
            return ""
        return datetime.fromtimestamp(epoch, self.zones[clinic_id]).isoformat()


def _patient_rows(patients: list[StoredPatient], n: _Names) -> list[list[str]]:
    rows = []
    for p in sorted(patients, key=lambda p: _natural(n.patients[p.patient_id])):
        s = state_of(p, n.clinics[p.clinic_id])
        rows.append(
            [
                n.patients[p.patient_id],
                s.birth_date.isoformat() if s.birth_date else "",
                s.sex or "",
                "",  # area: not stored
                s.phone or "",
                s.email or "",
                s.first_name or "",
                s.last_name or "",
                s.clinic,
                s.notes or "",
                "" if s.distance_km is None else repr(s.distance_km),
                "true" if s.has_insurance else "false",
                s.contact_preference,
                n.when(s.created, p.clinic_id),
            ]
        )
    return rows


def _visit_rows(visits: list[StoredAppointment], n: _Names) -> list[list[str]]:
    rows = []
    for a in sorted(visits, key=lambda a: (a.start, _natural(n.visits[a.appointment_id]))):
        provider, kind = n.providers[a.provider_id]
        rows.append(
            [
                n.visits[a.appointment_id],
                n.patients[a.patient_id],
                n.when(a.booked, a.clinic_id),
                n.when(a.start, a.clinic_id),
                a.status,
                n.clinics[a.clinic_id],
                provider,
                n.chairs[a.chair_id],
                LIST_SEPARATOR.join(a.codes),
                str(-(-(a.end - a.start) // 60)),  # whole minutes, rounded up
                n.when(a.cancelled, a.clinic_id),
                "",  # reminder_sent: not stored
                LIST_SEPARATOR.join(str(fee) for fee in a.fees),
                kind,
                a.cancel_reason or "",
                n.when(a.confirmed, a.clinic_id),
                n.when(a.checked_in, a.clinic_id),
                n.when(a.completed, a.clinic_id),
                n.when(a.no_show, a.clinic_id),
            ]
        )
    return rows


def _payment_rows(payments: list[StoredPayment], n: _Names) -> list[list[str]]:
    rows = []
    for p in sorted(payments, key=lambda p: (p.received, _natural(n.payments[p.payment_id]))):
        rows.append(
            [
                n.payments[p.payment_id],
                n.patients[p.patient_id],
                n.when(p.received, p.clinic_id),
                str(p.amount_cents),
                p.method,
                n.visits[p.appointment_id] if p.appointment_id else "",
                p.currency,
                str(p.refunded_cents),
                n.when(p.refunded, p.clinic_id),
                p.reference or "",
                "; ".join(p.refund_reasons),
            ]
        )
    return rows


def export_ids(records: Sequence[tuple[int, str | None]], table: str) -> dict[int, str]:
    """The id each record gets in the files: its source key if it was imported (else its
    dentops id); should two records of different namespaces share a key, the keys are
    qualified with their namespace (`ns:key`); should even that collide, dentops ids."""

    def key(record_id: int, ref: str | None, *, qualified: bool) -> str:
        if ref is None:
            return str(record_id)
        namespace, _, rest = ref.partition(":")
        kind, _, source_key = rest.partition(":")
        if kind != table or not source_key:
            return ref
        return f"{namespace}:{source_key}" if qualified else source_key

    for qualified in (False, True):
        ids = {rid: key(rid, ref, qualified=qualified) for rid, ref in records}
        if _unique(ids.values()):
            return ids
    return {rid: str(rid) for rid, _ in records}


def _unique(values: Iterable[str]) -> bool:
    return all(count == 1 for count in Counter(values).values())


def _natural(key: str) -> tuple[int, int, str]:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _write(folder: Path, spec: FileSpec, rows: list[list[str]]) -> None:
    """Write to a temporary file, then rename: a failed export leaves no half-written file."""
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{spec.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(spec.names)
            writer.writerows(rows)
        os.replace(temporary, folder / spec.name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
