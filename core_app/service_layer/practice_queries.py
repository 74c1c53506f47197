"""Read-side queries about the practice's set-up (no patient data, so no read audit)."""

from __future__ import annotations

from typing import Any

from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import format_weekly_hours
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require


def clinic_timezone(
    uow: UnitOfWork,
    *,
    clinic_id: int | None = None,
    chair_id: int | None = None,
    appointment_id: int | None = None,
) -> str:
    """The timezone in which times typed for this clinic, chair or appointment are meant."""
    with uow:
        if appointment_id is not None:
            appointment = require(
                uow.appointments.get(appointment_id), "appointment", appointment_id
            )
            clinic_id = appointment.clinic_id
        elif chair_id is not None:
            clinic_id = require(uow.chairs.get(chair_id), "chair", chair_id).clinic_id
        if clinic_id is None:
            raise ValidationError("give a clinic, chair or appointment")
        return require(uow.clinics.get(clinic_id), "clinic", clinic_id).timezone


def list_clinics(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    actor.require(Action.READ_PRACTICE)
    with uow:
        return [
            {
                "clinic_id": c.clinic_id,
                "name": c.name,
                "timezone": c.timezone,
                "currency": c.currency,
                "country": c.country,
                "opening_hours": format_weekly_hours([h.block for h in c.opening_hours]),
            }
            for c in uow.clinics.list()
            if actor.clinic_id in (None, c.clinic_id)
        ]


def list_providers(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    actor.require(Action.READ_PRACTICE)
    with uow:
        rows = []
        for provider in uow.providers.list():
            clinics = sorted({h.clinic_id for h in provider.working_hours})
            if actor.clinic_id is not None and actor.clinic_id not in clinics:
                continue
            rows.append(
                {
                    "provider_id": provider.provider_id,
                    "name": provider.name,
                    "kind": str(provider.kind),
                    "hours": {
                        str(cid): format_weekly_hours(
                            [h.block for h in provider.working_hours if h.clinic_id == cid]
                        )
                        for cid in clinics
                    },
                }
            )
        return rows


def clinic_names(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int
) -> tuple[dict[int, str], dict[int, str]]:
    """Names by id of the providers who work at the clinic and of its chairs: the labels a
    schedule of the clinic needs, without loading the providers' hours."""
    actor.require(Action.READ_PRACTICE, clinic_id=clinic_id)
    with uow:
        return uow.providers.names_at(clinic_id), uow.chairs.names_in(clinic_id)


def list_chairs(uow: UnitOfWork, actor: Actor, *, clinic_id: int) -> list[dict[str, Any]]:
    actor.require(Action.READ_PRACTICE, clinic_id=clinic_id)
    with uow:
        return [
            {"chair_id": c.chair_id, "clinic_id": c.clinic_id, "name": c.name}
            for c in uow.chairs.for_clinic(clinic_id)
        ]


def list_procedures(uow: UnitOfWork, actor: Actor, *, clinic_id: int) -> list[dict[str, Any]]:
    actor.require(Action.READ_PRACTICE, clinic_id=clinic_id)
    with uow:
        return [
            {
                "code": p.code,
                "name": p.name,
                "category": str(p.category),
                "duration_min": p.default_duration_min,
                "fee_cents": p.fee_cents,
                "hygienist_allowed": p.hygienist_allowed,
            }
            for p in uow.procedures.for_clinic(clinic_id)
        ]
