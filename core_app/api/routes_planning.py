"""Requests (someone waiting for an appointment) and the optimizer's suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core_app.api.deps import CoreDep, CurrentActor, PagingDep, allowed, clinic_scope, page
from core_app.api.errors import errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.routes_appointments import _out as appointment_out
from core_app.api.schemas import (
    MAX_ID,
    AcceptIn,
    AppointmentOut,
    Page,
    RejectIn,
    RequestIn,
    RequestOut,
    SuggestionOut,
)
from core_app.domain.request import NewRequest, RequestStatus, SuggestionStatus
from core_app.domain.staff import Action
from core_app.service_layer import api_reads, open_requests, suggestions

router = APIRouter(prefix="/v1", tags=["requests and suggestions"], route_class=CoreRoute)
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
READ = errors(401, 403, 404, 422, 503)
WRITE = errors(401, 403, 404, 409, 422, 503)


@router.get(
    "/requests",
    response_model=Page[RequestOut],
    dependencies=[allowed(Action.READ_SCHEDULE)],
    responses=READ,
    summary="A clinic's requests (open ones unless a status is given), oldest first",
)
def list_requests(
    app: CoreDep,
    actor: CurrentActor,
    paging: PagingDep,
    clinic_id: OptionalId = None,
    status: RequestStatus = RequestStatus.OPEN,
    patient_id: OptionalId = None,
) -> dict[str, Any]:
    clinic = clinic_scope(actor, clinic_id)
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic})
    rows = [
        r
        for r in open_requests.list_requests(app.uow(), actor, clinic, status=status)
        if patient_id in (None, r["patient_id"])
    ]
    return page(rows, paging, RequestOut.model_validate)


@router.post(
    "/requests",
    response_model=RequestOut,
    status_code=201,
    dependencies=[allowed(Action.MANAGE_REQUESTS)],
    responses=WRITE,
    summary="Add a request (waitlist, recall, new patient)",
)
def add_request(body: RequestIn, app: CoreDep, actor: CurrentActor) -> RequestOut:
    api_reads.ensure_visible(
        app.uow(),
        actor,
        {
            "clinic": body.clinic_id,
            "patient": body.patient_id,
            "provider": body.preferred_provider_id,
        },
    )
    request_id = open_requests.add_request(
        app.uow(),
        actor,
        NewRequest(
            clinic_id=body.clinic_id,
            patient_id=body.patient_id,
            kind=body.kind,
            procedure_codes=tuple(body.procedure_codes),
            earliest_date=body.earliest_date,
            latest_date=body.latest_date,
            urgency=body.urgency,
            preferred_provider_id=body.preferred_provider_id,
            preferred_hours=body.preferred_hours,
        ),
    )
    rows = open_requests.list_requests(app.uow(), actor, body.clinic_id, status=None)
    return RequestOut.model_validate(next(r for r in rows if r["request_id"] == request_id))


@router.post(
    "/requests/{request_id}/cancel",
    status_code=204,
    dependencies=[allowed(Action.MANAGE_REQUESTS)],
    responses=WRITE,
    summary="Withdraw an open request (its pending suggestions expire)",
)
def cancel_request(request_id: ItemId, app: CoreDep, actor: CurrentActor) -> None:
    api_reads.ensure_visible(app.uow(), actor, {"request": request_id})
    open_requests.cancel_request(app.uow(), actor, request_id)


@router.get(
    "/suggestions",
    response_model=Page[SuggestionOut],
    dependencies=[allowed(Action.READ_SCHEDULE)],
    responses=READ,
    summary="A clinic's suggestions by start (pending ones unless a status is given)",
)
def list_suggestions(
    app: CoreDep,
    actor: CurrentActor,
    paging: PagingDep,
    clinic_id: OptionalId = None,
    status: SuggestionStatus = SuggestionStatus.PENDING,
) -> dict[str, Any]:
    clinic = clinic_scope(actor, clinic_id)
    api_reads.ensure_visible(app.uow(), actor, {"clinic": clinic})
    rows = suggestions.list_suggestions(app.uow(), actor, clinic, status=status)
    return page(rows, paging, SuggestionOut.model_validate)


@router.post(
    "/suggestions/{suggestion_id}/accept",
    response_model=AppointmentOut,
    status_code=201,
    dependencies=[allowed(Action.DECIDE_SUGGESTION)],
    responses=WRITE,
    summary="Accept: books the suggested slot (409 if it is no longer free)",
)
def accept(
    suggestion_id: ItemId, body: AcceptIn, app: CoreDep, actor: CurrentActor
) -> AppointmentOut:
    api_reads.ensure_visible(
        app.uow(), actor, {"suggestion": suggestion_id, "patient": body.patient_id}
    )
    appointment_id = suggestions.accept_suggestion(
        app.uow(), actor, suggestion_id, patient_id=body.patient_id
    )
    return appointment_out(api_reads.get_appointment(app.uow(), actor, appointment_id))


@router.post(
    "/suggestions/{suggestion_id}/reject",
    status_code=204,
    dependencies=[allowed(Action.DECIDE_SUGGESTION)],
    responses=WRITE,
    summary="Reject, with a reason",
)
def reject(suggestion_id: ItemId, body: RejectIn, app: CoreDep, actor: CurrentActor) -> None:
    api_reads.ensure_visible(app.uow(), actor, {"suggestion": suggestion_id})
    suggestions.reject_suggestion(app.uow(), actor, suggestion_id, reason=body.reason)
