"""Commands for appointments: book, the lifecycle, reschedule, and the schedule list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from core_app.cli.context import Session, parse_local_time, refusals
from core_app.cli.output import emit, table
from core_app.service_layer import appointments, practice_queries, queries

appointment_app = typer.Typer(help="Appointments and their lifecycle.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@appointment_app.command("book")
def book(
    ctx: typer.Context,
    patient: Annotated[int, typer.Option()],
    provider: Annotated[int, typer.Option()],
    chair: Annotated[int, typer.Option()],
    start: Annotated[str, typer.Option(help="Clinic local time, YYYY-MM-DD HH:MM.")],
    procedures: Annotated[str, typer.Option(help="Comma-separated codes, e.g. D1110,D0120.")],
    end: Annotated[
        str | None, typer.Option(help="Default: start + the procedures' durations.")
    ] = None,
    overbook_of: Annotated[
        int | None, typer.Option(help="Book deliberately on top of this appointment.")
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Book a patient with a provider in a chair."""
    session: Session = ctx.obj
    actor = session.actor()
    with refusals():
        zone = practice_queries.clinic_timezone(session.app.uow(), chair_id=chair)
        start_at = parse_local_time(start, zone)
        end_at = parse_local_time(end, zone) if end else None
        appointment_id = appointments.book_appointment(
            session.app.uow(),
            actor,
            patient_id=patient,
            provider_id=provider,
            chair_id=chair,
            start_at=start_at,
            end_at=end_at,
            procedure_codes=[c for c in procedures.split(",") if c.strip()],
            overbook_of=overbook_of,
            idempotency_key=idempotency_key,
        )
    emit(
        {"appointment_id": appointment_id, "start_at": start_at, "overbook_of": overbook_of},
        as_json=as_json,
        human=f"appointment {appointment_id} booked"
        + (f" as an overbook of {overbook_of}" if overbook_of else ""),
    )


def _status_command(name: str, call: appointments.TransitionCall, doc: str) -> None:
    def command(ctx: typer.Context, appointment_id: int, as_json: JsonOpt = False) -> None:
        session: Session = ctx.obj
        session.run(lambda app, actor: call(app.uow(), actor, appointment_id))
        emit(
            {"appointment_id": appointment_id, "done": name},
            as_json=as_json,
            human=f"appointment {appointment_id}: {name}",
        )

    command.__doc__ = doc
    appointment_app.command(name)(command)


_status_command("confirm", appointments.confirm_appointment, "Record that the patient confirmed.")
_status_command(
    "check-in", appointments.check_in_appointment, "The patient has arrived (on the day)."
)
_status_command(
    "complete", appointments.complete_appointment, "Complete the visit; charges its procedures."
)
_status_command(
    "no-show", appointments.mark_no_show, "The patient did not come (after the start time)."
)


@appointment_app.command("cancel")
def cancel(
    ctx: typer.Context,
    appointment_id: int,
    reason: Annotated[str, typer.Option(help="Why (kept in the history).")],
    as_json: JsonOpt = False,
) -> None:
    """Cancel; less than 24 h before the start counts as a late cancel."""
    session: Session = ctx.obj
    session.run(
        lambda app, actor: appointments.cancel_appointment(
            app.uow(), actor, appointment_id, reason=reason
        )
    )
    emit(
        {"appointment_id": appointment_id, "done": "cancel"},
        as_json=as_json,
        human=f"appointment {appointment_id} cancelled",
    )


@appointment_app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    appointment_id: int,
    start: Annotated[str, typer.Option(help="New start, clinic local time.")],
    provider: Annotated[int | None, typer.Option()] = None,
    chair: Annotated[int | None, typer.Option()] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move to a new time (same duration); the old slot stays in the history."""
    session: Session = ctx.obj
    actor = session.actor()
    with refusals():
        zone = practice_queries.clinic_timezone(session.app.uow(), appointment_id=appointment_id)
        start_at = parse_local_time(start, zone)
        appointments.reschedule_appointment(
            session.app.uow(),
            actor,
            appointment_id,
            start_at=start_at,
            provider_id=provider,
            chair_id=chair,
            reason=reason,
        )
    emit(
        {"appointment_id": appointment_id, "start_at": start_at},
        as_json=as_json,
        human=f"appointment {appointment_id} moved",
    )


@appointment_app.command("list")
def list_appointments(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    day: Annotated[
        str | None, typer.Option("--date", help="First day (clinic local), default today.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=92)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """The clinic's schedule, in clinic local time."""
    session: Session = ctx.obj
    actor = session.actor()
    with refusals():
        zone = ZoneInfo(practice_queries.clinic_timezone(session.app.uow(), clinic_id=clinic))
        first = date.fromisoformat(day) if day else datetime.now(zone).date()
        start_at = datetime.combine(first, time(0), tzinfo=zone)
        rows = queries.clinic_schedule(
            session.app.uow(),
            actor,
            clinic_id=clinic,
            start_at=start_at,
            end_at=start_at + timedelta(days=days),
        )
    printable = [
        {
            "id": r.appointment_id,
            "start": r.local_start,
            "end": r.local_end,
            "status": r.status,
            "patient": r.patient_name,
            "provider": r.provider_id,
            "chair": r.chair_id,
            "procedures": ",".join(r.procedure_codes),
            "overbook": f"of {r.overbook_of_appointment_id}" if r.is_overbook else "",
        }
        for r in rows
    ]
    emit(
        {"appointments": rows},
        as_json=as_json,
        human=table(printable, list(printable[0]) if printable else []),
    )
