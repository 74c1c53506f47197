"""Storage of no-show scores and clinic risk thresholds (plain SQL on the two tables)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from core_app.adapters import orm
from core_app.adapters.db import plain_rows
from core_app.domain.no_show import NoShowScore, RiskBand, RiskThresholds, StoredRisk

#: ids per IN (...) list, within every database's bound-variable limit
IDS_PER_QUERY = 500


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for lo in range(0, len(ids), IDS_PER_QUERY):
        yield ids[lo : lo + IDS_PER_QUERY]


def appointment_clinics(connection: Connection, appointment_ids: Sequence[int]) -> dict[int, int]:
    """Clinic of each stored appointment among `appointment_ids`."""
    t = orm.appointments.c
    found: dict[int, int] = {}
    for chunk in _chunks(appointment_ids):
        query = select(t.appointment_id, t.clinic_id).where(t.appointment_id.in_(chunk))
        found.update({a: c for a, c in plain_rows(connection.execute(query))})
    return found


def thresholds(connection: Connection, clinic_ids: Iterable[int]) -> dict[int, RiskThresholds]:
    """Each clinic's thresholds (the defaults for a clinic that set none)."""
    t = orm.clinic_risk_thresholds.c
    wanted = sorted(set(clinic_ids))
    stored = {
        clinic: RiskThresholds(medium, high)
        for clinic, medium, high in plain_rows(
            connection.execute(select(t.clinic_id, t.medium, t.high).where(t.clinic_id.in_(wanted)))
        )
    }
    return {clinic: stored.get(clinic, RiskThresholds()) for clinic in wanted}


def save_thresholds(
    connection: Connection, clinic_id: int, value: RiskThresholds, now: datetime
) -> None:
    table = orm.clinic_risk_thresholds
    connection.execute(delete(table).where(table.c.clinic_id == clinic_id))
    connection.execute(
        insert(table).values(
            clinic_id=clinic_id, medium=value.medium, high=value.high, updated_at=now
        )
    )


def replace_scores(
    connection: Connection,
    scores: Sequence[NoShowScore],
    clinic_of: dict[int, int],
    bands: dict[int, RiskBand],
    now: datetime,
) -> None:
    """The scores' rows replace any earlier score of the same appointments."""
    table = orm.no_show_scores
    ids = [s.appointment_id for s in scores]
    for chunk in _chunks(ids):
        connection.execute(delete(table).where(table.c.appointment_id.in_(chunk)))
    if scores:
        connection.execute(
            insert(table),
            [
                {
                    "appointment_id": s.appointment_id,
                    "clinic_id": clinic_of[s.appointment_id],
                    "probability": s.probability,
                    "risk_band": bands[s.appointment_id],
                    "factors": json.dumps(list(s.factors)),
                    "model_version": s.model_version,
                    "scored_at": s.scored_at,
                    "updated_at": now,
                }
                for s in scores
            ],
        )


def reband(connection: Connection, clinic_id: int, value: RiskThresholds, now: datetime) -> int:
    """Re-derive the bands of a clinic's stored scores from new thresholds; how many changed."""
    table = orm.no_show_scores
    changed = 0
    for band, low, high in (
        (RiskBand.LOW, 0.0, value.medium),
        (RiskBand.MEDIUM, value.medium, value.high),
        (RiskBand.HIGH, value.high, 2.0),
    ):
        result = connection.execute(
            update(table)
            .where(
                table.c.clinic_id == clinic_id,
                table.c.probability >= low,
                table.c.probability < high,
                table.c.risk_band != band,
            )
            .values(risk_band=band, updated_at=now)
        )
        changed += result.rowcount
    return changed


def stored_risks(connection: Connection, appointment_ids: Sequence[int]) -> dict[int, StoredRisk]:
    t = orm.no_show_scores.c
    found: dict[int, StoredRisk] = {}
    for chunk in _chunks(appointment_ids):
        query = select(
            t.appointment_id,
            t.clinic_id,
            t.probability,
            t.risk_band,
            t.factors,
            t.model_version,
            t.scored_at,
        ).where(t.appointment_id.in_(chunk))
        for appointment_id, clinic_id, p, band, factors, version, at in plain_rows(
            connection.execute(query)
        ):
            found[appointment_id] = StoredRisk(
                appointment_id,
                clinic_id,
                p,
                RiskBand(band),
                tuple(json.loads(factors)),
                version,
                at,
            )
    return found
