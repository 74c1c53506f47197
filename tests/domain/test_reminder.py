"""The reminder policy as pure rules: offsets, quiet hours in the clinic's zone (across a
daylight-saving change), lead guards, the optional 30-minute reminder, high-risk extras."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core_app.domain.exceptions import ValidationError
from core_app.domain.reminder import (
    Channel,
    OutgoingMessage,
    ReminderKind,
    ReminderPolicy,
    choose_channel,
    parse_offsets,
    retry_delay,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


def plan(policy: ReminderPolicy, start: datetime, now: datetime, zone: ZoneInfo = NY, **kw: bool):
    return [
        (p.kind, p.offset_minutes, p.due_at)
        for p in policy.plan(start_at=start, now=now, zone=zone, **kw)
    ]


NOW = at(NY, 2030, 1, 7, 8)  # Monday 08:00


def test_standard_reminders_go_24h_and_2h_before() -> None:
    start = at(NY, 2030, 1, 9, 14)  # Wednesday 14:00
    assert plan(ReminderPolicy(), start, NOW) == [
        (ReminderKind.STANDARD, 1440, at(NY, 2030, 1, 8, 14)),
        (ReminderKind.STANDARD, 120, at(NY, 2030, 1, 9, 12)),
    ]


def test_a_time_after_the_day_ends_moves_to_21_00_the_same_evening() -> None:
    start = at(NY, 2030, 1, 9, 22, 30)  # a late appointment; 24 h before is 22:30
    (first, second) = plan(ReminderPolicy(), start, NOW)
    assert first[2] == at(NY, 2030, 1, 8, 21)  # moved 1.5 h earlier: kept
    assert second[2] == at(NY, 2030, 1, 9, 20, 30)


def test_an_early_morning_time_moves_to_the_evening_before_or_is_dropped() -> None:
    start = at(NY, 2030, 1, 9, 8, 30)  # 2 h before is 06:30: 21:00 the day before is 9.5 h
    # earlier than that, more than the reminder's own 2 h: dropped; the 24 h one stays
    assert plan(ReminderPolicy(), start, NOW) == [
        (ReminderKind.STANDARD, 1440, at(NY, 2030, 1, 8, 8, 30))
    ]
    start = at(NY, 2030, 1, 11, 9)  # high-risk 72 h before: Tuesday 09:00, allowed
    ahead = ReminderPolicy(high_risk=(timedelta(hours=74),))  # 07:00 Tuesday: moved to Mon 21:00
    assert (ReminderKind.HIGH_RISK, 74 * 60, at(NY, 2030, 1, 7, 21)) in plan(
        ahead, start, NOW, high_risk=True
    )


def test_quiet_hours_are_the_clinics_own_wall_clock() -> None:
    start = at(BERLIN, 2030, 1, 9, 9)  # 2 h before is 07:00 in Berlin (01:00 in New York)
    kinds = plan(ReminderPolicy(), start, NOW, zone=BERLIN)
    assert [k[1] for k in kinds] == [1440]
    assert plan(ReminderPolicy(), start, NOW, zone=ZoneInfo("Asia/Tokyo"))[-1][1] == 120


def test_offsets_are_elapsed_time_across_a_daylight_saving_change() -> None:
    # Monday 2030-03-11 08:30 EDT; clocks went forward on Sunday 2030-03-10 at 02:00.
    start = at(NY, 2030, 3, 11, 8, 30)
    now = at(NY, 2030, 3, 1, 12)
    due = {k[1]: k[2] for k in plan(ReminderPolicy(), start, now, high_risk=True)}
    # 72 elapsed hours before is Friday 07:30 EST (not 08:30): in the quiet hours, so it
    # moves to Thursday 21:00 EST
    assert due[72 * 60] == at(NY, 2030, 3, 7, 21)
    assert due[72 * 60].astimezone(NY).utcoffset() == timedelta(hours=-5)
    assert due[1440] == at(NY, 2030, 3, 10, 8, 30)  # Sunday 08:30 EDT, after the change
    assert 120 not in due  # 06:30: dropped


def test_no_reminder_in_the_past_or_within_the_minimum_lead() -> None:
    start = at(NY, 2030, 1, 7, 9)  # 1 h from now: 24 h and 2 h are past
    assert plan(ReminderPolicy(), start, NOW) == []
    short = ReminderPolicy(short_enabled=True)
    assert plan(short, start, NOW) == [(ReminderKind.SHORT, 30, at(NY, 2030, 1, 7, 8, 30))]
    assert plan(short, start, at(NY, 2030, 1, 7, 8, 31)) == []
    lead = ReminderPolicy(standard=(timedelta(minutes=20),), min_lead=timedelta(minutes=15))
    assert plan(lead, start, NOW)[0][2] == at(NY, 2030, 1, 7, 8, 40)
    with pytest.raises(ValidationError, match="minimum lead"):
        ReminderPolicy(standard=(timedelta(minutes=10),), min_lead=timedelta(minutes=15))
    with pytest.raises(ValidationError, match="30-minute"):
        ReminderPolicy(short_enabled=True, min_lead=timedelta(minutes=45))


def test_the_30_minute_reminder_is_optional() -> None:
    start = at(NY, 2030, 1, 9, 14)
    assert [k[1] for k in plan(ReminderPolicy(), start, NOW)] == [1440, 120]
    assert [k[1] for k in plan(ReminderPolicy(short_enabled=True), start, NOW)] == [1440, 120, 30]


def test_high_risk_adds_the_extra_reminders() -> None:
    start = at(NY, 2030, 1, 11, 14)  # Friday 14:00
    plain = plan(ReminderPolicy(), start, NOW)
    risky = plan(ReminderPolicy(), start, NOW, high_risk=True)
    assert [k for k in risky if k not in plain] == [
        (ReminderKind.HIGH_RISK, 72 * 60, at(NY, 2030, 1, 8, 14))
    ]


def test_two_reminders_moved_onto_one_time_become_one() -> None:
    policy = ReminderPolicy(standard=(timedelta(hours=11), timedelta(hours=12)))
    start = at(NY, 2030, 1, 9, 7, 30)  # 20:30 and 19:30 the evening before: both allowed
    assert len(plan(policy, start, NOW)) == 2
    late = ReminderPolicy(standard=(timedelta(hours=1), timedelta(hours=2)), day_end=time(21))
    start = at(NY, 2030, 1, 8, 23, 30)  # 22:30 and 21:30 both move to 21:00: one message
    assert [k[2] for k in plan(late, start, NOW)] == [at(NY, 2030, 1, 8, 21)]


def test_front_desk_extra_reminder_respects_quiet_hours_and_lead() -> None:
    policy = ReminderPolicy()
    start = at(NY, 2030, 1, 7, 15)
    assert policy.extra_due(start_at=start, now=NOW, zone=NY) == NOW
    with pytest.raises(ValidationError, match="quiet hours"):
        policy.extra_due(start_at=start, now=at(NY, 2030, 1, 7, 7, 59), zone=NY)
    with pytest.raises(ValidationError, match="minimum lead"):
        policy.extra_due(start_at=start, now=at(NY, 2030, 1, 7, 14, 50), zone=NY)


def test_call_task_is_due_the_day_before_or_today() -> None:
    policy = ReminderPolicy()
    start = at(NY, 2030, 1, 11, 9)
    assert policy.call_task_date(start_at=start, now=NOW, zone=NY).isoformat() == "2030-01-10"
    late = at(NY, 2030, 1, 11, 7)
    assert policy.call_task_date(start_at=start, now=late, zone=NY).isoformat() == "2030-01-11"


def test_policy_values_are_checked() -> None:
    assert parse_offsets("24h, 2h,90m") == (
        timedelta(hours=24),
        timedelta(hours=2),
        timedelta(minutes=90),
    )
    with pytest.raises(ValidationError, match="cannot read"):
        parse_offsets("soon")
    with pytest.raises(ValidationError, match="14 days"):
        ReminderPolicy(high_risk=(timedelta(days=20),))
    with pytest.raises(ValidationError, match="repeat"):
        ReminderPolicy(standard=(timedelta(hours=2), timedelta(hours=2)))
    with pytest.raises(ValidationError, match="quiet hours"):
        ReminderPolicy(day_start=time(21), day_end=time(8))


def test_channel_follows_the_contact_preference_and_the_addresses_on_file() -> None:
    assert choose_channel("email", has_email=True, has_phone=True) is Channel.EMAIL
    assert choose_channel("email", has_email=False, has_phone=True) is Channel.SMS
    assert choose_channel("sms", has_email=True, has_phone=True) is Channel.SMS
    assert choose_channel("sms", has_email=True, has_phone=False) is Channel.EMAIL
    assert choose_channel("phone", has_email=True, has_phone=True) is Channel.SMS
    assert choose_channel("sms", has_email=False, has_phone=False) is None


def test_backoff_doubles_up_to_a_cap() -> None:
    base = timedelta(minutes=1)
    assert [retry_delay(n, base=base) for n in (1, 2, 3, 4)] == [base, 2 * base, 4 * base, 8 * base]
    assert retry_delay(30, base=base) == timedelta(hours=1)


def test_a_message_holds_only_first_name_time_and_clinic() -> None:
    message = OutgoingMessage(
        7, Channel.SMS, "+1 555 0100", "Alma", "Main Street", "Tue 8 Jan 2030 at 11:00"
    )
    assert message.text == (
        "Hello Alma, this is a reminder of your appointment at Main Street on "
        "Tue 8 Jan 2030 at 11:00. If you cannot come, please let the clinic know."
    )
    assert "555" not in repr(message) and "Alma" not in repr(message)
    assert message.idempotency_id == "dentops-reminder-7"
