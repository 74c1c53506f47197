"""Appointments: the day's list and the whole lifecycle (book, overbook, confirm, check in,
complete, no-show, cancel, reschedule), and each one's no-show risk."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from core_app.api.deps import (
    CoreDep,
    CurrentActor,
    PagingDep,
    allowed,
    clinic_scope,
    one_unit,
    page,
)
from core_app.api.errors import ApiError, errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.routes_money import IdempotencyKey
from core_app.api.schemas import (
    MAX_ID,
    AppointmentOut,
    BookIn,
    CancelIn,
    Page,
    ReminderOut,
    RescheduleIn,
    RiskOut,
    When,
)
from core_app.domain.appointment import AppointmentStatus
from core_app.domain.staff import Action, Actor
from core_app.service_layer import api_reads, appointments, no_show_scores, queries, reminders
from core_app.service_layer.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/appointments", tags=["appointments"], route_class=CoreRoute)
AppointmentId = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
READ = errors(401, 403, 404, 422, 503)
WRITE = errors(401, 403, 404, 409, 422, 503)
MAX_WINDOW = timedelta(days=31)


def _out(row: queries.ScheduleRow) -> AppointmentOut:
    # the row's fields read as they are (dataclasses.asdict deep-copies every datetime: it was
    # most of the day list's time)
    return AppointmentOut.model_validate(row, from_attributes=True)


@router.get(
    "",
    response_model=Page[AppointmentOut],
    dependencies=[allowed(Action.READ_SCHEDULE)],
    responses=READ,
    summary="A clinic's appointments overlapping [start_at, end_at) (at most 31 days)",
)
def list_appointments(
    app: CoreDep,
    actor: CurrentActor,
    paging: PagingDep,
    start_at: Annotated[When, Query(description="Window start (with offset).")],
    end_at: Annotated[When, Query(description="Window end (with offset).")],
    clinic_id: OptionalId = None,
    status: AppointmentStatus | None = None,
    patient_id: OptionalId = None,
    provider_id: OptionalId = None,
    chair_id: OptionalId = None,
) -> dict[str, Any]:
    if not start_at < end_at <= start_at + MAX_WINDOW:
        raise ApiError(422, "invalid_input", "the window must be 0-31 days, start before end")
    clinic = clinic_scope(actor, clinic_id)

    def work(uow: UnitOfWork) -> list[queries.ScheduleRow]:
        api_reads.ensure_visible(uow, actor, {"clinic": clinic})
        return queries.clinic_schedule(
            uow, actor, clinic_id=clinic, start_at=start_at, end_at=end_at
        )

    found = one_unit(app, actor, "schedule.read", "clinic", clinic, work, read_only=True)
    rows = [
        r
        for r in found
        if (status is None or r.status == status)
        and patient_id in (None, r.patient_id)
        and provider_id in (None, r.provider_id)
        and chair_id in (None, r.chair_id)
    ]
    return page(rows, paging, _out)


@router.post(
    "",
    response_model=AppointmentOut,
    status_code=201,
    dependencies=[allowed(Action.BOOK)],
    responses=WRITE,
    summary="Book (or, with overbook_of, overbook) an appointment",
)
def book(body: BookIn, key: IdempotencyKey, app: CoreDep, actor: CurrentActor) -> AppointmentOut:
    if body.overbook_of is not None:
        actor.require(Action.OVERBOOK)

    def work(uow: UnitOfWork) -> queries.ScheduleRow:
        api_reads.ensure_visible(
            uow,
            actor,
            {
                "chair": body.chair_id,
                "patient": body.patient_id,
                "provider": body.provider_id,
                "appointment": body.overbook_of,
            },
        )
        appointment_id = appointments.book_appointment(
            uow,
            actor,
            patient_id=body.patient_id,
            provider_id=body.provider_id,
            chair_id=body.chair_id,
            start_at=body.start_at,
            end_at=body.end_at,
            procedure_codes=body.procedure_codes,
            overbook_of=body.overbook_of,
            idempotency_key=key,
        )
        return api_reads.get_appointment(uow, actor, appointment_id)

    return _out(one_unit(app, actor, "appointment.book", "appointment", None, work))


@router.get(
    "/{appointment_id}",
    response_model=AppointmentOut,
    dependencies=[allowed(Action.READ_SCHEDULE)],
    responses=READ,
    summary="One appointment",
)
def get_appointment(
    appointment_id: AppointmentId, app: CoreDep, actor: CurrentActor
) -> AppointmentOut:
    return _out(api_reads.get_appointment(app.uow(), actor, appointment_id))


def _transition(
    app: CoreDep,
    actor: Actor,
    appointment_id: int,
    call: Callable[[UnitOfWork, Actor, int], None],
    also: Mapping[str, int | None] | None = None,
) -> AppointmentOut:
    """Scoping, the change and the read-back in one transaction."""
    also = also or {}

    def work(uow: UnitOfWork) -> queries.ScheduleRow:
        api_reads.ensure_visible(uow, actor, {"appointment": appointment_id, **also})
        call(uow, actor, appointment_id)
        return api_reads.get_appointment(uow, actor, appointment_id)

    return _out(one_unit(app, actor, "appointment.change", "appointment", appointment_id, work))


def _lifecycle(
    path: str, action: Action, summary: str, call: Callable[[UnitOfWork, Actor, int], None]
) -> None:
    def handler(appointment_id: AppointmentId, app: CoreDep, actor: CurrentActor) -> AppointmentOut:
        return _transition(app, actor, appointment_id, call)

    handler.__name__ = path.replace("-", "_")
    router.post(
        f"/{{appointment_id}}/{path}",
        response_model=AppointmentOut,
        dependencies=[allowed(action)],
        responses=WRITE,
        summary=summary,
        operation_id=f"appointment_{handler.__name__}",
    )(handler)


_lifecycle("confirm", Action.CONFIRM, "Confirm", appointments.confirm_appointment)
_lifecycle("check-in", Action.CHECK_IN, "Check the patient in", appointments.check_in_appointment)
_lifecycle(
    "complete",
    Action.COMPLETE,
    "Complete (charges the procedures)",
    appointments.complete_appointment,
)
_lifecycle("no-show", Action.MARK_NO_SHOW, "Mark a no-show", appointments.mark_no_show)


@router.post(
    "/{appointment_id}/cancel",
    response_model=AppointmentOut,
    dependencies=[allowed(Action.CANCEL)],
    responses=WRITE,
    summary="Cancel, with a reason (late cancellations are flagged)",
)
def cancel(
    appointment_id: AppointmentId, body: CancelIn, app: CoreDep, actor: CurrentActor
) -> AppointmentOut:
    return _transition(
        app,
        actor,
        appointment_id,
        lambda u, a, i: appointments.cancel_appointment(u, a, i, reason=body.reason),
    )


@router.post(
    "/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    dependencies=[allowed(Action.RESCHEDULE)],
    responses=WRITE,
    summary="Move to a new start (and optionally provider or chair), keeping the duration",
)
def reschedule(
    appointment_id: AppointmentId, body: RescheduleIn, app: CoreDep, actor: CurrentActor
) -> AppointmentOut:
    return _transition(
        app,
        actor,
        appointment_id,
        lambda u, a, i: appointments.reschedule_appointment(
            u,
            a,
            i,
            start_at=body.start_at,
            provider_id=body.provider_id,
            chair_id=body.chair_id,
            reason=body.reason,
        ),
        {"chair": body.chair_id, "provider": body.provider_id},
    )


@router.get(
    "/{appointment_id}/risk",
    response_model=RiskOut,
    dependencies=[allowed(Action.READ_RISK)],
    responses=READ,
    summary="The appointment's no-show risk flag (404 when not scored)",
)
def risk(appointment_id: AppointmentId, app: CoreDep, actor: CurrentActor) -> RiskOut:
    api_reads.ensure_visible(app.uow(), actor, {"appointment": appointment_id})
    found = no_show_scores.risk_for(app.uow(), actor, [appointment_id]).get(appointment_id)
    if found is None:
        raise ApiError(404, "not_found", f"appointment {appointment_id} has no risk score")
    return RiskOut(
        appointment_id=found.appointment_id,
        probability=found.probability,
        band=str(found.band),
        factors=list(found.factors),
        model_version=found.model_version,
        scored_at=found.scored_at,
    )


@router.get(
    "/{appointment_id}/reminders",
    response_model=Page[ReminderOut],
    dependencies=[allowed(Action.READ_REMINDERS)],
    responses=READ,
    summary="The appointment's reminders, earliest first",
)
def reminder_history(
    appointment_id: AppointmentId, app: CoreDep, actor: CurrentActor, paging: PagingDep
) -> dict[str, Any]:
    api_reads.ensure_visible(app.uow(), actor, {"appointment": appointment_id})
    found = reminders.reminder_history(app.uow(), actor, appointment_id)
    return page(found, paging, lambda r: ReminderOut.model_validate(asdict(r)))


@router.post(
    "/{appointment_id}/reminders",
    response_model=ReminderOut,
    status_code=201,
    dependencies=[allowed(Action.SEND_REMINDER)],
    responses=WRITE,
    summary="Send an extra reminder now (refused in quiet hours or too close to the start)",
)
def send_extra_reminder(
    appointment_id: AppointmentId, app: CoreDep, actor: CurrentActor
) -> ReminderOut:
    api_reads.ensure_visible(app.uow(), actor, {"appointment": appointment_id})
    reminder_id = reminders.send_extra_reminder(app.uow(), actor, appointment_id)
    found = reminders.reminder_history(app.uow(), actor, appointment_id)
    return ReminderOut.model_validate(
        asdict(next(r for r in found if r.reminder_id == reminder_id))
    )
