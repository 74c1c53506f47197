"""Bulk loads of history given column by column (the simulator's million appointments).

`load_history` takes one record per visit and payment; at a million visits, making those
records, reading their fields back for the checks and building a row tuple per table row costs
more Python than SQLite's own work. `load_history_columns` takes the same history as numpy
columns (`VisitColumns`, `PaymentColumns`), checks the core's rules on the columns and builds
the tables' rows column by column (`Writer.insert_columns`).

The rules stay the core's: the column checks are the same rules as `check_visit`,
`check_payment`, the setting and patient checks and the overlap check, written with arrays.
When they find anything at all (or see anything unusual), the load goes the record way
instead (`records()`, then `load_history`'s checks), which names every problem and refuses
the load, or loads it as `load_history` would. Either way it is one all-or-nothing
transaction, audited like `load_history`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core_app.adapters import orm
from core_app.adapters.bulk import NO_TIME, Writer, active_appointments_between
from core_app.domain import history as rules
from core_app.domain.appointment import BookingSource
from core_app.domain.history import HistoricPayment, HistoricRefund, HistoricVisit
from core_app.domain.staff import Actor
from core_app.service_layer.history import (
    LoadReport,
    _Context,
    _setting_reasons,
    checked_write,
    free_of_overlaps_arrays,
    run_load,
)
from core_app.service_layer.unit_of_work import UnitOfWork

__all__ = ["NO_TIME", "PaymentColumns", "VisitColumns", "load_history_columns"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]
#: the time columns of a visit, in `HistoricVisit`'s order and the event log's
TIME_NAMES = ("confirmed", "checked_in", "completed", "no_show", "cancelled")


def _optional(values: IntArray) -> list[int | None]:
    return [None if v == NO_TIME else v for v in values.tolist()]


@dataclass(frozen=True)
class VisitColumns:
    """Visits of one load, one int64 array per field (all of one length). Times are UTC
    epoch seconds, `NO_TIME` where a visit has none; `status`, `code_set` and
    `cancel_reason` index `statuses`, `code_sets` and `reasons` (-1: no reason). Every visit
    names a stored patient and takes its clinic's catalog fees."""

    clinic_id: IntArray
    provider_id: IntArray
    chair_id: IntArray
    patient_id: IntArray
    start_epoch: IntArray
    end_epoch: IntArray
    booked_epoch: IntArray
    status: IntArray
    code_set: IntArray
    confirmed_epoch: IntArray
    checked_in_epoch: IntArray
    completed_epoch: IntArray
    no_show_epoch: IntArray
    cancelled_epoch: IntArray
    cancel_reason: IntArray
    statuses: tuple[str, ...]
    code_sets: tuple[tuple[str, ...], ...]
    reasons: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.start_epoch)

    def times(self) -> tuple[IntArray, ...]:
        return (
            self.confirmed_epoch,
            self.checked_in_epoch,
            self.completed_epoch,
            self.no_show_epoch,
            self.cancelled_epoch,
        )

    def records(self) -> list[HistoricVisit]:
        """The same visits as `load_history`'s records."""
        n = len(self)
        columns = (
            self.clinic_id.tolist(),
            self.provider_id.tolist(),
            self.chair_id.tolist(),
            self.start_epoch.tolist(),
            self.end_epoch.tolist(),
            self.booked_epoch.tolist(),
            [self.statuses[s] for s in self.status.tolist()],
            [self.code_sets[c] for c in self.code_set.tolist()],
            self.patient_id.tolist(),
            [None] * n,  # new_patient
            [None] * n,  # fees_cents: the catalog's
            *(_optional(t) for t in self.times()),
            [None if r < 0 else self.reasons[r] for r in self.cancel_reason.tolist()],
            [None] * n,  # source_ref
        )
        return list(map(HistoricVisit._make, zip(*columns, strict=True)))


@dataclass(frozen=True)
class PaymentColumns:
    """Payments of one load, one int64 array per field: each pays for `visit` (an index into
    the load's visits) and is that visit's patient's; `method` indexes `methods`; a payment
    with `refund_cents` other than 0 has one refund (`refund_reason`) at `refunded_epoch`."""

    clinic_id: IntArray
    patient_id: IntArray
    visit: IntArray
    amount_cents: IntArray
    method: IntArray
    received_epoch: IntArray
    refund_cents: IntArray
    refunded_epoch: IntArray
    currency: str
    methods: tuple[str, ...]
    refund_reason: str

    def __len__(self) -> int:
        return len(self.amount_cents)

    def records(self) -> list[HistoricPayment]:
        n = len(self)
        refunds = [
            (HistoricRefund(amount, at, self.refund_reason),) if amount != 0 else ()
            for amount, at in zip(
                self.refund_cents.tolist(), self.refunded_epoch.tolist(), strict=True
            )
        ]
        columns = (
            self.clinic_id.tolist(),
            self.amount_cents.tolist(),
            [self.currency] * n,
            [self.methods[m] for m in self.method.tolist()],
            self.received_epoch.tolist(),
            self.patient_id.tolist(),
            [None] * n,  # new_patient
            self.visit.tolist(),
            [None] * n,  # reference
            refunds,
            [None] * n,  # source_ref
        )
        return list(map(HistoricPayment._make, zip(*columns, strict=True)))


def load_history_columns(
    uow: UnitOfWork,
    actor: Actor,
    *,
    visits: VisitColumns,
    payments: PaymentColumns,
    source: BookingSource = BookingSource.IMPORT,
) -> LoadReport:
    """Check everything, then write everything, in one transaction (see the module)."""

    def write(uow: UnitOfWork, writer: Writer, ctx: _Context) -> LoadReport:
        if _fine(uow, writer, visits, payments, ctx):
            return _write_columns(writer, visits, payments, ctx, source)
        # the record way names every problem
        return checked_write(uow, writer, ctx, (), visits.records(), payments.records(), source)

    return run_load(uow, actor, np.unique(visits.clinic_id).tolist(), write)


def _fine(
    uow: UnitOfWork, writer: Writer, v: VisitColumns, p: PaymentColumns, ctx: _Context
) -> bool:
    """True only when the record checks would find nothing (see the module)."""
    try:
        return _visits_fine(v, ctx) and _payments_fine(p, v, ctx) and _free_of_overlaps(writer, v)
    except (IndexError, KeyError, TypeError, ValueError):
        return False


def _int_columns(*columns: Any) -> bool:
    return all(isinstance(c, np.ndarray) and c.dtype == np.int64 for c in columns)


def _visits_fine(v: VisitColumns, ctx: _Context) -> bool:
    """`check_visit`, the setting's and the patient's rules (`_visit_reasons`) on columns."""
    n = len(v)
    if n == 0:
        return True
    times = v.times()
    if not _int_columns(
        v.clinic_id, v.provider_id, v.chair_id, v.patient_id, v.start_epoch, v.end_epoch,
        v.booked_epoch, v.status, v.code_set, v.cancel_reason, *times,
    ):  # fmt: skip
        return False
    if any(len(c) != n for c in (v.clinic_id, v.provider_id, v.chair_id, v.patient_id)):
        return False
    if any(len(c) != n for c in (v.end_epoch, v.booked_epoch, v.status, v.code_set, *times)):
        return False
    if len(v.cancel_reason) != n or not set(v.statuses) <= rules.STATUSES:
        return False
    for index, table in ((v.status, v.statuses), (v.code_set, v.code_sets)):
        if index.min() < 0 or index.max() >= len(table):
            return False
    if v.cancel_reason.min() < -1 or v.cancel_reason.max() >= len(v.reasons):
        return False
    start, end, booked = v.start_epoch, v.end_epoch, v.booked_epoch
    if NO_TIME in (start.min(), end.min(), booked.min()):
        return False
    if np.any(end <= start) or np.any(booked > start):
        return False
    if np.any(end - start > rules.LONGEST_SECONDS):
        return False
    used_sets = np.unique(v.code_set).tolist()
    if any(not v.code_sets[c] for c in used_sets):
        return False
    by_status = {name: v.status == i for i, name in enumerate(v.statuses)}
    for name, value in zip(TIME_NAMES, times, strict=True):
        present = value != NO_TIME
        for status, rows in by_status.items():
            if name in rules.needed_times(status) and not np.all(present[rows]):
                return False
            if name not in rules.allowed_times(status) and np.any(present[rows]):
                return False
        if np.any(present & (value < booked)):
            return False
    confirmed, _checked_in, completed, no_show, cancelled = times
    if np.any((confirmed != NO_TIME) & (confirmed >= start)):
        return False
    if np.any((no_show != NO_TIME) & (no_show < start)):
        return False
    if np.any((completed != NO_TIME) & (completed < start)):
        return False
    if np.any((cancelled != NO_TIME) & (cancelled >= start)):
        return False
    gone = by_status.get("cancelled")
    if gone is not None and gone.any():
        reasons = np.unique(v.cancel_reason[gone]).tolist()
        if any(r < 0 or not v.reasons[r].strip() for r in reasons):
            return False
    # the setting (clinic, provider, chair, procedures) and the patient's clinic
    setting = _distinct_rows(v.clinic_id, v.provider_id, v.chair_id, v.code_set)
    for clinic, provider, chair, code_set in setting:
        probe = HistoricVisit(clinic, provider, chair, 0, 0, 0, "booked", v.code_sets[code_set])
        head, tail = _setting_reasons(probe, ctx)
        if head or tail:
            return False
    return _patients_of_clinics(v.patient_id, v.clinic_id, ctx)


def _distinct_rows(*columns: IntArray) -> list[tuple[int, ...]]:
    """The distinct combinations of the columns' values (one int64 key per row, from each
    column's rank among its distinct values: `np.unique(axis=1)` takes seconds here)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    values = []
    combinations = 1
    for column in columns:
        distinct, rank = np.unique(column, return_inverse=True)
        combinations *= len(distinct)
        if combinations >= 2**62:  # no room for the key: the slow way
            return [tuple(row) for row in np.unique(np.stack(columns), axis=1).T.tolist()]
        key = key * len(distinct) + rank
        values.append(distinct)
    rows = []
    for code in np.unique(key).tolist():
        row = []
        for distinct in reversed(values):
            code, place = divmod(code, len(distinct))
            row.append(int(distinct[place]))
        rows.append(tuple(reversed(row)))
    return rows


def _patients_of_clinics(patient: IntArray, clinic: IntArray, ctx: _Context) -> bool:
    """Every patient is a stored patient of the clinic named beside it."""
    known = ctx.patient_clinic
    if not known or patient.min() < 0 or patient.max() > max(known):
        return False
    clinic_of = np.full(max(known) + 1, NO_TIME, dtype=np.int64)  # NO_TIME: no such patient
    clinic_of[np.fromiter(known.keys(), np.int64, len(known))] = np.fromiter(
        known.values(), np.int64, len(known)
    )
    return bool(np.all(clinic_of[patient] == clinic))


def _payments_fine(p: PaymentColumns, v: VisitColumns, ctx: _Context) -> bool:
    """`check_payment` and `_check_payments`' rules on columns."""
    n = len(p)
    if n == 0:
        return True
    columns = (p.clinic_id, p.patient_id, p.visit, p.amount_cents, p.method)
    if not _int_columns(*columns, p.received_epoch, p.refund_cents, p.refunded_epoch):
        return False
    if any(len(c) != n for c in (*columns, p.received_epoch, p.refund_cents, p.refunded_epoch)):
        return False
    clinics = np.unique(p.clinic_id).tolist()
    if any(ctx.currency.get(c) != p.currency for c in clinics):
        return False  # an unknown clinic, or one that takes another currency
    if p.received_epoch.min() == NO_TIME or np.any(p.amount_cents <= 0):
        return False
    if p.method.min() < 0 or p.method.max() >= len(p.methods):
        return False
    if any(p.methods[m] not in rules.METHODS for m in np.unique(p.method).tolist()):
        return False
    refunded = p.refund_cents != 0
    if np.any(refunded & (p.refund_cents < 0)) or np.any(p.refund_cents > p.amount_cents):
        return False
    if np.any(refunded & (p.refunded_epoch < p.received_epoch)):
        return False
    if refunded.any() and not p.refund_reason:
        return False  # (`HistoricRefund` needs a reason; the record way says so)
    if p.visit.min() < 0 or p.visit.max() >= len(v):
        return False
    if np.any(v.patient_id[p.visit] != p.patient_id):
        return False
    return _patients_of_clinics(p.patient_id, p.clinic_id, ctx)


def _free_of_overlaps(writer: Writer, v: VisitColumns) -> bool:
    """`rules.check_overlaps` finds nothing among the active visits and the stored ones."""
    if len(v) == 0:
        return True
    existing = active_appointments_between(
        writer.connection, int(v.start_epoch.min()), int(v.end_epoch.max()), writer
    )
    active_codes = [i for i, s in enumerate(v.statuses) if s in rules.ACTIVE]
    active = np.isin(v.status, active_codes)
    stored = np.array(existing, dtype=np.int64).reshape(-1, 6)
    start = np.concatenate([v.start_epoch[active], stored[:, 4]])
    end = np.concatenate([v.end_epoch[active], stored[:, 5]])
    keys = [
        np.concatenate([mine[active], stored[:, k]])
        for mine, k in ((v.provider_id, 1), (v.chair_id, 2), (v.patient_id, 3))
    ]
    return free_of_overlaps_arrays(start, end, keys)


def _write_columns(
    w: Writer, v: VisitColumns, p: PaymentColumns, ctx: _Context, source: BookingSource
) -> LoadReport:
    """The rows of `load_history`'s `_write`, in the same order, made column by column."""
    n = len(v)
    appointment_ids = np.array(w.reserve_ids(orm.appointments, n), dtype=np.int64)
    payment_ids = np.array(w.reserve_ids(orm.payments, len(p)), dtype=np.int64)
    clinics, clinic_of = np.unique(v.clinic_id, return_inverse=True)
    currency = np.array([ctx.currency[c] for c in clinics.tolist()], dtype=object)[clinic_of]
    cancelled = v.cancelled_epoch
    late = (cancelled != NO_TIME) & (v.start_epoch - cancelled < rules.LATE_CANCEL_S)
    reasons = np.array([*v.reasons, None], dtype=object)  # -1: the last, None
    status_names = np.array(v.statuses, dtype=object)[v.status]
    w.insert_columns(
        orm.appointments,
        {
            "appointment_id": appointment_ids,
            "clinic_id": v.clinic_id,
            "patient_id": v.patient_id,
            "provider_id": v.provider_id,
            "chair_id": v.chair_id,
            "start_at": v.start_epoch,
            "end_at": v.end_epoch,
            "status": status_names,
            "source": source.value,
            "currency": currency,
            "booked_at": v.booked_epoch,
            "confirmed_at": v.confirmed_epoch,
            "checked_in_at": v.checked_in_epoch,
            "completed_at": v.completed_epoch,
            "no_show_at": v.no_show_epoch,
            "cancelled_at": cancelled,
            "cancel_reason": reasons[v.cancel_reason],
            "is_late_cancel": late,
            "reschedule_count": 0,
            "source_ref": None,
        },
        n,
    )
    # procedure lines: per visit its code set's catalog entries, in the set's order
    setting, setting_of = np.unique(
        (clinic_of * len(v.code_sets) + v.code_set), return_inverse=True
    )
    infos = [
        [ctx.catalog[(int(clinics[s // len(v.code_sets)]), code)] for code in v.code_sets[c]]
        for s, c in ((s, s % len(v.code_sets)) for s in setting.tolist())
    ]
    widest = max(len(i) for i in infos)
    lines_per = np.array([len(i) for i in infos], dtype=np.int64)[setting_of]
    procedure_id = np.zeros((len(infos), widest), dtype=np.int64)
    minutes = np.zeros((len(infos), widest), dtype=np.int64)
    fee = np.zeros((len(infos), widest), dtype=np.int64)
    code = np.full((len(infos), widest), None, dtype=object)
    category = np.full((len(infos), widest), None, dtype=object)
    for s, entries in enumerate(infos):
        for j, e in enumerate(entries):
            procedure_id[s, j] = e.procedure_id or 0  # (stored: never 0)
            code[s, j], category[s, j] = e.code, str(e.category)
            minutes[s, j], fee[s, j] = e.default_duration_min, e.fee_cents
    line_visit = np.repeat(np.arange(n), lines_per)
    first_line = np.cumsum(lines_per) - lines_per
    place = np.arange(len(line_visit)) - first_line[line_visit]
    line_setting = setting_of[line_visit]
    line_fee = fee[line_setting, place]
    line_code = code[line_setting, place]
    w.insert_columns(
        orm.appointment_procedures,
        {
            "appointment_id": appointment_ids[line_visit],
            "procedure_id": procedure_id[line_setting, place],
            "code": line_code,
            "category": category[line_setting, place],
            "duration_min": minutes[line_setting, place],
            "fee_cents": line_fee,
        },
        len(line_visit),
    )
    # events: booked, then each time the visit has, in `TIME_NAMES` order
    times = np.stack([v.booked_epoch, *v.times()], axis=1)
    kinds = np.broadcast_to(np.arange(6), (n, 6)).copy()
    kinds[late, 5] = 6
    present = (times != NO_TIME).ravel()
    event_names = np.array(["booked", *TIME_NAMES, "late_cancel"], dtype=object)
    events = int(present.sum())
    w.insert_columns(
        orm.appointment_events,
        {
            "appointment_id": np.repeat(appointment_ids, 6)[present],
            "event_type": event_names[kinds.ravel()[present]],
            "occurred_at": times.ravel()[present],
        },
        events,
    )
    completed = np.isin(v.status, [i for i, s in enumerate(v.statuses) if s == "completed"])
    charged = completed[line_visit]
    charge_visit = line_visit[charged]
    charges = len(charge_visit)
    w.insert_columns(
        orm.charges,
        {
            "clinic_id": v.clinic_id[charge_visit],
            "patient_id": v.patient_id[charge_visit],
            "appointment_id": appointment_ids[charge_visit],
            "procedure_code": line_code[charged],
            "amount_cents": line_fee[charged],
            "currency": currency[charge_visit],
            "charged_at": v.completed_epoch[charge_visit],
        },
        charges,
    )
    w.insert_columns(
        orm.payments,
        {
            "payment_id": payment_ids,
            "clinic_id": p.clinic_id,
            "patient_id": p.patient_id,
            "appointment_id": appointment_ids[p.visit],
            "amount_cents": p.amount_cents,
            "currency": p.currency,
            "method": np.array(p.methods, dtype=object)[p.method],
            "received_at": p.received_epoch,
            "reference": None,
            "source_ref": None,
        },
        len(p),
    )
    refunded = p.refund_cents != 0
    refunds = int(refunded.sum())
    w.insert_columns(
        orm.refunds,
        {
            "payment_id": payment_ids[refunded],
            "amount_cents": p.refund_cents[refunded],
            "refunded_at": p.refunded_epoch[refunded],
            "reason": p.refund_reason,
        },
        refunds,
    )
    return LoadReport([], appointment_ids.tolist(), payment_ids.tolist(), charges, refunds, events)
