"""Weekly hours: parsing what staff type, and whether a block covers an interval."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import (
    HoursBlock,
    blocks_cover,
    ensure_utc,
    format_weekly_hours,
    parse_weekly_hours,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(day: int, hhmm: str) -> datetime:
    """A naive local time on the day `day` of the week of Monday 2030-01-07."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(2030, 1, 7 + day, hours, minutes)


def test_parses_a_weekday_range_into_one_block_per_day() -> None:
    blocks = parse_weekly_hours("mon-fri 08:00-17:00")

    assert blocks == tuple(HoursBlock(day, time(8), time(17)) for day in (MON, TUE, WED, THU, FRI))


def test_parses_several_chunks_lists_and_single_digit_hours_in_weekday_order() -> None:
    blocks = parse_weekly_hours("SAT 9:00-13:00; mon,wed 08:00-12:00 ;mon 13:00-18:30;")

    assert blocks == (
        HoursBlock(MON, time(8), time(12)),
        HoursBlock(MON, time(13), time(18, 30)),
        HoursBlock(WED, time(8), time(12)),
        HoursBlock(SAT, time(9), time(13)),
    )


def test_round_trips_through_format_weekly_hours() -> None:
    text = "mon 08:00-12:00; mon 13:00-18:00; sat 09:00-13:00"

    assert format_weekly_hours(parse_weekly_hours(text)) == text


def test_merges_blocks_that_touch_so_an_appointment_may_span_them() -> None:
    blocks = parse_weekly_hours("mon 08:00-12:00; mon 12:00-18:00; tue 08:00-12:00")

    assert blocks == (HoursBlock(0, time(8), time(18)), HoursBlock(1, time(8), time(12)))


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        (" ; ; ", "empty"),
        ("mon-fri", "cannot read hours"),
        ("monday 08:00-17:00", "cannot read hours"),
        ("mon - fri 08:00-17:00", "cannot read hours"),
        ("mon-fri 08:00 - 17:00", "cannot read hours"),
        ("mon-fri 0800-1700", "cannot read hours"),
        ("xyz 08:00-17:00", "unknown weekday"),
        ("mon-xyz 08:00-17:00", "unknown weekday"),
        ("fri-mon 08:00-17:00", "runs backwards"),
        ("mon 24:00-25:00", "invalid time of day"),
        ("mon 08:60-17:00", "invalid time of day"),
        ("mon 17:00-08:00", "ends before it starts"),
        ("mon 08:00-08:00", "ends before it starts"),
    ],
)
def test_refuses_unreadable_hours(text: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        parse_weekly_hours(text)


@pytest.mark.parametrize(
    "text",
    [
        "mon 08:00-12:00; mon 11:59-18:00",
        "mon 08:00-18:00; mon 09:00-10:00",
        "mon-fri 08:00-17:00; wed 16:00-19:00",
        "mon,mon 08:00-10:00",
        "mon 13:00-18:00; mon 08:00-12:00; mon 11:00-14:00",
    ],
)
def test_refuses_overlapping_blocks_on_the_same_day(text: str) -> None:
    with pytest.raises(ValidationError, match="overlap"):
        parse_weekly_hours(text)


def test_same_times_on_different_days_do_not_overlap() -> None:
    assert len(parse_weekly_hours("mon 08:00-18:00; tue 08:00-18:00")) == 2


@pytest.mark.parametrize("weekday", [-1, 7])
def test_hours_block_refuses_a_weekday_outside_monday_to_sunday(weekday: int) -> None:
    with pytest.raises(ValidationError, match="weekday"):
        HoursBlock(weekday, time(8), time(9))


def test_hours_block_counts_its_minutes() -> None:
    assert HoursBlock(MON, time(8), time(12, 30)).minutes == 270


class TestHoursBlockCovers:
    block = HoursBlock(MON, time(8), time(12))

    def test_covers_an_interval_inside_the_block(self) -> None:
        assert self.block.covers(at(MON, "09:00"), at(MON, "10:00"))

    def test_covers_an_interval_filling_the_block_exactly(self) -> None:
        assert self.block.covers(at(MON, "08:00"), at(MON, "12:00"))

    def test_does_not_cover_an_interval_starting_before_opening(self) -> None:
        assert not self.block.covers(at(MON, "07:59"), at(MON, "09:00"))

    def test_does_not_cover_an_interval_ending_after_closing(self) -> None:
        assert not self.block.covers(at(MON, "11:30"), at(MON, "12:01"))

    def test_does_not_cover_the_same_hours_on_another_weekday(self) -> None:
        assert not self.block.covers(at(TUE, "09:00"), at(TUE, "10:00"))

    def test_does_not_cover_an_interval_running_into_the_next_day(self) -> None:
        late = HoursBlock(MON, time(20), time(23, 59))
        assert not late.covers(at(MON, "23:00"), at(TUE, "00:00"))

    def test_one_block_must_cover_the_whole_interval(self) -> None:
        blocks = parse_weekly_hours("mon 08:00-12:00; mon 13:00-18:00")

        assert blocks_cover(blocks, at(MON, "13:00"), at(MON, "14:00"))
        assert not blocks_cover(blocks, at(MON, "11:30"), at(MON, "13:30"))


def test_ensure_utc_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValidationError, match="must carry a timezone"):
        ensure_utc(datetime(2030, 1, 7, 8, 0), name="start")
