"""Setting up a practice: clinics (with the default catalog), providers, chairs, procedures."""

from __future__ import annotations

from core_app.domain.catalog import DEFAULT_CATALOG
from core_app.domain.exceptions import PermissionDenied, ValidationError
from core_app.domain.hours import HoursBlock
from core_app.domain.practice import Chair, Clinic, Procedure, Provider, ProviderKind, require_name
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, require_id, run_use_case


def create_clinic(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str,
    timezone: str,
    currency: str,
    country: str,
    hours: tuple[HoursBlock, ...],
) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.SETUP_PRACTICE)
        if actor.clinic_id is not None:
            raise PermissionDenied(f"user {actor.username} is limited to one clinic")
        clinic = Clinic.create(
            name=name, timezone=timezone, currency=currency, country=country, hours=hours
        )
        if uow.clinics.by_name(clinic.name) is not None:
            raise ValidationError(f"a clinic named {clinic.name!r} exists already")
        clinic_id = require_id(uow.clinics.add(clinic).clinic_id)
        for entry in DEFAULT_CATALOG:
            uow.session.add(
                Procedure(
                    clinic_id=clinic_id,
                    code=entry.code,
                    name=entry.name,
                    category=entry.category,
                    default_duration_min=entry.duration_min,
                    fee_cents=entry.fee_cents,
                    hygienist_allowed=entry.hygienist_allowed,
                )
            )
        uow.audit(
            actor, "clinic.create", "clinic", clinic_id, detail=f"{len(DEFAULT_CATALOG)} procedures"
        )
        return clinic_id

    return run_use_case(
        uow, actor, action="clinic.create", entity_type="clinic", entity_id=None, work=work
    )


def add_provider(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str,
    kind: ProviderKind,
    clinic_id: int,
    hours: tuple[HoursBlock, ...],
) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.SETUP_PRACTICE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        provider = Provider(name=require_name(name, "provider name"), kind=kind)
        provider.set_hours(clinic_id, hours)
        provider_id = require_id(uow.providers.add(provider).provider_id)
        uow.audit(actor, "provider.add", "provider", provider_id)
        return provider_id

    return run_use_case(
        uow, actor, action="provider.add", entity_type="provider", entity_id=None, work=work
    )


def set_provider_hours(
    uow: UnitOfWork,
    actor: Actor,
    *,
    provider_id: int,
    clinic_id: int,
    hours: tuple[HoursBlock, ...],
) -> None:
    """Replace a provider's weekly hours at one clinic (future bookings are not moved)."""

    def work(uow: UnitOfWork) -> None:
        actor.require(Action.SETUP_PRACTICE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        provider = require(uow.providers.get(provider_id), "provider", provider_id)
        provider.set_hours(clinic_id, hours)
        uow.audit(
            actor, "provider.set_hours", "provider", provider_id, detail=f"clinic {clinic_id}"
        )

    run_use_case(
        uow,
        actor,
        action="provider.set_hours",
        entity_type="provider",
        entity_id=provider_id,
        work=work,
    )


def add_chair(uow: UnitOfWork, actor: Actor, *, clinic_id: int, name: str) -> int:
    def work(uow: UnitOfWork) -> int:
        actor.require(Action.SETUP_PRACTICE, clinic_id=clinic_id)
        require(uow.clinics.get(clinic_id), "clinic", clinic_id)
        chair_name = require_name(name, "chair name")
        if any(c.name == chair_name for c in uow.chairs.for_clinic(clinic_id)):
            raise ValidationError(f"clinic {clinic_id} has a chair named {chair_name!r} already")
        chair_id = require_id(uow.chairs.add(Chair(clinic_id=clinic_id, name=chair_name)).chair_id)
        uow.audit(actor, "chair.add", "chair", chair_id)
        return chair_id

    return run_use_case(
        uow, actor, action="chair.add", entity_type="chair", entity_id=None, work=work
    )


def set_procedure_fee(
    uow: UnitOfWork, actor: Actor, *, clinic_id: int, code: str, fee_cents: int
) -> None:
    def work(uow: UnitOfWork) -> None:
        actor.require(Action.SETUP_PRACTICE, clinic_id=clinic_id)
        found = uow.procedures.by_codes(clinic_id, [code])
        if not found:
            raise ValidationError(f"procedure {code} is not in clinic {clinic_id}'s catalog")
        if fee_cents < 0:
            raise ValidationError("a fee must not be negative")
        found[0].fee_cents = fee_cents
        uow.audit(
            actor, "procedure.set_fee", "procedure", found[0].procedure_id, detail=f"{fee_cents}"
        )

    run_use_case(
        uow, actor, action="procedure.set_fee", entity_type="procedure", entity_id=None, work=work
    )
