"""Writing a generated world into the operational database through the core's bulk path.

Patients go first, in one load; appointments follow in batches by start time (each batch one
all-or-nothing `load_history` transaction that checks the core's rules), each with the payments
(and refunds) for its completed visits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from core_app.domain.appointment import BookingSource
from core_app.domain.history import HistoricPatient
from core_app.domain.request import NewRequest, RequestKind
from core_app.domain.staff import Actor
from core_app.service_layer.bootstrap import App
from core_app.service_layer.history import load_history
from core_app.service_layer.history_columns import (
    NO_TIME,
    PaymentColumns,
    VisitColumns,
    load_history_columns,
)
from core_app.service_layer.open_requests import load_requests
from simulator import booking, future, generate
from simulator.generate import World
from simulator.money import METHODS
from simulator.population import CONTACTS, FIRST_NAMES, LAST_NAMES, SEXES
from simulator.timeline import IntArray

REASONS = (*booking.CANCEL_REASONS, booking.RESCHEDULED)


@dataclass(frozen=True)
class Stored:
    patient_ids: IntArray  # per population index (-1: not registered yet)
    appointment_ids: IntArray  # per appointment row
    payment_ids: IntArray
    refunds: int
    charges: int
    requests: int  # open requests stored in the core


def patients(world: World, clinic_ids: list[int]) -> list[HistoricPatient]:
    pop = world.population
    rows = np.flatnonzero(world.registered)
    births = [date.fromordinal(o).isoformat() for o in pop.birth_ordinal[rows].tolist()]
    contact = pop.contact[rows].tolist()
    return [
        HistoricPatient(
            clinic_ids[c],
            FIRST_NAMES[f],
            LAST_NAMES[last],
            birth,
            joined,
            SEXES[sex],
            km,
            insured,
            CONTACTS[pref],
            f"+1 555 {1_000_000 + i % 9_000_000:07d}",
            f"patient{i}@example.org" if pref == 1 else None,
        )
        for i, c, f, last, birth, joined, sex, km, insured, pref in zip(
            rows.tolist(),
            pop.clinic[rows].tolist(),
            pop.first_name[rows].tolist(),
            pop.last_name[rows].tolist(),
            births,
            pop.join_epoch[rows].tolist(),
            pop.sex[rows].tolist(),
            pop.distance_km[rows].tolist(),
            pop.insured[rows].tolist(),
            contact,
            strict=True,
        )
    ]


def _times(values: IntArray) -> IntArray:
    """The simulator's times (-1: none) as the bulk path's (`NO_TIME`: none)."""
    return np.where(values < 0, NO_TIME, values)


def visits(
    world: World,
    rows: slice,
    clinic_ids: list[int],
    provider_ids: list[int],
    chair_ids: list[int],
    patient_ids: IntArray,
) -> VisitColumns:
    """The appointments in `rows` as the bulk path's columns."""
    a = world.appointments
    return VisitColumns(
        clinic_id=np.asarray(clinic_ids, dtype=np.int64)[a.clinic[rows]],
        provider_id=np.asarray(provider_ids, dtype=np.int64)[a.provider[rows]],
        chair_id=np.asarray(chair_ids, dtype=np.int64)[a.chair[rows]],
        patient_id=patient_ids[a.patient[rows]],
        start_epoch=a.start[rows].astype(np.int64),
        end_epoch=a.end[rows].astype(np.int64),
        booked_epoch=a.booked[rows].astype(np.int64),
        status=a.status[rows].astype(np.int64),
        code_set=a.code_set[rows].astype(np.int64),
        confirmed_epoch=_times(a.confirmed_at[rows]),
        checked_in_epoch=_times(a.checked_in_at[rows]),
        completed_epoch=_times(a.completed_at[rows]),
        no_show_epoch=_times(a.no_show_at[rows]),
        cancelled_epoch=_times(a.cancelled_at[rows]),
        cancel_reason=a.cancel_reason[rows].astype(np.int64),
        statuses=future.STATUSES,
        code_sets=tuple(generate.CODE_SETS),
        reasons=REASONS,
    )


def payments(
    world: World, chosen: IntArray, first_row: int, clinic_ids: list[int], patient_ids: IntArray
) -> PaymentColumns:
    a = world.appointments
    pay = world.payments
    visit = pay.visit[chosen]
    return PaymentColumns(
        clinic_id=np.asarray(clinic_ids, dtype=np.int64)[a.clinic[visit]],
        patient_id=patient_ids[a.patient[visit]],
        visit=(visit - first_row).astype(np.int64),
        amount_cents=pay.amount[chosen].astype(np.int64),
        method=pay.method[chosen].astype(np.int64),
        received_epoch=pay.received[chosen].astype(np.int64),
        refund_cents=np.where(pay.refund_amount[chosen] > 0, pay.refund_amount[chosen], 0),
        refunded_epoch=pay.refunded[chosen].astype(np.int64),
        currency=world.params.currency,
        methods=METHODS,
        refund_reason="overpayment returned",
    )


#: the core's request kinds for the simulator's, and their urgency (1 routine .. 3 urgent)
REQUEST_KINDS = {
    "recall_due": (RequestKind.RECALL, 1),
    "waitlist": (RequestKind.WAITLIST, 2),
    "new_patient": (RequestKind.NEW_PATIENT, 2),
}


def open_requests(world: World, clinic_ids: list[int], patient_ids: IntArray) -> list[NewRequest]:
    """The open requests the core can hold: every one but the booked patients who would take an
    earlier slot (a move of their appointment, which the core's requests do not express yet)
    and any whose window ended before today."""
    r = world.requests
    timeline = world.timeline
    today = timeline.today_index
    requested_at = datetime.fromtimestamp(timeline.now - 60, UTC)
    rows = []
    for kind, clinic, patient, vtype, first, last, appointment in zip(
        r.kind.tolist(),
        r.clinic.tolist(),
        r.patient.tolist(),
        r.vtype.tolist(),
        r.earliest_day.tolist(),
        r.latest_day.tolist(),
        r.appointment.tolist(),
        strict=True,
    ):
        if appointment >= 0 or last < today:
            continue
        core_kind, urgency = REQUEST_KINDS[future.REQUEST_KINDS[kind]]
        rows.append(
            NewRequest(
                clinic_id=clinic_ids[clinic],
                patient_id=int(patient_ids[patient]) if patient >= 0 else None,
                kind=core_kind,
                procedure_codes=generate.CODE_SETS[vtype],
                earliest_date=timeline.day(first),
                latest_date=timeline.day(last),
                urgency=urgency,
                requested_at=requested_at,
            )
        )
    return rows


def store(
    app: App,
    actor: Actor,
    world: World,
    clinic_ids: list[int],
    provider_ids: list[int],
    chair_ids: list[int],
    *,
    batch_size: int = 1_500_000,
    progress: Callable[[str], None] = lambda _: None,
) -> Stored:
    report = load_history(
        app.uow(), actor, patients=patients(world, clinic_ids), source=BookingSource.STAFF
    )
    patient_ids = np.full(len(world.population), -1, dtype=np.int64)
    patient_ids[np.flatnonzero(world.registered)] = report.patient_ids
    progress(f"stored {len(report.patient_ids)} patients")
    n = len(world.appointments)
    appointment_ids = np.zeros(n, dtype=np.int64)
    pay_order = np.argsort(world.payments.visit, kind="stable")
    pay_visit = world.payments.visit[pay_order]
    payment_ids = np.zeros(len(pay_order), dtype=np.int64)
    refunds = charges = 0
    batches = max(1, -(-n // batch_size))
    size = -(-n // batches)  # even batches: 1.01 million in two of ~505 000, not 1 000 000 + 11 103
    for lo in range(0, n, size):
        hi = min(n, lo + size)
        first, last = np.searchsorted(pay_visit, [lo, hi])
        chosen = pay_order[first:last]
        loaded = load_history_columns(
            app.uow(),
            actor,
            visits=visits(world, slice(lo, hi), clinic_ids, provider_ids, chair_ids, patient_ids),
            payments=payments(world, chosen, lo, clinic_ids, patient_ids),
            source=BookingSource.STAFF,
        )
        appointment_ids[lo:hi] = loaded.appointment_ids
        payment_ids[chosen] = loaded.payment_ids
        refunds += loaded.refunds
        charges += loaded.charges
        progress(f"stored appointments {lo + 1}..{hi} of {n}")
    requests = load_requests(
        app.uow(),
        actor,
        open_requests(world, clinic_ids, patient_ids),
        as_of=datetime.fromtimestamp(world.timeline.now, UTC),
    )
    progress(f"stored {requests} open requests")
    return Stored(patient_ids, appointment_ids, payment_ids, refunds, charges, requests)
