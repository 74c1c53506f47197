"""`dentops import DIR` and `dentops export DIR`: the interchange format (docs/import-format.md).

A refused import lists every problem: with --json one JSON object on stdout
(`{"error": ..., "problems": [{"file", "line", "column", "reason"}, ...]}`) and one `error:` line
on stderr; without it one `error: FILE:LINE: COLUMN: REASON` line per problem on stderr.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from core_app.cli.context import EXIT_REFUSED, Session, fail, refusals
from core_app.cli.output import emit
from core_app.domain.exceptions import ValidationError
from core_app.service_layer.importing import ImportOptions, ImportRefused, import_directory
from core_app.service_layer.importing.export import export_directory

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Folder = Annotated[Path, typer.Argument(help="Folder with patients.csv, appointments.csv, ...")]


def import_history(
    ctx: typer.Context,
    folder: Folder,
    clinic_timezone: Annotated[
        str | None, typer.Option(help="IANA zone of clinics the import creates.")
    ] = None,
    currency: Annotated[str, typer.Option(help="Currency of clinics created.")] = "USD",
    country: Annotated[str, typer.Option(help="Country of clinics created.")] = "US",
    hours: Annotated[
        str, typer.Option(help="Opening hours of clinics created (and their providers).")
    ] = "mon-fri 08:00-17:00",
    namespace: Annotated[
        str | None, typer.Option(help="Prefix of the source keys; default: the folder's name.")
    ] = None,
    clinic: Annotated[
        str | None, typer.Option(help="Clinic of rows without one; default: the folder's name.")
    ] = None,
    provider_kind: Annotated[
        str, typer.Option(help="Kind of providers created: auto (from the name), dentist, ...")
    ] = "auto",
    procedure: Annotated[
        str, typer.Option(help="Procedure code of appointments without one.")
    ] = "D0120",
    as_json: JsonOpt = False,
) -> None:
    """Import patients, appointments and payments; all or nothing; re-running changes nothing."""
    session: Session = ctx.obj
    with refusals():
        if not folder.is_dir():
            raise ValidationError(f"{folder} is not a folder")
        options = ImportOptions.for_folder(
            folder,
            namespace=namespace,
            clinic=clinic,
            timezone=clinic_timezone,
            currency=currency.upper(),
            country=country.upper(),
            hours=hours,
            provider_kind=provider_kind,
            procedure=procedure.upper(),
        )
    actor = session.actor()
    app = session.app
    with refusals():
        try:
            report = import_directory(app.uow(), actor, folder, options)
        except ImportRefused as refused:
            _report_problems(refused, as_json=as_json)
    emit(
        dataclasses.asdict(report),
        as_json=as_json,
        human="; ".join(
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in (
                ("patients", report.patients),
                ("appointments", report.appointments),
                ("payments", report.payments),
            )
        ),
    )


def _report_problems(refused: ImportRefused, *, as_json: bool) -> NoReturn:
    summary = f"{len(refused.problems)} problem(s) in the import, nothing written"
    if as_json:
        problems = [dataclasses.asdict(p) for p in refused.problems]
        typer.echo(json.dumps({"error": summary, "problems": problems}, sort_keys=True))
    else:
        for problem in refused.problems:
            typer.echo(f"error: {problem}", err=True)
    fail(summary, code=refused.code, status=EXIT_REFUSED)


def export_history(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Folder to write the three files into.")],
    clinic: Annotated[str | None, typer.Option(help="Only this clinic (by name).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write patients.csv, appointments.csv and payments.csv (an audited read of patient data)."""
    session: Session = ctx.obj
    report = session.run(
        lambda app, actor: export_directory(app.uow(), actor, folder, clinic=clinic)
    )
    emit(
        dataclasses.asdict(report),
        as_json=as_json,
        human=f"{report.patients} patients, {report.appointments} appointments, "
        f"{report.payments} payments written to {report.folder}",
    )
