"""`dentops`: set up a practice and run its day from the command line.

Every command that reports takes --json and then prints exactly one JSON object.
Refusals print one line `error: ...` on stderr and exit non-zero having written nothing.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from core_app.cli import (
    commands_api,
    commands_appointments,
    commands_dashboard,
    commands_import,
    commands_models,
    commands_money,
    commands_optimize,
    commands_pipeline,
    commands_reminders,
    commands_requests,
    commands_security,
    commands_setup,
)
from core_app.cli.context import Session, refusals
from core_app.cli.output import emit
from core_app.config import Settings
from core_app.domain.exceptions import ValidationError
from core_app.logging_setup import configure_from_environment
from core_app.service_layer import bootstrap

app = typer.Typer(
    name="dentops",
    help="Operations engine for dental practices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(commands_setup.user_app, name="user")
app.add_typer(commands_setup.clinic_app, name="clinic")
app.add_typer(commands_setup.provider_app, name="provider")
app.add_typer(commands_setup.chair_app, name="chair")
app.add_typer(commands_setup.procedure_app, name="procedure")
app.add_typer(commands_setup.patient_app, name="patient")
app.add_typer(commands_appointments.appointment_app, name="appointment")
app.add_typer(commands_money.payment_app, name="payment")
app.command("balance")(commands_money.balance)
app.add_typer(commands_requests.request_app, name="request")
app.add_typer(commands_requests.suggestion_app, name="suggestion")
app.add_typer(commands_optimize.optimize_app, name="optimize")
app.command("import")(commands_import.import_history)
app.command("export")(commands_import.export_history)
app.add_typer(commands_pipeline.pipeline_app, name="pipeline")
app.command("kpi")(commands_pipeline.kpi)
app.add_typer(commands_models.train_app, name="train")
app.add_typer(commands_models.evaluate_app, name="evaluate")
app.command("score")(commands_models.score)
app.command("forecast")(commands_models.forecast)
app.add_typer(commands_reminders.reminders_app, name="reminders")
commands_setup.clinic_app.command("reminder-policy")(commands_reminders.reminder_policy)
app.command("api")(commands_api.api)
commands_setup.user_app.command("totp-enrol")(commands_api.totp_enrol)
app.command("dashboard")(commands_dashboard.dashboard)
app.add_typer(commands_security.audit_app, name="audit")
app.add_typer(commands_security.keys_app, name="keys")
app.add_typer(commands_security.break_glass_app, name="break-glass")
app.command("backup")(commands_security.backup)
app.command("restore")(commands_security.restore)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.callback()
def main_options(
    ctx: typer.Context,
    actor: Annotated[
        str | None,
        typer.Option(envvar="DENTOPS_ACTOR", help="Staff username the command acts as."),
    ] = None,
) -> None:
    configure_from_environment()
    ctx.obj = Session(actor)
    ctx.call_on_close(ctx.obj.close)


@app.command()
def init(
    admin_username: Annotated[
        str | None, typer.Option(envvar="DENTOPS_ADMIN_USERNAME", help="First admin's username.")
    ] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(envvar="DENTOPS_ADMIN_PASSWORD", help="First admin's password (12+ chars)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the key file (mode 0600), migrate the schema, add the first admin. Re-runnable."""
    with refusals():
        try:
            report = bootstrap.initialise(
                Settings(), admin_username=admin_username, admin_password=admin_password
            )
        except ValidationError:
            raise
        except Exception as error:  # unreachable database, unwritable folder
            raise ValidationError(f"init failed: {error}") from error
    emit(
        {"init": report},
        as_json=as_json,
        human=f"database ready at revision {report.schema_revision}; keys in {report.key_file}"
        + ("; admin created" if report.admin_created else ""),
    )


@app.command()
def demo(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for the demo practice (replaces DENTOPS_DATA_DIR).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the demo's random choices.")] = 7,
    warehouse: Annotated[
        bool,
        typer.Option(help="Then run the nightly pipeline, so the warehouse marts have data."),
    ] = True,
    models: Annotated[
        bool,
        typer.Option(
            help="Then build the warehouse once more, so that its model-health marts see the "
            "scores the nightly run wrote (what the dashboards show; `make demo`)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build the demo practice with the simulator (1 clinic, a year of history, 6 weeks ahead),
    then run the nightly pipeline on it (`dentops pipeline run`: warehouse, no-show model and
    scores, demand forecast, suggestions for the next two weeks)."""
    from core_app.cli.demo import build_demo

    if data_dir is not None:
        os.environ["DENTOPS_DATA_DIR"] = str(data_dir)
    with refusals():
        summary = build_demo(
            Settings(), seed=seed, today=date.today(), warehouse=warehouse, models=models
        )
    logins = "; ".join(summary["staff_logins"].values())
    emit(
        summary,
        as_json=as_json,
        human=f"{commands_setup.describe(summary)}\nstaff logins (user / password): {logins}"
        + (
            f"\nwarehouse: {summary['warehouse']['path']} (try `dentops kpi --clinic 1 "
            "--from YYYY-MM-DD --to YYYY-MM-DD`)"
            if "warehouse" in summary
            else ""
        )
        + (
            "\nmodels: "
            + ", ".join(
                f"{step} skipped ({result['skipped']})"
                if isinstance(result, dict) and "skipped" in result
                else f"{step} done"
                for step, result in summary["models"].items()
            )
            if "models" in summary
            else ""
        ),
    )


@app.command()
def simulate(
    clinics: Annotated[int, typer.Option(help="Number of clinics.")] = 3,
    years: Annotated[float, typer.Option(help="Years of history before --today.")] = 2.0,
    patients: Annotated[
        int | None,
        typer.Option(help="Patients at the start of history (default: 2000 per clinic)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random draw.")] = 7,
    today: Annotated[
        str | None, typer.Option(help="Last day of history, YYYY-MM-DD (default: today).")
    ] = None,
    future_weeks: Annotated[int, typer.Option(help="Weeks of bookings after --today.")] = 6,
    country: Annotated[str, typer.Option(help="Country of the public holidays.")] = "US",
    timezone: Annotated[str, typer.Option(help="The clinics' timezone.")] = "America/New_York",
    truth_out: Annotated[
        Path | None,
        typer.Option(help="Folder for the ground-truth parquet files (default: DATA_DIR/truth)."),
    ] = None,
    requests_out: Annotated[
        Path | None,
        typer.Option(help="Parquet file of open requests (default: DATA_DIR/requests.parquet)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for the database (replaces DENTOPS_DATA_DIR).")
    ] = None,
    admin_username: Annotated[
        str, typer.Option(envvar="DENTOPS_ADMIN_USERNAME", help="The simulator's admin user.")
    ] = "simulator",
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="DENTOPS_ADMIN_PASSWORD",
            help="Its password (12+ chars); generated and shown in the summary when absent.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a practice's history with ground truth into a fresh database."""
    from simulator.params import SimulationParams  # lazy: core_app does not need numpy
    from simulator.run import simulate as run_simulation

    if data_dir is not None:
        os.environ["DENTOPS_DATA_DIR"] = str(data_dir)
    with refusals():
        params = SimulationParams(
            clinics=clinics,
            years=years,
            patients=patients if patients is not None else 2000 * clinics,
            seed=seed,
            today=commands_setup.parse_date(today, "--today") if today else date.today(),
            future_weeks=future_weeks,
            country=country,
            timezone=timezone,
        )
        summary = run_simulation(
            params,
            Settings(),
            truth_out=truth_out,
            requests_out=requests_out,
            admin_username=admin_username,
            admin_password=admin_password,
        )
    emit(summary, as_json=as_json, human=commands_setup.describe(summary))


def main() -> None:
    app()
