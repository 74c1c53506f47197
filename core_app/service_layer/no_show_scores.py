"""No-show risk in the core: the scoring pipeline records each upcoming appointment's score,
the front desk (and the API) reads it, managers set each clinic's risk thresholds.

Every write is one audited transaction; a read of scores is audited like any read of what is
known about a patient's appointments.
"""

from __future__ import annotations

from collections.abc import Sequence

from core_app.adapters import risk
from core_app.domain.exceptions import ValidationError
from core_app.domain.no_show import NoShowScore, RiskThresholds, StoredRisk
from core_app.domain.staff import Action, Actor
from core_app.service_layer import reminders
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case

#: problems named in a refusal before "and N more"
SHOWN_PROBLEMS = 5


class ScoresRefused(ValidationError):
    """A batch of scores breaks the rules; `problems` lists every one, nothing was stored."""

    def __init__(self, problems: list[str]) -> None:
        more = len(problems) - SHOWN_PROBLEMS
        super().__init__(
            f"{len(problems)} problem(s), nothing stored: "
            + "; ".join(problems[:SHOWN_PROBLEMS])
            + (f" (and {more} more)" if more > 0 else "")
        )
        self.problems = problems


def record_scores(uow: UnitOfWork, actor: Actor, scores: Sequence[NoShowScore]) -> int:
    """Store the scores (replacing earlier ones of the same appointments), each with the band
    its clinic's thresholds give; all or nothing. Returns how many were stored."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.RECORD_RISK)
        ids = [s.appointment_id for s in scores]
        problems = [
            f"appointment {s.appointment_id}: {reason}" for s in scores for reason in s.problems()
        ]
        if len(set(ids)) != len(ids):
            problems.append("an appointment is scored twice in one batch")
        connection = uow.session.connection()
        clinic_of = risk.appointment_clinics(connection, ids)
        problems += [f"appointment {i} does not exist" for i in ids if i not in clinic_of]
        if problems:
            raise ScoresRefused(problems)
        for clinic_id in set(clinic_of.values()):
            actor.require(Action.RECORD_RISK, clinic_id=clinic_id)
        limits = risk.thresholds(connection, clinic_of.values())
        bands = {
            s.appointment_id: limits[clinic_of[s.appointment_id]].band(s.probability)
            for s in scores
        }
        risk.replace_scores(connection, scores, clinic_of, bands, uow.now())
        reminders.apply_risk(uow, actor, bands)
        if ids:
            uow.audit(
                actor,
                "no_show.record",
                "appointment",
                None,
                detail=f"{len(ids)} scores, appointments {min(ids)}..{max(ids)}",
            )
        return len(ids)

    return run_use_case(
        uow, actor, action="no_show.record", entity_type="appointment", entity_id=None, work=work
    )


def risk_for(
    uow: UnitOfWork, actor: Actor, appointment_ids: Sequence[int]
) -> dict[int, StoredRisk]:
    """The stored scores of these appointments (those without one are absent), limited to the
    actor's clinic."""

    def work(uow: UnitOfWork) -> dict[int, StoredRisk]:
        actor.require(Action.READ_RISK)
        found = risk.stored_risks(uow.session.connection(), list(appointment_ids))
        visible = {i: r for i, r in found.items() if actor.clinic_id in (None, r.clinic_id)}
        if visible:
            read: list[int | None] = [*sorted(visible)]
            uow.audit(actor, "no_show.read", "appointment", read)
        return visible

    return run_use_case(
        uow, actor, action="no_show.read", entity_type="appointment", entity_id=None, work=work
    )


def risk_thresholds(uow: UnitOfWork, actor: Actor, clinic_id: int) -> RiskThresholds:
    actor.require(Action.READ_RISK, clinic_id=clinic_id)
    with uow:
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        return risk.thresholds(uow.session.connection(), [clinic_id])[clinic_id]


def set_risk_thresholds(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, medium: float, high: float
) -> int:
    """Set a clinic's thresholds and re-band its stored scores; returns how many changed band."""

    def work(uow: UnitOfWork) -> int:
        actor.require(Action.SETUP_PRACTICE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        value = RiskThresholds(medium, high)
        connection = uow.session.connection()
        now = uow.now()
        risk.save_thresholds(connection, clinic_id, value, now)
        changed = risk.reband(connection, clinic_id, value, now)
        uow.audit(
            actor,
            "no_show.thresholds",
            "clinic",
            clinic_id,
            detail=f"medium {medium}, high {high}; {changed} scores re-banded",
        )
        return changed

    return run_use_case(
        uow,
        actor,
        action="no_show.thresholds",
        entity_type="clinic",
        entity_id=clinic_id,
        work=work,
    )
