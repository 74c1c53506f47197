"""Clinics, providers, chairs and procedures (the practice's set-up)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core_app.api.deps import CoreDep, CurrentActor, PagingDep, allowed, page
from core_app.api.errors import errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.schemas import (
    MAX_ID,
    ChairIn,
    ChairOut,
    ClinicIn,
    ClinicOut,
    FeeIn,
    Page,
    ProcedureOut,
    ProviderIn,
    ProviderOut,
)
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.staff import Action
from core_app.service_layer import api_reads, practice, practice_queries

router = APIRouter(prefix="/v1", tags=["practice"], route_class=CoreRoute)
ClinicId = Annotated[int, Path(ge=1, le=MAX_ID)]
READ = errors(401, 403, 404, 422, 503)
WRITE = errors(401, 403, 404, 409, 422, 503)


@router.get(
    "/clinics",
    response_model=Page[ClinicOut],
    dependencies=[allowed(Action.READ_PRACTICE)],
    responses=READ,
    summary="Clinics you can see",
)
def list_clinics(app: CoreDep, actor: CurrentActor, paging: PagingDep) -> dict[str, Any]:
    rows = practice_queries.list_clinics(app.uow(), actor)
    return page(rows, paging, ClinicOut.model_validate)


@router.post(
    "/clinics",
    response_model=ClinicOut,
    status_code=201,
    dependencies=[allowed(Action.SETUP_PRACTICE)],
    responses=WRITE,
    summary="Add a clinic (with the default procedure catalog)",
)
def create_clinic(body: ClinicIn, app: CoreDep, actor: CurrentActor) -> ClinicOut:
    clinic_id = practice.create_clinic(
        app.uow(),
        actor,
        name=body.name,
        timezone=body.timezone,
        currency=body.currency,
        country=body.country,
        hours=parse_weekly_hours(body.hours),
    )
    return _clinic(app, actor, clinic_id)


def _clinic(app: CoreDep, actor: CurrentActor, clinic_id: int) -> ClinicOut:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    rows = practice_queries.list_clinics(app.uow(), actor)
    return ClinicOut.model_validate(next(r for r in rows if r["clinic_id"] == clinic_id))


@router.get(
    "/clinics/{clinic_id}",
    response_model=ClinicOut,
    dependencies=[allowed(Action.READ_PRACTICE)],
    responses=READ,
    summary="One clinic",
)
def get_clinic(clinic_id: ClinicId, app: CoreDep, actor: CurrentActor) -> ClinicOut:
    return _clinic(app, actor, clinic_id)


@router.get(
    "/providers",
    response_model=Page[ProviderOut],
    dependencies=[allowed(Action.READ_PRACTICE)],
    responses=READ,
    summary="Providers (of one clinic, or of every clinic you see)",
)
def list_providers(
    app: CoreDep,
    actor: CurrentActor,
    paging: PagingDep,
    clinic_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    if clinic_id is not None:
        api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    rows = [
        r
        for r in practice_queries.list_providers(app.uow(), actor)
        if clinic_id is None or str(clinic_id) in r["hours"]
    ]
    return page(rows, paging, ProviderOut.model_validate)


@router.post(
    "/providers",
    response_model=ProviderOut,
    status_code=201,
    dependencies=[allowed(Action.SETUP_PRACTICE)],
    responses=WRITE,
    summary="Add a provider working at a clinic",
)
def add_provider(body: ProviderIn, app: CoreDep, actor: CurrentActor) -> ProviderOut:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": body.clinic_id})
    provider_id = practice.add_provider(
        app.uow(),
        actor,
        name=body.name,
        kind=body.kind,
        clinic_id=body.clinic_id,
        hours=parse_weekly_hours(body.hours),
    )
    rows = practice_queries.list_providers(app.uow(), actor)
    return ProviderOut.model_validate(next(r for r in rows if r["provider_id"] == provider_id))


@router.get(
    "/clinics/{clinic_id}/chairs",
    response_model=Page[ChairOut],
    dependencies=[allowed(Action.READ_PRACTICE)],
    responses=READ,
    summary="A clinic's chairs",
)
def list_chairs(
    clinic_id: ClinicId, app: CoreDep, actor: CurrentActor, paging: PagingDep
) -> dict[str, Any]:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    rows = practice_queries.list_chairs(app.uow(), actor, clinic_id=clinic_id)
    return page(rows, paging, ChairOut.model_validate)


@router.post(
    "/clinics/{clinic_id}/chairs",
    response_model=ChairOut,
    status_code=201,
    dependencies=[allowed(Action.SETUP_PRACTICE)],
    responses=WRITE,
    summary="Add a chair",
)
def add_chair(clinic_id: ClinicId, body: ChairIn, app: CoreDep, actor: CurrentActor) -> ChairOut:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    chair_id = practice.add_chair(app.uow(), actor, clinic_id=clinic_id, name=body.name)
    return ChairOut(chair_id=chair_id, clinic_id=clinic_id, name=body.name.strip())


@router.get(
    "/clinics/{clinic_id}/procedures",
    response_model=Page[ProcedureOut],
    dependencies=[allowed(Action.READ_PRACTICE)],
    responses=READ,
    summary="A clinic's procedure catalog",
)
def list_procedures(
    clinic_id: ClinicId, app: CoreDep, actor: CurrentActor, paging: PagingDep
) -> dict[str, Any]:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    rows = practice_queries.list_procedures(app.uow(), actor, clinic_id=clinic_id)
    return page(rows, paging, ProcedureOut.model_validate)


@router.put(
    "/clinics/{clinic_id}/procedures/{code}/fee",
    response_model=ProcedureOut,
    dependencies=[allowed(Action.SETUP_PRACTICE)],
    responses=WRITE,
    summary="Set a procedure's fee",
)
def set_fee(
    clinic_id: ClinicId,
    code: Annotated[str, Path(min_length=1, max_length=20)],
    body: FeeIn,
    app: CoreDep,
    actor: CurrentActor,
) -> ProcedureOut:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic_id})
    practice.set_procedure_fee(
        app.uow(), actor, clinic_id=clinic_id, code=code.upper(), fee_cents=body.fee_cents
    )
    rows = practice_queries.list_procedures(app.uow(), actor, clinic_id=clinic_id)
    return ProcedureOut.model_validate(next(r for r in rows if r["code"] == code.upper()))
