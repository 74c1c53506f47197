"""Commands for requests (who is waiting for what) and the optimizer's suggestions (accept or
reject). Times are shown in the clinic's local time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from core_app.cli.context import Session, refusals
from core_app.cli.output import emit, table
from core_app.domain.exceptions import ValidationError
from core_app.domain.request import NewRequest, RequestKind, SuggestionStatus
from core_app.service_layer import open_requests, practice_queries, suggestions

request_app = typer.Typer(
    help="Requests: waitlist, recall due, new patients (every read is audited).",
    no_args_is_help=True,
)
suggestion_app = typer.Typer(
    help="The optimizer's suggested slots: list, accept (books), reject.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _day(text: str, what: str) -> date:
    with refusals():
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"{what} must be a date YYYY-MM-DD, got {text!r}") from None


@request_app.command("add")
def request_add(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    kind: Annotated[RequestKind, typer.Option(help="waitlist, recall or new_patient.")],
    procedures: Annotated[str, typer.Option(help="Comma-separated codes, e.g. D1110,D0120.")],
    earliest: Annotated[str, typer.Option(help="First acceptable day, YYYY-MM-DD.")],
    latest: Annotated[str, typer.Option(help="Last acceptable day, YYYY-MM-DD.")],
    patient: Annotated[int | None, typer.Option(help="Not needed for a new patient.")] = None,
    urgency: Annotated[int, typer.Option(help="1 routine, 2 soon, 3 urgent.")] = 2,
    provider: Annotated[int | None, typer.Option(help="Preferred provider.")] = None,
    hours: Annotated[
        str | None, typer.Option(help="Preferred weekly hours, e.g. 'mon-fri 08:00-12:00'.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a request to a clinic's list."""
    session: Session = ctx.obj
    new = NewRequest(
        clinic_id=clinic,
        patient_id=patient,
        kind=kind,
        procedure_codes=tuple(c for c in procedures.split(",") if c.strip()),
        earliest_date=_day(earliest, "--earliest"),
        latest_date=_day(latest, "--latest"),
        urgency=urgency,
        preferred_provider_id=provider,
        preferred_hours=hours,
    )
    request_id = session.run(lambda app, actor: open_requests.add_request(app.uow(), actor, new))
    emit({"request_id": request_id}, as_json=as_json, human=f"request {request_id}")


@request_app.command("list")
def request_list(
    ctx: typer.Context, clinic: Annotated[int, typer.Option()], as_json: JsonOpt = False
) -> None:
    """A clinic's open requests, oldest first."""
    session: Session = ctx.obj
    rows = session.run(lambda app, actor: open_requests.list_requests(app.uow(), actor, clinic))
    shown = [
        {
            "request_id": r["request_id"],
            "kind": r["kind"],
            "patient_id": r["patient_id"],
            "procedures": ",".join(r["procedure_codes"]),
            "duration_min": r["duration_min"],
            "earliest_date": r["earliest_date"],
            "latest_date": r["latest_date"],
            "urgency": r["urgency"],
        }
        for r in rows
    ]
    emit(
        {"requests": shown},
        as_json=as_json,
        human=table(shown, list(shown[0]) if shown else ["request_id"]),
    )


@request_app.command("cancel")
def request_cancel(ctx: typer.Context, request_id: int, as_json: JsonOpt = False) -> None:
    """Withdraw an open request (its pending suggestions expire)."""
    session: Session = ctx.obj
    session.run(lambda app, actor: open_requests.cancel_request(app.uow(), actor, request_id))
    emit({"request_id": request_id, "status": "cancelled"}, as_json=as_json, human="cancelled")


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@suggestion_app.command("list")
def suggestion_list(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    status: Annotated[
        SuggestionStatus | None, typer.Option(help="pending (default), accepted, ...")
    ] = SuggestionStatus.PENDING,
    as_json: JsonOpt = False,
) -> None:
    """A clinic's suggestions by start time, in clinic local time (stale ones expire first)."""
    session: Session = ctx.obj
    zone = ZoneInfo(practice_queries.clinic_timezone(session.app.uow(), clinic_id=clinic))
    rows = session.run(
        lambda app, actor: suggestions.list_suggestions(app.uow(), actor, clinic, status=status)
    )
    shown: list[dict[str, Any]] = [
        {
            "suggestion_id": r["suggestion_id"],
            "request_id": r["request_id"],
            "patient_id": r["patient_id"],
            "start": _local(r["start_at"], zone),
            "end": _local(r["end_at"], zone),
            "provider_id": r["provider_id"],
            "chair_id": r["chair_id"],
            "overbook_of": r["overbook_of_appointment_id"],
            "score": round(r["score"], 3),
            "reasons": list(r["reasons"]),
            "status": r["status"],
        }
        for r in rows
    ]
    emit(
        {"suggestions": shown},
        as_json=as_json,
        human=table(
            shown, ["suggestion_id", "request_id", "patient_id", "start", "provider_id", "chair_id"]
        ),
    )


@suggestion_app.command("accept")
def suggestion_accept(
    ctx: typer.Context,
    suggestion_id: int,
    patient: Annotated[
        int | None, typer.Option(help="For a new patient's request: the registered patient.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Book the suggested slot (refused, booking nothing, when the slot is no longer free)."""
    session: Session = ctx.obj
    appointment_id = session.run(
        lambda app, actor: suggestions.accept_suggestion(
            app.uow(), actor, suggestion_id, patient_id=patient
        )
    )
    emit(
        {"suggestion_id": suggestion_id, "appointment_id": appointment_id},
        as_json=as_json,
        human=f"booked appointment {appointment_id}",
    )


@suggestion_app.command("reject")
def suggestion_reject(
    ctx: typer.Context,
    suggestion_id: int,
    reason: Annotated[str, typer.Option(help="Why (kept for the optimizer's review).")],
    as_json: JsonOpt = False,
) -> None:
    """Reject a suggestion with a reason."""
    session: Session = ctx.obj
    session.run(
        lambda app, actor: suggestions.reject_suggestion(
            app.uow(), actor, suggestion_id, reason=reason
        )
    )
    emit({"suggestion_id": suggestion_id, "status": "rejected"}, as_json=as_json, human="rejected")
