"""`dentops optimize`: run the schedule optimizer and store its proposals as pending
suggestions (then `dentops suggestion list | accept | reject`).

`pipelines.optimize` (and with it ortools) is imported only inside these commands. The caller
must be allowed to decide suggestions for the clinic; reading the schedule and recording the
suggestions is done by the system actor, as the nightly flow does.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from core_app.cli.context import Session, refusals
from core_app.cli.output import emit
from core_app.domain.exceptions import ValidationError
from core_app.domain.staff import Action, Actor
from core_app.service_layer.bootstrap import App

optimize_app = typer.Typer(
    help="Schedule optimizer: suggest slots for a request, plan a clinic's week.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@optimize_app.command("suggest")
def optimize_suggest(
    ctx: typer.Context,
    request: Annotated[int, typer.Option(help="The open request's id.")],
    k: Annotated[int, typer.Option(help="How many slots.")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """The best k slots for one request, stored as pending suggestions."""
    from pipelines.optimize import suggest_for_request

    session: Session = ctx.obj

    def call(app: App, actor: Actor) -> dict[str, Any]:
        actor.require(Action.DECIDE_SUGGESTION)
        try:
            return suggest_for_request(app, request, k=k)
        except LookupError as error:
            raise ValidationError(str(error)) from None

    result = session.run(call)
    lines = [
        f"{s['rank']}. {s['start_at']} provider {s['provider_id']}: {s['why']}"
        for s in result["suggestions"]
    ]
    emit(result, as_json=as_json, human="\n".join(lines) or "no free slot in the request's window")


@optimize_app.command("plan")
def optimize_plan(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    week: Annotated[str, typer.Option(help="The week's Monday, YYYY-MM-DD.")],
    as_json: JsonOpt = False,
) -> None:
    """Place the clinic's open requests in the week; one pending suggestion per placement."""
    from pipelines.optimize import plan_week

    with refusals():
        try:
            monday = date.fromisoformat(week)
        except ValueError:
            raise ValidationError(f"--week must be a date YYYY-MM-DD, got {week!r}") from None
        if monday.weekday() != 0:
            raise ValidationError(f"--week must be a Monday, got {week}")
    session: Session = ctx.obj

    def call(app: App, actor: Actor) -> dict[str, Any]:
        actor.require(Action.DECIDE_SUGGESTION, clinic_id=clinic)
        return plan_week(app, clinic, monday)

    result = session.run(call)
    emit(
        result,
        as_json=as_json,
        human=f"placed {result['placed']} of {result['requests']} requests "
        f"({result['overbooks']} overbooks), {result['status']}, gap {result['gap']}",
    )
