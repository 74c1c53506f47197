"""Clinics, providers and procedures: opening hours across timezones, who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core_app.domain.exceptions import ProcedureNotAllowed, ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import Clinic, Procedure, ProcedureCategory, ProviderKind
from tests.domain.factories import (
    CLINIC_ID,
    cleaning,
    exam,
    local,
    make_clinic,
    make_provider,
)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class TestClinicIsOpen:
    def test_is_open_inside_its_hours(self) -> None:
        clinic = make_clinic()
        assert clinic.is_open(local(0, "08:00"), local(0, "18:00"))

    def test_is_closed_before_opening_and_after_closing(self) -> None:
        clinic = make_clinic()
        assert not clinic.is_open(local(0, "07:45"), local(0, "08:15"))
        assert not clinic.is_open(local(0, "17:45"), local(0, "18:15"))

    def test_is_closed_on_a_day_without_hours(self) -> None:
        clinic = make_clinic()
        assert not clinic.is_open(local(6, "10:00"), local(6, "11:00"))  # Sunday

    def test_reads_hours_in_the_clinic_timezone_not_in_utc(self) -> None:
        # 14:00-15:00 UTC on Monday 2030-01-07 is 09:00 in New York, 06:00 in Los Angeles
        start, end = utc(2030, 1, 7, 14, 0), utc(2030, 1, 7, 15, 0)

        assert make_clinic(timezone="America/New_York").is_open(start, end)
        assert not make_clinic(timezone="America/Los_Angeles").is_open(start, end)

    def test_uses_the_local_weekday_across_the_date_line(self) -> None:
        # Sunday 2030-01-06 23:30 UTC is already Monday 08:30 in Tokyo
        tokyo = make_clinic(timezone="Asia/Tokyo")

        assert tokyo.is_open(utc(2030, 1, 6, 23, 30), utc(2030, 1, 7, 0, 30))
        assert not make_clinic(timezone="Europe/London").is_open(
            utc(2030, 1, 6, 23, 30), utc(2030, 1, 7, 0, 30)
        )

    def test_follows_daylight_saving_time(self) -> None:
        # New York moves to EDT on Sunday 2030-03-10: 12:30 UTC is 07:30 the Monday before
        # (closed) and 08:30 the Monday after (open).
        clinic = make_clinic()

        assert not clinic.is_open(utc(2030, 3, 4, 12, 30), utc(2030, 3, 4, 13, 30))
        assert clinic.is_open(utc(2030, 3, 11, 12, 30), utc(2030, 3, 11, 13, 30))

    def test_follows_the_end_of_daylight_saving_time(self) -> None:
        # back to EST on Sunday 2030-11-03: 22:00 UTC is 18:00 EDT the Friday before (closed)
        # and 17:00 EST the Monday after (open)
        clinic = make_clinic()

        assert not clinic.is_open(utc(2030, 11, 1, 22, 0), utc(2030, 11, 1, 22, 30))
        assert clinic.is_open(utc(2030, 11, 4, 22, 0), utc(2030, 11, 4, 22, 30))

    def test_local_date_is_the_clinic_calendar_day(self) -> None:
        clinic = make_clinic()
        late_evening = local(0, "21:00")  # Tuesday 02:00 UTC

        assert late_evening.date() != clinic.local_date(late_evening)
        assert clinic.local_date(late_evening).isoformat() == "2030-01-07"


class TestClinicCreate:
    @pytest.mark.parametrize(
        ("changes", "complaint"),
        [
            ({"timezone": "Mars/Olympus_Mons"}, "unknown timezone"),
            ({"currency": "usd"}, "currency"),
            ({"currency": "US"}, "currency"),
            ({"country": "USA"}, "country"),
            ({"name": "   "}, "clinic name"),
            ({"hours": ()}, "opening hours"),
        ],
    )
    def test_refuses_bad_set_up(self, changes: dict[str, object], complaint: str) -> None:
        arguments: dict[str, object] = {
            "name": "Main Street",
            "timezone": "America/New_York",
            "currency": "USD",
            "country": "US",
            "hours": parse_weekly_hours("mon-fri 08:00-17:00"),
        }
        arguments.update(changes)

        with pytest.raises(ValidationError, match=complaint):
            Clinic.create(**arguments)  # type: ignore[arg-type]


class TestProviderWorks:
    def test_works_inside_own_hours(self) -> None:
        clinic = make_clinic()
        provider = make_provider(10, hours="mon-fri 08:00-16:00")

        assert provider.works(clinic, local(0, "15:00"), local(0, "16:00"))

    def test_does_not_work_past_own_hours_while_the_clinic_is_open(self) -> None:
        clinic = make_clinic()
        provider = make_provider(10, hours="mon-fri 08:00-16:00")

        assert clinic.is_open(local(0, "15:30"), local(0, "16:30"))
        assert not provider.works(clinic, local(0, "15:30"), local(0, "16:30"))
        assert not provider.works(clinic, local(5, "09:00"), local(5, "10:00"))  # Saturday

    def test_does_not_work_at_another_clinic_with_the_same_hours(self) -> None:
        home, elsewhere = make_clinic(clinic_id=1), make_clinic(clinic_id=2)
        provider = make_provider(10, clinic_id=1)

        assert provider.works(home, local(0, "09:00"), local(0, "10:00"))
        assert not provider.works(elsewhere, local(0, "09:00"), local(0, "10:00"))
        assert provider.works_at(1)
        assert not provider.works_at(2)

    def test_set_hours_replaces_only_the_given_clinic(self) -> None:
        provider = make_provider(10, clinic_id=1)
        provider.set_hours(2, parse_weekly_hours("sat 09:00-12:00"))
        provider.set_hours(1, parse_weekly_hours("tue 10:00-11:00"))

        by_clinic = sorted((h.clinic_id, h.weekday) for h in provider.working_hours)
        assert by_clinic == [(1, 1), (2, 5)]


class TestWhoMayPerform:
    def test_hygienist_is_refused_a_dentist_only_procedure(self) -> None:
        hygienist = make_provider(12, ProviderKind.HYGIENIST)

        with pytest.raises(ProcedureNotAllowed, match="D0120"):
            hygienist.ensure_can_perform(exam())

    def test_hygienist_may_perform_a_hygiene_procedure(self) -> None:
        make_provider(12, ProviderKind.HYGIENIST).ensure_can_perform(cleaning())

    def test_dentist_may_perform_anything(self) -> None:
        dentist = make_provider(10)
        dentist.ensure_can_perform(exam())
        dentist.ensure_can_perform(cleaning())


@pytest.mark.parametrize(
    ("fee_cents", "duration_min", "complaint"),
    [(-1, 15, "negative"), (100, 4, "duration"), (100, 481, "duration")],
)
def test_procedure_refuses_negative_fee_and_odd_durations(
    fee_cents: int, duration_min: int, complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Procedure(
            clinic_id=CLINIC_ID,
            code="D9999",
            name="Odd",
            category=ProcedureCategory.EMERGENCY,
            default_duration_min=duration_min,
            fee_cents=fee_cents,
            hygienist_allowed=False,
        )


def test_local_helper_is_new_york_time() -> None:
    assert local(0, "08:00") == utc(2030, 1, 7, 13, 0)
    assert local(1, "08:00") - local(0, "08:00") == timedelta(days=1)
