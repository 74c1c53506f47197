"""Reminders: the clinic's policy, one dispatcher run, what is due or was sent, the front
desk's extra reminders and call tasks."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, time, timedelta
from typing import Annotated

import typer

from core_app.cli.context import Session, refusals
from core_app.cli.output import emit, table
from core_app.domain.exceptions import ValidationError
from core_app.domain.reminder import ReminderPolicy, parse_offsets
from core_app.domain.staff import SYSTEM
from core_app.service_layer import reminders
from core_app.service_layer.reminder_channels import run_dispatch

reminders_app = typer.Typer(help="Appointment reminders (the outbox).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
COLUMNS = [
    "reminder_id",
    "kind",
    "channel",
    "due_at",
    "status",
    "attempts",
    "sent_at",
    "last_error",
]


def _hhmm(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"cannot read time {text!r}; write HH:MM") from None


def reminder_policy(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    standard: Annotated[
        str | None, typer.Option(help="Standard reminders before the start, e.g. '24h,2h'.")
    ] = None,
    short: Annotated[
        bool | None, typer.Option("--short/--no-short", help="The optional 30-minute reminder.")
    ] = None,
    high_risk: Annotated[
        str | None, typer.Option(help="Extra reminders for high-risk appointments, e.g. '72h'.")
    ] = None,
    call_task: Annotated[
        bool | None,
        typer.Option("--call-task/--no-call-task", help="A front-desk call for high risk."),
    ] = None,
    day_start: Annotated[
        str | None, typer.Option(help="No message before this clinic time (HH:MM).")
    ] = None,
    day_end: Annotated[
        str | None, typer.Option(help="No message after this clinic time (HH:MM).")
    ] = None,
    min_lead: Annotated[
        int | None, typer.Option(help="No reminder within this many minutes of the start.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a clinic's reminder policy, or change the parts given (audited; admin or manager)."""
    session: Session = ctx.obj
    current = session.run(lambda app, actor: reminders.reminder_policy(app.uow(), actor, clinic))
    changes = (standard, short, high_risk, call_task, day_start, day_end, min_lead)
    if any(value is not None for value in changes):
        with refusals():
            policy = ReminderPolicy(
                standard=current.standard if standard is None else parse_offsets(standard),
                short_enabled=current.short_enabled if short is None else short,
                high_risk=current.high_risk if high_risk is None else parse_offsets(high_risk),
                high_risk_call_task=(
                    current.high_risk_call_task if call_task is None else call_task
                ),
                day_start=current.day_start if day_start is None else _hhmm(day_start),
                day_end=current.day_end if day_end is None else _hhmm(day_end),
                min_lead=current.min_lead if min_lead is None else timedelta(minutes=min_lead),
            )
        session.run(
            lambda app, actor: reminders.set_reminder_policy(
                app.uow(), actor, clinic_id=clinic, policy=policy
            )
        )
        current = policy
    result = {"clinic_id": clinic, **current.describe()}
    emit(result, as_json=as_json, human=", ".join(f"{k}: {v}" for k, v in result.items()))


@reminders_app.command("dispatch")
def dispatch(
    ctx: typer.Context,
    max_batches: Annotated[
        int | None, typer.Option(help="Stop after this many batches (default: all that is due).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send the reminders that are due, once, in this process (as the system; the Prefect
    deployment `reminders` does the same every few minutes)."""
    session: Session = ctx.obj
    with refusals():
        report = run_dispatch(session.app, SYSTEM, max_batches=max_batches)
    emit(report, as_json=as_json, human=", ".join(f"{k}: {v}" for k, v in report.items()))


@reminders_app.command("list")
def list_reminders(
    ctx: typer.Context,
    appointment: Annotated[
        int | None, typer.Option(help="Every reminder of one appointment.")
    ] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Pending reminders whose time has come.")
    ] = False,
    clinic: Annotated[int | None, typer.Option(help="With --due: one clinic only.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """An appointment's reminders (status, attempts, last error), or what is due now."""
    session: Session = ctx.obj
    if (appointment is None) == (not due):
        with refusals():
            raise ValidationError("give either --appointment ID or --due")
    if appointment is not None:
        views = session.run(
            lambda app, actor: reminders.reminder_history(app.uow(), actor, appointment)
        )
    else:
        views = session.run(
            lambda app, actor: reminders.due_reminders(app.uow(), actor, clinic_id=clinic)
        )
    rows = [asdict(v) for v in views]
    emit({"reminders": rows}, as_json=as_json, human=table(rows, COLUMNS))


@reminders_app.command("send")
def send_extra(
    ctx: typer.Context,
    appointment: Annotated[int, typer.Option()],
    as_json: JsonOpt = False,
) -> None:
    """Send an extra reminder now (goes out with the next dispatch; front desk)."""
    session: Session = ctx.obj
    reminder_id = session.run(
        lambda app, actor: reminders.send_extra_reminder(app.uow(), actor, appointment)
    )
    result = {"reminder_id": reminder_id, "appointment_id": appointment}
    emit(result, as_json=as_json, human=f"reminder {reminder_id} scheduled")


@reminders_app.command("calls")
def calls(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    day: Annotated[str, typer.Option(help="Clinic local date, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """The front desk's calls for high-risk appointments on a day (and open ones before it)."""
    session: Session = ctx.obj
    with refusals():
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise ValidationError(f"cannot read date {day!r}; write YYYY-MM-DD") from None
    views = session.run(
        lambda app, actor: reminders.list_call_tasks(app.uow(), actor, clinic, when)
    )
    rows = [asdict(v) for v in views]
    emit(
        {"call_tasks": rows},
        as_json=as_json,
        human=table(
            rows, ["task_id", "appointment_id", "patient_name", "phone", "start_at", "status"]
        ),
    )


@reminders_app.command("call-done")
def call_done(
    ctx: typer.Context,
    task: Annotated[int, typer.Option()],
    outcome: Annotated[str, typer.Option(help="What came of the call.")],
    as_json: JsonOpt = False,
) -> None:
    """Mark a call task done."""
    session: Session = ctx.obj
    session.run(
        lambda app, actor: reminders.complete_call_task(app.uow(), actor, task, outcome=outcome)
    )
    emit({"task_id": task, "status": "done"}, as_json=as_json, human=f"call task {task} done")
