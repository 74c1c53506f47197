"""Patients (every read audited), their balance and payments."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core_app.api.deps import CoreDep, CurrentActor, PagingDep, allowed, clinic_scope
from core_app.api.errors import errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.schemas import MAX_ID, BalanceOut, Page, PatientIn, PatientOut, PaymentOut
from core_app.domain.staff import Action
from core_app.service_layer import api_reads, billing, patients

router = APIRouter(prefix="/v1/patients", tags=["patients"], route_class=CoreRoute)
PatientId = Annotated[int, Path(ge=1, le=MAX_ID)]
READ = errors(401, 403, 404, 422, 503)


@router.get(
    "",
    response_model=Page[PatientOut],
    dependencies=[allowed(Action.READ_PATIENT)],
    responses=READ,
    summary="A clinic's patients, by id",
)
def list_patients(
    app: CoreDep,
    actor: CurrentActor,
    paging: PagingDep,
    clinic_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    clinic = clinic_scope(actor, clinic_id)
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic})
    limit, offset = paging
    # one more than the page tells whether a next page exists
    found = patients.list_patients(
        app.uow(), actor, clinic_id=clinic, limit=limit + 1, offset=offset
    )
    return {
        "items": [PatientOut.model_validate(asdict(p)) for p in found[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(found) > limit else None,
    }


@router.post(
    "",
    response_model=PatientOut,
    status_code=201,
    dependencies=[allowed(Action.ADD_PATIENT)],
    responses=errors(401, 403, 404, 422, 503),
    summary="Register a patient",
)
def add_patient(body: PatientIn, app: CoreDep, actor: CurrentActor) -> PatientOut:
    api_reads.ensure_visible(app.uow(), actor, {"clinic": body.clinic_id})
    patient_id = patients.add_patient(
        app.uow(),
        actor,
        clinic_id=body.clinic_id,
        first_name=body.first_name,
        last_name=body.last_name,
        birth_date=body.birth_date,
        phone=body.phone,
        email=body.email,
        notes=body.notes,
        has_insurance=body.has_insurance,
        contact_preference=body.contact_preference,
    )
    return PatientOut.model_validate(asdict(patients.get_patient(app.uow(), actor, patient_id)))


@router.get(
    "/{patient_id}",
    response_model=PatientOut,
    dependencies=[allowed(Action.READ_PATIENT)],
    responses=READ,
    summary="One patient (an audited read)",
)
def get_patient(patient_id: PatientId, app: CoreDep, actor: CurrentActor) -> PatientOut:
    api_reads.ensure_visible(app.uow(), actor, {"patient": patient_id})
    return PatientOut.model_validate(asdict(patients.get_patient(app.uow(), actor, patient_id)))


@router.get(
    "/{patient_id}/balance",
    response_model=BalanceOut,
    dependencies=[allowed(Action.READ_BALANCE)],
    responses=READ,
    summary="Balance and ageing, from charges, payments and refunds",
)
def balance(patient_id: PatientId, app: CoreDep, actor: CurrentActor) -> BalanceOut:
    api_reads.ensure_visible(app.uow(), actor, {"patient": patient_id})
    account = billing.patient_account(app.uow(), actor, patient_id)
    b, a = account.balance, account.ageing
    return BalanceOut(
        patient_id=patient_id,
        currency=b.currency,
        charged_cents=b.charged_cents,
        paid_cents=b.paid_cents,
        refunded_cents=b.refunded_cents,
        balance_cents=b.balance_cents,
        open_cents=a.open_cents,
        credit_cents=a.credit_cents,
        ageing=dict(a.buckets),
    )


@router.get(
    "/{patient_id}/payments",
    response_model=Page[PaymentOut],
    dependencies=[allowed(Action.READ_BALANCE)],
    responses=READ,
    summary="A patient's payments with their refunds",
)
def patient_payments(
    patient_id: PatientId, app: CoreDep, actor: CurrentActor, paging: PagingDep
) -> dict[str, Any]:
    from core_app.api.deps import page

    found = api_reads.list_payments(app.uow(), actor, patient_id)
    return page(found, paging, lambda p: PaymentOut.model_validate(asdict(p)))
