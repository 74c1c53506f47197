"""Commands for the warehouse: run or serve the pipelines, and read KPIs from the marts.

`pipelines` (Prefect, dbt, DuckDB) is imported only inside these commands: the rest of the CLI
starts without it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from core_app.cli.commands_setup import parse_date
from core_app.cli.context import Session, refusals
from core_app.cli.output import emit
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError

pipeline_app = typer.Typer(
    help="Warehouse pipelines: extract the core into DuckDB, build it with dbt.",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _describe_step(name: str, step: dict[str, Any]) -> str:
    if "skipped" in step:
        return f"{name}: skipped ({step['skipped']})"
    if name == "train":
        if not step["trained"]:
            return f"train: not due (last trained {step['last_trained_at']})"
        return f"train: model {step['run_id']} trained, promoted={step['promoted']}"
    if name == "score":
        return f"score: {step['scored']} appointments scored ({step['bands']})"
    if name == "forecast":
        return f"forecast: {step['series']} demand series to {step['last_date']}"
    return f"plan: {step['suggestions']} suggestions over {len(step['weeks'])} clinic-weeks"


def _describe_run(result: dict[str, Any]) -> str:
    loaded = result["extract_load"]
    built = result["build_warehouse"]
    lines = [
        f"extract_load: {loaded['rows']} rows merged into raw.*"
        + (" (full refresh)" if loaded["full_refresh"] else ""),
        f"build_warehouse: {built['passed']} of {built['nodes']} dbt nodes passed",
    ]
    lines += [_describe_step(name, result[name]) for name in ANALYTICS if name in result]
    return "\n".join(lines)


#: the nightly steps after the warehouse, in order
ANALYTICS = ("train", "score", "forecast", "plan")


@pipeline_app.command("run")
def run(
    ctx: typer.Context,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild raw.* from scratch (atomically).")
    ] = False,
    warehouse_only: Annotated[
        bool,
        typer.Option(
            "--warehouse-only",
            help="Stop after build_warehouse: no training, scoring, forecast or plan.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run the nightly flow now, in this process (Prefect's local engine, no server):
    extract_load, build_warehouse, then train the no-show model when due, score the next 14
    days, forecast demand and plan the next two weeks of every clinic."""
    from pipelines.offline import apply_offline_defaults

    session: Session = ctx.obj
    session.app  # noqa: B018 - refuses here, in one line, a core without keys or database
    session.close()
    settings = Settings()
    apply_offline_defaults(settings.data_dir)
    from pipelines.extract_load import SchemaChanged
    from pipelines.flows import nightly
    from pipelines.transform import WarehouseBuildFailed

    with refusals():
        try:
            result = nightly(full_refresh=full_refresh, analytics=not warehouse_only)
        except (WarehouseBuildFailed, SchemaChanged) as error:
            raise ValidationError(str(error)) from error
    emit(result, as_json=as_json, human=_describe_run(result))


@pipeline_app.command("serve")
def serve(
    timezone: Annotated[
        str, typer.Option(help="Timezone of the schedules (e.g. America/New_York).")
    ] = "UTC",
) -> None:
    """Serve the scheduled deployments (nightly, hourly incremental) until interrupted."""
    from pipelines.offline import apply_offline_defaults

    apply_offline_defaults(Settings().data_dir)
    from pipelines.deployments import serve_all

    serve_all(timezone)


def kpi(
    clinic: Annotated[str, typer.Option(help="Clinic id or name.")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (clinic local).")],
    to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (clinic local).")],
    as_json: JsonOpt = False,
) -> None:
    """KPIs of a clinic for a period, from the warehouse marts (as kpi_definitions defines)."""
    from pipelines.kpi import KpiUnavailable, period_kpis

    with refusals():
        first, last = parse_date(from_, "--from"), parse_date(to, "--to")
        try:
            result = period_kpis(Settings().warehouse_path, clinic=clinic, first=first, last=last)
        except KpiUnavailable as error:
            raise ValidationError(str(error)) from error
    lines = [f"{result['clinic']} ({result['currency']}), {result['from']} .. {result['to']}"]
    lines += [f"  {name}: {value}" for name, value in result.items() if name not in _META]
    emit(result, as_json=as_json, human="\n".join(lines))


_META = ("clinic_id", "clinic", "currency", "from", "to")
