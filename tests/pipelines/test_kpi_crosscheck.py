"""KPIs from the marts agree with the same KPIs computed here straight from the operational
SQLite tables (plain SQL, clinic-local days in Python), for a quarter and for the whole history.

The mart side goes through marts.kpi_definitions exactly as `dentops kpi` does: sum the
numerator and the denominator over the period's rows of the source model, then divide. The core
side knows nothing of the marts: its rules are the ones KPIS.md and docs/kpis.md state.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from core_app.adapters.crypto import load_key_file
from core_app.domain.billing import Charge, Payment, PaymentMethod, Refund, compute_ageing
from tests.pipelines.conftest import Warehouse
from tests.pipelines.test_marts import BuiltMarts, built_marts

PERIODS = {
    "first quarter of 2026": (date(2026, 1, 1), date(2026, 3, 31)),
    "whole history": (date(2025, 6, 30), date(2026, 6, 29)),
}


@pytest.fixture(scope="module")
def marts(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> BuiltMarts:
    return built_marts(warehouse, tmp_path_factory.mktemp("marts"))


@dataclass(frozen=True)
class Core:
    """The operational database of the practice, read with plain SQL."""

    path: Path
    clinic_id: int
    zone: ZoneInfo
    country: str

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as con:
            return con.execute(sql, params).fetchall()

    def local_date(self, stored: str) -> date:
        return utc(stored).astimezone(self.zone).date()


def utc(stored: str) -> datetime:
    """A core SQLite timestamp: naive text holding UTC."""
    return datetime.fromisoformat(stored).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def core(marts: BuiltMarts) -> Core:
    path = marts.warehouse.data_dir / "dentops.db"
    core = Core(path=path, clinic_id=0, zone=ZoneInfo("UTC"), country="")
    [(clinic_id, timezone, country)] = core.rows("SELECT clinic_id, timezone, country FROM clinics")
    return Core(path=path, clinic_id=clinic_id, zone=ZoneInfo(timezone), country=country)


def mart_kpis(marts: BuiltMarts, clinic_id: int, first: date, last: date) -> dict[str, float]:
    """Every KPI of marts.kpi_definitions for the period, as `dentops kpi` computes it."""
    values: dict[str, float] = {}
    definitions = marts.query(
        "SELECT kpi, numerator_column, denominator_column, source_model FROM marts.kpi_definitions"
    )
    for kpi, numerator, denominator, source_model in definitions:
        [(top, bottom)] = marts.query(
            f"SELECT sum({numerator}), {f'sum({denominator})' if denominator else '1'} "  # noqa: S608
            f"FROM marts.{source_model} WHERE clinic_id = ? AND date_day BETWEEN ? AND ?",
            [clinic_id, first, last],
        )
        values[kpi] = float(top) / float(bottom) if bottom else float("nan")
    return values


def core_money(core: Core, first: date, last: date) -> dict[str, float]:
    production = sum(
        amount
        for amount, charged_at in core.rows(
            "SELECT amount_cents, charged_at FROM charges WHERE clinic_id = ?", (core.clinic_id,)
        )
        if first <= core.local_date(charged_at) <= last
    )
    received = sum(
        amount
        for amount, received_at in core.rows(
            "SELECT amount_cents, received_at FROM payments WHERE clinic_id = ?", (core.clinic_id,)
        )
        if first <= core.local_date(received_at) <= last
    )
    refunded = sum(
        amount
        for amount, refunded_at in core.rows(
            "SELECT r.amount_cents, r.refunded_at FROM refunds r "
            "JOIN payments p ON p.payment_id = r.payment_id WHERE p.clinic_id = ?",
            (core.clinic_id,),
        )
        if first <= core.local_date(refunded_at) <= last
    )
    collections = received - refunded
    return {
        "production_cents": production,
        "collections_cents": collections,
        "collection_rate": collections / production,
    }


def core_attendance(core: Core, first: date, last: date) -> dict[str, float]:
    """No-show and broken-appointment rates over appointments that were completed, checked in,
    no-shows or cancelled late (the core's own is_late_cancel flag), by clinic-local start day."""
    counts: dict[str, int] = defaultdict(int)
    for status, is_late_cancel, start_at in core.rows(
        "SELECT status, is_late_cancel, start_at FROM appointments WHERE clinic_id = ?",
        (core.clinic_id,),
    ):
        if not first <= core.local_date(start_at) <= last:
            continue
        late = status == "cancelled" and bool(is_late_cancel)
        if status in ("completed", "checked_in", "no_show") or late:
            counts["scheduled"] += 1
        counts["no_show"] += status == "no_show"
        counts["late"] += late
    return {
        "no_show_rate": counts["no_show"] / counts["scheduled"],
        "broken_appointment_rate": (counts["no_show"] + counts["late"]) / counts["scheduled"],
    }


def core_new_patients(core: Core, first: date, last: date) -> int:
    """Patients whose first completed visit starts in the period, counting only patients
    registered on or after the clinic's first recorded day (earlier ones are established
    patients whose earlier visits the core does not hold)."""
    recorded = [
        core.local_date(stored)
        for (stored,) in core.rows(
            "SELECT booked_at FROM appointments WHERE clinic_id = ?1 UNION ALL "
            "SELECT start_at FROM appointments WHERE clinic_id = ?1 UNION ALL "
            "SELECT charged_at FROM charges WHERE clinic_id = ?1 UNION ALL "
            "SELECT received_at FROM payments WHERE clinic_id = ?1",
            (core.clinic_id,),
        )
    ]
    history_start = min(recorded)
    firsts = core.rows(
        "SELECT a.patient_id, min(a.start_at), p.created_at FROM appointments a "
        "JOIN patients p ON p.patient_id = a.patient_id "
        "WHERE a.clinic_id = ? AND a.status = 'completed' GROUP BY a.patient_id, p.created_at",
        (core.clinic_id,),
    )
    return sum(
        1
        for _, start_at, created_at in firsts
        if first <= core.local_date(start_at) <= last
        and core.local_date(created_at) >= history_start
    )


def core_booked_minutes(core: Core, first: date, last: date, *, resource: str) -> int:
    """Minutes of appointments holding a resource (`provider_id` or `chair_id`): not cancelled,
    and an overbook sharing that resource with an appointment that still stands not counted
    again."""
    rows = core.rows(
        f"SELECT appointment_id, {resource}, start_at, end_at, status, "  # noqa: S608
        "overbook_of_appointment_id FROM appointments WHERE clinic_id = ?",
        (core.clinic_id,),
    )
    held = {row[0]: (row[1], row[4]) for row in rows}
    booked = 0
    for _, holder, start_at, end_at, status, overbook_of in rows:
        if not first <= core.local_date(start_at) <= last or status == "cancelled":
            continue
        if overbook_of is not None:
            target_holder, target_status = held[overbook_of]
            if target_holder == holder and target_status != "cancelled":
                continue
        booked += int((utc(end_at) - utc(start_at)).total_seconds() // 60)
    return booked


def core_open_days(core: Core, first: date, last: date) -> list[date]:
    """Days the clinic was open in the period: not a public holiday of its country, from its
    first appointment day on (whether it has hours that weekday is up to the caller)."""
    [(first_start,)] = core.rows(
        "SELECT min(start_at) FROM appointments WHERE clinic_id = ?", (core.clinic_id,)
    )
    public = holidays.country_holidays(core.country, years=range(first.year, last.year + 1))
    day, days = max(first, core.local_date(first_start)), []
    while day <= last:
        if day not in public:
            days.append(day)
        day += timedelta(days=1)
    return days


def core_hours(core: Core, table: str, extra: str = "") -> list[tuple[Any, ...]]:
    return core.rows(
        f'SELECT weekday, "start", "end"{extra} FROM {table} WHERE clinic_id = ?',  # noqa: S608
        (core.clinic_id,),
    )


def core_chair_utilization(core: Core, first: date, last: date) -> float:
    """Booked chair minutes over opening minutes per active chair on the open days."""
    opening: dict[int, int] = defaultdict(int)
    for weekday, start, end in core_hours(core, "clinic_opening_hours"):
        opening[weekday] += minutes(end) - minutes(start)
    [(chairs,)] = core.rows(
        "SELECT count(*) FROM chairs WHERE clinic_id = ? AND is_active", (core.clinic_id,)
    )
    available: int = sum(
        opening[day.weekday()] * int(chairs) for day in core_open_days(core, first, last)
    )
    return core_booked_minutes(core, first, last, resource="chair_id") / available


def core_provider_available_minutes(core: Core, first: date, last: date) -> int:
    """Each provider's working hours at the clinic that overlap its opening hours, on open days."""
    opening = core_hours(core, "clinic_opening_hours")
    weekly: dict[int, int] = defaultdict(int)
    for weekday, start, end, _provider in core_hours(
        core, "provider_working_hours", extra=", provider_id"
    ):
        for open_weekday, open_start, open_end in opening:
            if open_weekday == weekday:
                overlap = min(minutes(end), minutes(open_end)) - max(
                    minutes(start), minutes(open_start)
                )
                weekly[weekday] += max(overlap, 0)
    return sum(weekly[day.weekday()] for day in core_open_days(core, first, last))


def core_hygiene_reappointment(core: Core, first: date, last: date) -> tuple[int, int]:
    """Completed hygiene visits in the period, and those after which the patient had a later
    hygiene appointment booked by the end of the visit's day."""
    hygiene = core.rows(
        "SELECT a.appointment_id, a.patient_id, a.start_at, a.booked_at, a.status, "
        "a.completed_at FROM appointments a WHERE a.clinic_id = ? AND EXISTS ("
        "SELECT 1 FROM appointment_procedures l "
        "WHERE l.appointment_id = a.appointment_id AND l.category = 'hygiene')",
        (core.clinic_id,),
    )
    by_patient: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in hygiene:
        by_patient[row[1]].append(row)
    seen = reappointed = 0
    for _, patient_id, start_at, _, status, completed_at in hygiene:
        if status != "completed" or not first <= core.local_date(start_at) <= last:
            continue
        seen += 1
        reappointed += any(
            utc(other[2]) > utc(start_at)
            and core.local_date(other[3]) <= core.local_date(completed_at)
            for other in by_patient[patient_id]
        )
    return reappointed, seen


def minutes(stored: str) -> int:
    clock = time.fromisoformat(stored)
    return clock.hour * 60 + clock.minute


@pytest.mark.parametrize("period", PERIODS)
def test_money_kpis_match_the_core(marts: BuiltMarts, core: Core, period: str):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    expected = core_money(core, first, last)
    assert kpis["production_cents"] == expected["production_cents"] > 0
    assert kpis["net_production_cents"] == expected["production_cents"]
    assert kpis["collections_cents"] == expected["collections_cents"] > 0
    assert kpis["collection_rate"] == pytest.approx(expected["collection_rate"], rel=1e-12)


@pytest.mark.parametrize("period", PERIODS)
def test_attendance_kpis_match_the_core(marts: BuiltMarts, core: Core, period: str):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    expected = core_attendance(core, first, last)
    assert kpis["no_show_rate"] == pytest.approx(expected["no_show_rate"], rel=1e-12)
    assert kpis["broken_appointment_rate"] == pytest.approx(
        expected["broken_appointment_rate"], rel=1e-12
    )
    assert 0 < kpis["no_show_rate"] < kpis["broken_appointment_rate"] < 1


@pytest.mark.parametrize("period", PERIODS)
def test_new_patients_match_the_core(marts: BuiltMarts, core: Core, period: str):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    assert kpis["new_patients"] == core_new_patients(core, first, last) > 0


@pytest.mark.parametrize("period", PERIODS)
def test_chair_utilization_matches_the_core(marts: BuiltMarts, core: Core, period: str):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    expected = core_chair_utilization(core, first, last)
    assert kpis["chair_utilization"] == pytest.approx(expected, rel=1e-12)
    assert 0 < kpis["chair_utilization"] <= 1


@pytest.mark.parametrize("period", PERIODS)
def test_provider_utilization_and_production_per_hour_match_the_core(
    marts: BuiltMarts, core: Core, period: str
):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    available = core_provider_available_minutes(core, first, last)
    booked = core_booked_minutes(core, first, last, resource="provider_id")
    production = core_money(core, first, last)["production_cents"]
    assert kpis["provider_utilization"] == pytest.approx(booked / available, rel=1e-12)
    assert kpis["production_per_hour_cents"] == pytest.approx(
        production / (available / 60), rel=1e-12
    )
    assert 0 < kpis["provider_utilization"] <= 1


@pytest.mark.parametrize("period", PERIODS)
def test_hygiene_reappointment_rate_matches_the_core(marts: BuiltMarts, core: Core, period: str):
    first, last = PERIODS[period]
    kpis = mart_kpis(marts, core.clinic_id, first, last)
    reappointed, seen = core_hygiene_reappointment(core, first, last)
    assert kpis["hygiene_reappointment_rate"] == pytest.approx(reappointed / seen, rel=1e-12)
    assert reappointed > 0


def test_ar_ageing_matches_the_core_ageing_rule_patient_by_patient(marts: BuiltMarts, core: Core):
    """The core's own ageing (core_app.domain.billing.compute_ageing) as of the end of the mart's
    as-of day, for every patient, against ar_ageing's buckets (matched through the pseudonym)."""
    [(as_of_date,)] = marts.query("SELECT DISTINCT as_of_date FROM marts.ar_ageing")
    as_of = datetime.combine(as_of_date, time(23, 59), tzinfo=core.zone)
    ring = load_key_file(marts.warehouse.settings.key_file)
    [(currency,)] = core.rows("SELECT currency FROM clinics WHERE clinic_id = ?", (core.clinic_id,))
    charges: dict[int, list[Charge]] = defaultdict(list)
    for charge_id, patient_id, amount, currency, charged_at in core.rows(
        "SELECT charge_id, patient_id, amount_cents, currency, charged_at FROM charges"
    ):
        charges[patient_id].append(
            Charge(
                clinic_id=core.clinic_id,
                patient_id=patient_id,
                appointment_id=None,
                procedure_code="",
                amount_cents=amount,
                currency=currency,
                charged_at=utc(charged_at),
                charge_id=charge_id,
            )
        )
    payments: dict[int, list[Payment]] = defaultdict(list)
    by_id: dict[int, Payment] = {}
    for payment_id, patient_id, amount, currency, method, received_at in core.rows(
        "SELECT payment_id, patient_id, amount_cents, currency, method, received_at FROM payments"
    ):
        payment = Payment(
            clinic_id=core.clinic_id,
            patient_id=patient_id,
            amount_cents=amount,
            currency=currency,
            method=PaymentMethod(method),
            received_at=utc(received_at),
            recorded_by_user_id=None,
            payment_id=payment_id,
        )
        payments[patient_id].append(payment)
        by_id[payment_id] = payment
    for payment_id, amount, refunded_at in core.rows(
        "SELECT payment_id, amount_cents, refunded_at FROM refunds"
    ):
        by_id[payment_id].refunds.append(
            Refund(
                amount_cents=amount,
                refunded_at=utc(refunded_at),
                reason="",
                recorded_by_user_id=None,
                payment_id=payment_id,
            )
        )
    expected = {}
    for patient_id in set(charges) | set(payments):
        ageing = compute_ageing(currency, charges[patient_id], payments[patient_id], as_of=as_of)
        expected[ring.pseudonym("patient", patient_id)] = (
            ageing.buckets["0_30"],
            ageing.buckets["31_60"],
            ageing.buckets["61_90"],
            ageing.buckets["over_90"],
            ageing.credit_cents,
        )
    found = {
        row[0]: tuple(row[1:])
        for row in marts.query(
            "SELECT patient_key, open_0_30_cents, open_31_60_cents, open_61_90_cents, "
            "open_over_90_cents, credit_cents FROM marts.ar_ageing"
        )
    }
    assert found == expected
    totals = [sum(bucket[i] for bucket in found.values()) for i in range(4)]
    assert all(total > 0 for total in totals), totals
