"""The column path (`load_history_columns`, `Writer.insert_columns`) writes what the record
path writes and refuses what it refuses, on both backends."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from core_app.adapters import bulk, orm
from core_app.adapters.bulk import NO_TIME
from core_app.domain.history import check_visit
from core_app.domain.practice import ProviderKind
from core_app.service_layer import history_columns as hc
from core_app.service_layer.history import (
    HistoryRefused,
    LoadReport,
    _check_payments,
    _Context,
    _setting_reasons,
    _visit_reasons,
    load_history,
    stored_counts,
)
from core_app.service_layer.history_columns import (
    PaymentColumns,
    VisitColumns,
    load_history_columns,
)
from tests.conftest import Practice, local
from tests.simulator.test_bulk_path import EXAM

STATUSES = ("booked", "confirmed", "checked_in", "completed", "no_show", "cancelled")
CODE_SETS = (("D0120",), ("D0120", "D1110"), ("D0274",))
REASONS = ("illness", "work")
METHODS = ("card", "cash")
WEEK = 7 * 86_400


def ints(values: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array(values, dtype=np.int64)


def sample(practice: Practice, shift: int = 0) -> tuple[VisitColumns, PaymentColumns]:
    """Six visits of every status (one cancelled late, one early) and three payments (one
    refunded), in the practice's first week plus `shift` seconds."""
    day = int(local(-14, "08:00").timestamp()) + shift
    starts = [day + h * 3600 for h in range(6)]
    no = NO_TIME
    # status:      booked confirmed checked_in completed no_show cancelled(late)
    confirmed = [no, starts[1] - 7200, no, starts[3] - 86_400, no, no]
    checked_in = [no, no, starts[2], starts[3] + 60, no, no]
    completed = [no, no, no, starts[3] + 1800, no, no]
    no_show = [no, no, no, no, starts[4] + 900, no]
    cancelled = [no, no, no, no, no, starts[5] - 3600]
    n = len(starts)
    patients = practice.patient_ids
    visits = VisitColumns(
        clinic_id=ints([practice.clinic_id] * n),
        provider_id=ints([practice.dentist_id, practice.dentist2_id] * 3),
        chair_id=ints([practice.chair_ids[i % 3] for i in range(n)]),
        patient_id=ints([patients[i % len(patients)] for i in range(n)]),
        start_epoch=ints(starts),
        end_epoch=ints([s + 1800 for s in starts]),
        booked_epoch=ints([s - 2 * 86_400 for s in starts]),
        status=ints(list(range(n))),
        code_set=ints([1, 0, 2, 1, 0, 0]),
        confirmed_epoch=ints(confirmed),
        checked_in_epoch=ints(checked_in),
        completed_epoch=ints(completed),
        no_show_epoch=ints(no_show),
        cancelled_epoch=ints(cancelled),
        cancel_reason=ints([-1, -1, -1, -1, -1, 1]),
        statuses=STATUSES,
        code_sets=CODE_SETS,
        reasons=REASONS,
    )
    paid = [3, 3, 2]
    payments = PaymentColumns(
        clinic_id=ints([practice.clinic_id] * 3),
        patient_id=visits.patient_id[paid],
        visit=ints(paid),
        amount_cents=ints([10_000, 8_500, 7_500]),
        method=ints([0, 1, 0]),
        received_epoch=ints([starts[v] + 3600 for v in paid]),
        refund_cents=ints([0, 500, 0]),
        refunded_epoch=ints([no, starts[3] + 86_400, no]),
        currency="USD",
        methods=METHODS,
        refund_reason="overpayment returned",
    )
    return visits, payments


#: the history tables, each with the column that names the load's record it belongs to
HISTORY = (
    (orm.appointments, "appointment_id"),
    (orm.appointment_procedures, "appointment_id"),
    (orm.appointment_events, "appointment_id"),
    (orm.charges, "appointment_id"),
    (orm.payments, "payment_id"),
    (orm.refunds, "payment_id"),
)


def dump(practice: Practice, report: LoadReport, shift: int) -> dict[str, list[Any]]:
    """Per history table, the rows of one load: ids relative to the load's first, times
    `shift` seconds earlier, without the tables' own serial keys and the write time."""
    first = {"appointment_id": report.appointment_ids[0], "payment_id": report.payment_ids[0]}
    count = {"appointment_id": len(report.appointment_ids), "payment_id": len(report.payment_ids)}
    out = {}
    with practice.app.engine.connect() as connection:
        for table, owner in HISTORY:
            key = next(iter(table.primary_key.columns))
            mine = table.c[owner].between(first[owner], first[owner] + count[owner] - 1)
            rows = connection.execute(select(table).where(mine).order_by(key)).mappings().all()
            out[table.name] = [
                {
                    name: (
                        value - first[name]
                        if name in first and value is not None
                        else value - timedelta(seconds=shift)
                        if isinstance(value, datetime)
                        else value
                    )
                    for name, value in row.items()
                    if name != "updated_at" and (name in first or name != key.name)
                }
                for row in rows
            ]
    return out


@pytest.mark.parametrize("small_statements", [False, True])
def test_the_column_path_writes_what_the_record_path_writes(
    practice: Practice, monkeypatch: pytest.MonkeyPatch, small_statements: bool
) -> None:
    if small_statements:  # multi-row statements with a tail, and indexes dropped and rebuilt
        monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 4)
        monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1)
    app = practice.app
    visits, payments = sample(practice)
    by_records = load_history(
        app.uow(), practice.admin, visits=visits.records(), payments=payments.records()
    )
    later, later_payments = sample(practice, shift=WEEK)
    by_columns = load_history_columns(
        app.uow(), practice.admin, visits=later, payments=later_payments
    )
    counts = (by_records.charges, by_records.refunds, by_records.events)
    assert counts == (by_columns.charges, by_columns.refunds, by_columns.events) == (2, 1, 13)
    written = dump(practice, by_records, 0)
    assert all(written.values())
    assert dump(practice, by_columns, WEEK) == written
    appointments = written["appointments"]
    assert [a["confirmed_at"] is None for a in appointments] == [
        True, False, True, False, True, True,
    ]  # fmt: skip
    last = appointments[5]
    assert (last["status"], last["is_late_cancel"], last["cancel_reason"]) == (
        "cancelled",
        True,
        "work",
    )


def test_insert_columns_takes_constants_and_writes_what_insert_writes(
    practice: Practice,
) -> None:
    app = practice.app
    created = [int(local(-30, "09:00").timestamp()) + k * 61 for k in range(3)]
    with app.engine.connect() as connection, connection.begin():
        writer = bulk.Writer(connection)
        names = [writer.encrypt(name, "patients.first_name") for name in ("Ann", "Bea", "Cy")]
        last = writer.encrypt("Lee", "patients.last_name")
        born = writer.encrypt("1980-02-03", "patients.birth_date")
        writer.insert(
            orm.patients,
            ["patient_id", "clinic_id", "first_name", "last_name", "birth_date", "sex",
             "has_insurance", "contact_preference", "is_active", "created_at", "source_ref"],
            [
                (900 + k, practice.clinic_id, names[k], last, born, None, writer.flag(k == 1),
                 "sms", writer.flag(True), at, f"p-{k}")
                for k, at in enumerate(writer.times(created))
            ],
        )  # fmt: skip
        writer.insert_columns(
            orm.patients,
            {
                "patient_id": ints([950, 951, 952]),
                "clinic_id": practice.clinic_id,
                "first_name": names,
                "last_name": last,
                "birth_date": born,
                "sex": None,
                "has_insurance": np.array([False, True, False]),
                "contact_preference": "sms",
                "is_active": True,
                "created_at": ints(created),
                "source_ref": ["q-0", "q-1", "q-2"],
            },
            3,
        )
        writer.finish()
        rows = [
            {k: v for k, v in row.items() if k not in ("patient_id", "updated_at", "source_ref")}
            for row in connection.execute(
                select(orm.patients)
                .where(orm.patients.c.patient_id >= 900)
                .order_by(orm.patients.c.patient_id)
            ).mappings()
        ]
    assert rows[:3] == rows[3:]
    assert [r["first_name"] for r in rows[3:]] == ["Ann", "Bea", "Cy"]
    assert [r["has_insurance"] for r in rows[3:]] == [False, True, False]
    assert {r["is_active"] for r in rows} == {True}
    assert [r["created_at"].timestamp() for r in rows[3:]] == created


def test_insert_columns_refuses_columns_of_the_wrong_length(practice: Practice) -> None:
    with practice.app.engine.connect() as connection, connection.begin():
        writer = bulk.Writer(connection)
        try:
            with pytest.raises(ValueError, match="column amount_cents: 1 values for 2 rows"):
                writer.insert_columns(
                    orm.refunds,
                    {"payment_id": ints([1, 2]), "amount_cents": ints([5]), "reason": "x"},
                    2,
                )
            assert writer.insert_columns(orm.refunds, {"payment_id": ints([])}, 0) == 0
        finally:
            writer.finish()


def test_epoch_texts_are_the_row_paths_timestamps(practice: Practice) -> None:
    epochs = [0, 59, 86_399, 86_400, 1_700_000_123, int(local(3, "17:45").timestamp())]
    with practice.app.engine.connect() as connection, connection.begin():
        writer = bulk.Writer(connection)
        try:
            texts = writer.epoch_texts(ints([*epochs, NO_TIME]))
            assert texts == [*writer.times(epochs), None]
            assert texts[:-1] == [writer.at(e) for e in epochs]
            far = [0, 200_000 * 86_400 + 61, 59]  # days far apart: each distinct day's text
            assert writer.epoch_texts(ints(far)) == [writer.at(e) for e in far]
            # one time for every row, or none
            table = orm.appointments
            assert writer._column(table, "start_at", epochs[4], 2) == bulk._Constant(
                writer.at(epochs[4])
            )
            assert writer._column(table, "confirmed_at", NO_TIME, 2) == bulk._Constant(None)
        finally:
            writer.finish()


def broken(practice: Practice, what: str) -> tuple[VisitColumns, PaymentColumns]:
    visits, payments = sample(practice)
    if what == "overlap":  # the second visit on the first's chair at the first's time
        chair = visits.chair_id.copy()
        chair[1] = chair[0]
        start, end = visits.start_epoch.copy(), visits.end_epoch.copy()
        start[1], end[1] = start[0] + 600, end[0] + 600
        visits = VisitColumns(**{**vars(visits), "chair_id": chair, "start_epoch": start,
                                 "end_epoch": end})  # fmt: skip
    elif what == "transition":  # a completed visit without its completion time
        completed = visits.completed_epoch.copy()
        completed[3] = NO_TIME
        visits = VisitColumns(**{**vars(visits), "completed_epoch": completed})
    elif what == "money":  # a refund larger than its payment
        refunds = payments.refund_cents.copy()
        refunds[1] = payments.amount_cents[1] + 1
        payments = PaymentColumns(**{**vars(payments), "refund_cents": refunds})
    elif what == "reference":  # a patient the clinic does not have
        patient = visits.patient_id.copy()
        patient[2] = 999_999
        visits = VisitColumns(**{**vars(visits), "patient_id": patient})
    return visits, payments


@pytest.mark.parametrize(
    ("what", "reason"),
    [
        ("overlap", "chair"),
        ("transition", "needs its completed time"),
        ("money", "refunds exceed the payment"),
        ("reference", "patient 999999 is not a patient of clinic"),
    ],
)
def test_the_column_path_refuses_what_breaks_a_rule_and_writes_nothing(
    practice: Practice, what: str, reason: str
) -> None:
    app = practice.app
    before = stored_counts(app.uow())
    visits, payments = broken(practice, what)
    with pytest.raises(HistoryRefused) as refused:
        load_history_columns(app.uow(), practice.admin, visits=visits, payments=payments)
    assert any(reason in p.reason for p in refused.value.problems), refused.value.problems
    assert stored_counts(app.uow()) == before
    with app.engine.connect() as connection:
        for table, _ in HISTORY:
            assert connection.execute(select(table)).first() is None, table.name
    fine, fine_payments = sample(practice)  # and the database takes a good load afterwards
    report = load_history_columns(app.uow(), practice.admin, visits=fine, payments=fine_payments)
    assert len(report.appointment_ids) == 6


CTX = _Context(
    currency={1: "USD", 2: "USD"},
    provider_kind={1: ProviderKind.DENTIST, 2: ProviderKind.HYGIENIST},
    provider_clinics={1: {1}, 2: {1}},
    chair_clinic={1: 1, 2: 2},
    catalog={(1, "D0120"): EXAM},
    patient_clinic={1: 1, 2: 2},
)


def random_columns(
    rng: random.Random, n: int, odd: float = 0.15
) -> tuple[VisitColumns, PaymentColumns]:
    """Valid visits and payments for `CTX`, with chance `odd` per row one value made wrong
    or odd (and now and then a wrong table of names or currency)."""
    fields: dict[str, list[int]] = {name: [] for name in (
        "clinic_id", "provider_id", "chair_id", "patient_id", "start_epoch", "end_epoch",
        "booked_epoch", "status", "code_set", "confirmed_epoch", "checked_in_epoch",
        "completed_epoch", "no_show_epoch", "cancelled_epoch", "cancel_reason")}  # fmt: skip
    for _ in range(n):
        status = rng.randrange(len(STATUSES))
        name = STATUSES[status]
        start = 100_000 + rng.randrange(0, 400) * 60
        row = {
            "clinic_id": 1, "provider_id": 1, "chair_id": 1, "patient_id": 1,
            "start_epoch": start, "end_epoch": start + 1800, "booked_epoch": start - 86_400,
            "status": status, "code_set": 0,
            "confirmed_epoch": (
                start - 3600 if name == "confirmed" or rng.random() < 0.5 else NO_TIME
            ),
            "checked_in_epoch": start if name in ("completed", "checked_in") else NO_TIME,
            "completed_epoch": start + 1800 if name == "completed" else NO_TIME,
            "no_show_epoch": start + 900 if name == "no_show" else NO_TIME,
            "cancelled_epoch": start - 7200 if name == "cancelled" else NO_TIME,
            "cancel_reason": 0 if name == "cancelled" else -1,
        }  # fmt: skip
        if rng.random() < odd:
            row[rng.choice(list(row))] = rng.choice(
                [NO_TIME, -5, -1, 0, 1, 2, 3, 6, start - 10, start, start + 10, start + 5000,
                 start + 8 * 3600, start + 8 * 3600 + 1, 100_000 - 86_400]
            )  # fmt: skip
        for key, value in row.items():
            fields[key].append(value)
    visits = VisitColumns(
        **{k: ints(v) for k, v in fields.items()},
        statuses=STATUSES,
        code_sets=(("D0120",), ()) if rng.random() < odd / 3 else (("D0120",),),
        reasons=(" ",) if rng.random() < odd / 3 else ("illness",),
    )
    pay: dict[str, list[int]] = {k: [] for k in (
        "clinic_id", "patient_id", "visit", "amount_cents", "method", "received_epoch",
        "refund_cents", "refunded_epoch")}  # fmt: skip
    for v in range(n):
        refund = rng.choice([0, 0, 500])
        row = {
            "clinic_id": 1, "patient_id": 1, "visit": v, "amount_cents": 5000, "method": 0,
            "received_epoch": 200_000, "refund_cents": refund,
            "refunded_epoch": 200_100 if refund else NO_TIME,
        }  # fmt: skip
        if rng.random() < odd:
            row[rng.choice(list(row))] = rng.choice(
                [NO_TIME, -500, -1, 0, 1, 2, 5000, 5001, 199_999, n]
            )
        for key, value in row.items():
            pay[key].append(value)
    payments = PaymentColumns(
        **{k: ints(v) for k, v in pay.items()},
        currency="EUR" if rng.random() < odd / 3 else "USD",
        methods=("card", "barter") if rng.random() < odd / 3 else ("card",),
        refund_reason="" if rng.random() < odd / 3 else "overpayment returned",
    )
    return visits, payments


def record_checks_pass(visits: VisitColumns, payments: PaymentColumns) -> bool | None:
    """Whether the record path's checks (but the overlap check) find nothing; None when the
    records cannot even be made or checked (the column path must then not say yes)."""
    try:
        records, pays = visits.records(), payments.records()
        for i, v in enumerate(records):
            if check_visit(i, v) + _visit_reasons(v, (), CTX, _setting_reasons(v, CTX)):
                return False
        return not _check_payments(pays, records, (), CTX)
    except (IndexError, TypeError, ValueError, OverflowError, OSError):
        return None


@pytest.mark.parametrize("seed", range(400))
def test_column_checks_pass_only_what_the_record_checks_pass(seed: int) -> None:
    """The column checks may defer to the record path (which then names the problems), but
    never pass anything the record path refuses or cannot check."""
    rng = random.Random(seed)
    visits, payments = random_columns(rng, rng.randrange(0, 6))
    if hc._visits_fine(visits, CTX) and hc._payments_fine(payments, visits, CTX):
        assert record_checks_pass(visits, payments) is True


def test_column_checks_pass_valid_columns() -> None:
    for seed in range(50):
        visits, payments = random_columns(random.Random(seed), 5, odd=0)
        assert record_checks_pass(visits, payments) is True
        assert hc._visits_fine(visits, CTX) and hc._payments_fine(payments, visits, CTX)
