"""The bulk path's fast parts agree with the core's rules: the array overlap check with
`check_overlaps`, and index rebuilding keeps a load all-or-nothing."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core_app.adapters import bulk
from core_app.domain.history import HistoricVisit, check_overlaps
from core_app.service_layer.history import _free_of_overlaps, load_history, stored_counts
from core_app.service_layer.use_case import TransientConflict
from tests.conftest import Practice, local


def random_visits(rng: random.Random, n: int) -> list[HistoricVisit]:
    visits = []
    for _ in range(n):
        start = rng.randrange(0, 400) * 60
        visits.append(
            HistoricVisit(
                clinic_id=1,
                provider_id=rng.randrange(3),
                chair_id=rng.randrange(3),
                start_epoch=start,
                end_epoch=start + rng.choice([5, 15, 30, 60]) * 60,
                booked_epoch=0,
                status=rng.choice(["completed", "no_show", "cancelled", "booked"]),
                procedure_codes=("D0120",),
                patient_id=rng.randrange(6),
            )
        )
    return visits


@pytest.mark.parametrize("seed", range(300))
def test_array_overlap_check_agrees_with_the_rule(seed: int) -> None:
    rng = random.Random(seed)
    visits = random_visits(rng, rng.randrange(0, 12))
    keys = [v.patient_id or 0 for v in visits]
    existing = [
        (100 + i, v.provider_id, v.chair_id, v.patient_id or 0, v.start_epoch, v.end_epoch)
        for i, v in enumerate(random_visits(rng, rng.randrange(0, 3)))
    ]
    assert _free_of_overlaps(visits, keys, existing) == (not check_overlaps(visits, keys, existing))


def visit(practice: Practice, hhmm: str, ref: str) -> HistoricVisit:
    start = int(local(-7, hhmm).timestamp())
    return HistoricVisit(
        clinic_id=practice.clinic_id,
        provider_id=practice.dentist_id,
        chair_id=practice.chair_ids[0],
        start_epoch=start,
        end_epoch=start + 1800,
        booked_epoch=start - 86_400,
        status="completed",
        procedure_codes=("D0120",),
        patient_id=practice.patient_ids[0],
        checked_in_epoch=start,
        completed_epoch=start + 1800,
        source_ref=ref,
    )


def test_rebuilt_indexes_and_multi_row_inserts_keep_a_load_all_or_nothing(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "ROWS_PER_STATEMENT", 2)
    app = practice.app
    # references out of order: the unique index is rebuilt after the insert, and a duplicate
    # fails there; nothing is written
    twins = [visit(practice, f"{h:02d}:00", ref) for h, ref in ((9, "b"), (10, "a"), (11, "b"))]
    # (PostgreSQL reports a unique violation as a possible concurrent twin: retried, then busy)
    with pytest.raises((IntegrityError, TransientConflict)):
        load_history(app.uow(), practice.admin, visits=twins)
    assert stored_counts(app.uow())["appointments"] == 0
    fine = [visit(practice, f"{h:02d}:00", f"ref-{h}") for h in range(8, 13)]
    report = load_history(app.uow(), practice.admin, visits=fine)
    assert len(report.appointment_ids) == 5 and report.charges == 5
    if app.backend == "sqlite":
        database = Path(app.engine.url.database or "")
        with sqlite3.connect(database) as con:
            indexes = {
                row[0]
                for row in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'appointments'"
                )
            }
            refs = [
                r[0]
                for r in con.execute("SELECT source_ref FROM appointments ORDER BY appointment_id")
            ]
        assert {"ix_appointments_provider_id_start_at", "ix_appointments_source_ref"} <= indexes
        assert refs == [f"ref-{h}" for h in range(8, 13)]
