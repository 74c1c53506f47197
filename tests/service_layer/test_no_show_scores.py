"""No-show scores in the core: recorded all-or-nothing with the clinic's bands, re-banded when
the thresholds change, read back (audited) within the reader's clinic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.no_show import NoShowScore, RiskBand, RiskThresholds
from core_app.domain.staff import Role
from core_app.service_layer import no_show_scores
from core_app.service_layer import practice as practice_setup
from tests.conftest import Practice
from tests.service_layer.helpers import add_staff, audit_entries, book, snapshot

SCORED_AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def score(appointment_id: int, probability: float, *factors: str) -> NoShowScore:
    return NoShowScore(
        appointment_id, probability, factors or ("booked 41 days ahead",), "m-1", SCORED_AT
    )


def test_scores_are_stored_with_the_clinics_bands_and_replaced_by_the_next_run(
    practice: Practice,
) -> None:
    app, admin = practice.app, practice.admin
    ids = [book(practice, 1, hhmm, chair=n) for n, hhmm in enumerate(("09:00", "10:00", "11:00"))]
    stored = no_show_scores.record_scores(
        app.uow(),
        admin,
        [score(ids[0], 0.05), score(ids[1], 0.2, "missed 2 of last 4 visits"), score(ids[2], 0.6)],
    )
    assert stored == 3
    risks = no_show_scores.risk_for(app.uow(), admin, ids)
    assert [risks[i].band for i in ids] == [RiskBand.LOW, RiskBand.MEDIUM, RiskBand.HIGH]
    assert risks[ids[1]].factors == ("missed 2 of last 4 visits",)
    assert risks[ids[1]].scored_at == SCORED_AT and risks[ids[1]].model_version == "m-1"

    no_show_scores.record_scores(app.uow(), admin, [score(ids[0], 0.9)])
    again = no_show_scores.risk_for(app.uow(), admin, ids)
    assert again[ids[0]].band is RiskBand.HIGH and again[ids[0]].probability == 0.9
    assert len(again) == 3


def test_new_thresholds_reband_the_stored_scores(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    first, second = book(practice, 1, "09:00"), book(practice, 1, "10:00")
    no_show_scores.record_scores(app.uow(), admin, [score(first, 0.12), score(second, 0.25)])
    changed = no_show_scores.set_risk_thresholds(
        app.uow(), admin, clinic_id=practice.clinic_id, medium=0.1, high=0.2
    )
    assert changed == 2
    risks = no_show_scores.risk_for(app.uow(), admin, [first, second])
    assert (risks[first].band, risks[second].band) == (RiskBand.MEDIUM, RiskBand.HIGH)
    assert no_show_scores.risk_thresholds(app.uow(), admin, practice.clinic_id) == RiskThresholds(
        0.1, 0.2
    )
    with pytest.raises(ValidationError, match="0 < medium < high < 1"):
        no_show_scores.set_risk_thresholds(
            app.uow(), admin, clinic_id=practice.clinic_id, medium=0.3, high=0.2
        )


def test_a_bad_batch_stores_nothing_and_names_every_problem(practice: Practice) -> None:
    app, admin = practice.app, practice.admin
    good = book(practice, 1, "09:00")
    before = snapshot(app)
    bad = [
        score(good, 0.3),
        score(good, 0.4),  # twice
        score(999_999, 0.1),  # unknown
        NoShowScore(good, 1.5, (), "m-1", SCORED_AT),  # out of range
        NoShowScore(good, 0.2, ("x" * 300,), "", SCORED_AT.replace(tzinfo=None)),
    ]
    with pytest.raises(no_show_scores.ScoresRefused) as refused:
        no_show_scores.record_scores(app.uow(), admin, bad)
    assert str(refused.value).startswith("6 problem(s), nothing stored: ")
    assert refused.value.problems == [
        f"appointment {good}: probability must lie in [0, 1], got 1.5",
        f"appointment {good}: factors must be non-empty and at most 200 characters",
        f"appointment {good}: model version must be 1-100 characters",
        f"appointment {good}: scored_at must be timezone-aware",
        "an appointment is scored twice in one batch",
        "appointment 999999 does not exist",
    ]
    assert snapshot(app) == before


def test_only_the_system_role_records_and_readers_see_their_clinic_only(
    practice: Practice,
) -> None:
    app, admin = practice.app, practice.admin
    appointment = book(practice, 1, "09:00")
    desk = add_staff(practice, "desk", Role.FRONT_DESK, clinic_id=practice.clinic_id)
    with pytest.raises(PermissionDenied):
        no_show_scores.record_scores(app.uow(), desk, [score(appointment, 0.5)])
    no_show_scores.record_scores(app.uow(), admin, [score(appointment, 0.5)])
    assert no_show_scores.risk_for(app.uow(), desk, [appointment])[appointment].probability == 0.5
    elsewhere = practice_setup.create_clinic(
        app.uow(),
        admin,
        name="Elsewhere",
        timezone="America/New_York",
        currency="USD",
        country="US",
        hours=parse_weekly_hours("mon-fri 08:00-16:00"),
    )
    other = add_staff(practice, "elsewhere", Role.FRONT_DESK, clinic_id=elsewhere)
    assert no_show_scores.risk_for(app.uow(), other, [appointment]) == {}
    reads = [e for e in audit_entries(app) if e.action == "no_show.read"]
    assert [(e.actor_username, e.entity_id) for e in reads] == [("desk", str(appointment))]
    writes = [e for e in audit_entries(app) if e.action == "no_show.record"]
    assert [(e.actor_username, e.outcome) for e in writes] == [
        ("desk", "denied"),
        ("admin", "success"),
    ]
