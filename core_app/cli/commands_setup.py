"""Commands that set up the practice: users, clinics, providers, chairs, procedures, patients."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Annotated, Any

import typer

from core_app.cli.context import Session, refusals
from core_app.cli.output import emit, table
from core_app.domain.exceptions import ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.money import parse_amount
from core_app.domain.patient import ContactPreference
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import Role
from core_app.service_layer import no_show_scores, patients, practice, practice_queries, users

user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics (locations).", no_args_is_help=True)
provider_app = typer.Typer(help="Providers: dentists and hygienists.", no_args_is_help=True)
chair_app = typer.Typer(help="Chairs (operatories).", no_args_is_help=True)
procedure_app = typer.Typer(help="A clinic's procedure catalog.", no_args_is_help=True)
patient_app = typer.Typer(help="Patients (every read is audited).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
HoursOpt = Annotated[
    str, typer.Option(help="Weekly hours, e.g. 'mon-fri 08:00-17:00; sat 09:00-13:00'.")
]


def describe(summary: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}: {value}" for key, value in summary.items() if not isinstance(value, dict | list)
    )


def parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        # the value is not echoed: a birth date is patient data
        raise ValidationError(f"cannot read {what}; write YYYY-MM-DD") from None


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="admin, manager, scheduler, front_desk or provider.")],
    clinic: Annotated[int | None, typer.Option(help="Limit the user to one clinic.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="DENTOPS_NEW_USER_PASSWORD", help="12+ characters.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a staff user (password from the option, DENTOPS_NEW_USER_PASSWORD or a prompt)."""
    session: Session = ctx.obj
    secret = password or getpass.getpass("password for the new user: ")
    user_id = session.run(
        lambda app, actor: users.add_user(
            app.uow(), actor, username=username, password=secret, role=role, clinic_id=clinic
        )
    )
    emit(
        {"user_id": user_id, "username": username, "role": role},
        as_json=as_json,
        human=f"user {user_id} {username} ({role})",
    )


@clinic_app.command("add")
def clinic_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    timezone: Annotated[str, typer.Option(help="IANA zone, e.g. America/New_York.")],
    hours: HoursOpt,
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    country: Annotated[str, typer.Option(help="ISO 3166 code (public holidays).")] = "US",
    as_json: JsonOpt = False,
) -> None:
    """Add a clinic; it starts with the default procedure catalog and fees."""
    session: Session = ctx.obj
    with refusals():
        blocks = parse_weekly_hours(hours)
    clinic_id = session.run(
        lambda app, actor: practice.create_clinic(
            app.uow(),
            actor,
            name=name,
            timezone=timezone,
            currency=currency.upper(),
            country=country.upper(),
            hours=blocks,
        )
    )
    emit(
        {"clinic_id": clinic_id, "name": name}, as_json=as_json, human=f"clinic {clinic_id} {name}"
    )


@clinic_app.command("list")
def clinic_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    session: Session = ctx.obj
    rows = session.run(lambda app, actor: practice_queries.list_clinics(app.uow(), actor))
    emit(
        {"clinics": rows},
        as_json=as_json,
        human=table(rows, ["clinic_id", "name", "timezone", "currency", "opening_hours"]),
    )


@provider_app.command("add")
def provider_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option()],
    kind: Annotated[ProviderKind, typer.Option(help="dentist or hygienist.")],
    clinic: Annotated[int, typer.Option(help="Clinic the hours apply to.")],
    hours: HoursOpt,
    as_json: JsonOpt = False,
) -> None:
    """Add a provider with weekly working hours at one clinic."""
    session: Session = ctx.obj
    with refusals():
        blocks = parse_weekly_hours(hours)
    provider_id = session.run(
        lambda app, actor: practice.add_provider(
            app.uow(), actor, name=name, kind=kind, clinic_id=clinic, hours=blocks
        )
    )
    emit(
        {"provider_id": provider_id, "name": name, "kind": kind},
        as_json=as_json,
        human=f"provider {provider_id} {name} ({kind})",
    )


@provider_app.command("hours")
def provider_hours(
    ctx: typer.Context,
    provider_id: int,
    clinic: Annotated[int, typer.Option()],
    hours: HoursOpt,
    as_json: JsonOpt = False,
) -> None:
    """Replace a provider's weekly hours at a clinic (also adds a provider to another clinic)."""
    session: Session = ctx.obj
    with refusals():
        blocks = parse_weekly_hours(hours)
    session.run(
        lambda app, actor: practice.set_provider_hours(
            app.uow(), actor, provider_id=provider_id, clinic_id=clinic, hours=blocks
        )
    )
    emit(
        {"provider_id": provider_id, "clinic_id": clinic, "hours": hours},
        as_json=as_json,
        human="hours saved",
    )


@provider_app.command("list")
def provider_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    session: Session = ctx.obj
    rows = session.run(lambda app, actor: practice_queries.list_providers(app.uow(), actor))
    emit(
        {"providers": rows},
        as_json=as_json,
        human=table(rows, ["provider_id", "name", "kind", "hours"]),
    )


@chair_app.command("add")
def chair_add(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    name: Annotated[str, typer.Option()],
    as_json: JsonOpt = False,
) -> None:
    session: Session = ctx.obj
    chair_id = session.run(
        lambda app, actor: practice.add_chair(app.uow(), actor, clinic_id=clinic, name=name)
    )
    emit(
        {"chair_id": chair_id, "clinic_id": clinic, "name": name},
        as_json=as_json,
        human=f"chair {chair_id} {name}",
    )


@chair_app.command("list")
def chair_list(
    ctx: typer.Context, clinic: Annotated[int, typer.Option()], as_json: JsonOpt = False
) -> None:
    session: Session = ctx.obj
    rows = session.run(
        lambda app, actor: practice_queries.list_chairs(app.uow(), actor, clinic_id=clinic)
    )
    emit({"chairs": rows}, as_json=as_json, human=table(rows, ["chair_id", "name"]))


@procedure_app.command("list")
def procedure_list(
    ctx: typer.Context, clinic: Annotated[int, typer.Option()], as_json: JsonOpt = False
) -> None:
    session: Session = ctx.obj
    rows = session.run(
        lambda app, actor: practice_queries.list_procedures(app.uow(), actor, clinic_id=clinic)
    )
    emit(
        {"procedures": rows},
        as_json=as_json,
        human=table(rows, ["code", "name", "category", "duration_min", "fee_cents"]),
    )


@clinic_app.command("risk-thresholds")
def clinic_risk_thresholds(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    medium: Annotated[
        float | None, typer.Option(help="No-show probability from which risk is medium.")
    ] = None,
    high: Annotated[
        float | None, typer.Option(help="No-show probability from which risk is high.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a clinic's no-show risk thresholds, or set both (stored scores are re-banded)."""
    session: Session = ctx.obj
    changed = None
    if medium is not None or high is not None:
        if medium is None or high is None:
            with refusals():
                raise ValidationError("give both --medium and --high")
        changed = session.run(
            lambda app, actor: no_show_scores.set_risk_thresholds(
                app.uow(), actor, clinic_id=clinic, medium=medium, high=high
            )
        )
    limits = session.run(
        lambda app, actor: no_show_scores.risk_thresholds(app.uow(), actor, clinic)
    )
    result = {"clinic_id": clinic, "medium": limits.medium, "high": limits.high}
    if changed is not None:
        result["rebanded_scores"] = changed
    emit(result, as_json=as_json, human=describe(result))


@procedure_app.command("fee")
def procedure_fee(
    ctx: typer.Context,
    code: str,
    clinic: Annotated[int, typer.Option()],
    amount: Annotated[str, typer.Option(help="New fee, e.g. 125.00.")],
    as_json: JsonOpt = False,
) -> None:
    """Set a procedure's fee in a clinic's catalog."""
    session: Session = ctx.obj
    with refusals():
        cents = parse_amount(amount)
    session.run(
        lambda app, actor: practice.set_procedure_fee(
            app.uow(), actor, clinic_id=clinic, code=code.upper(), fee_cents=cents
        )
    )
    emit(
        {"code": code.upper(), "clinic_id": clinic, "fee_cents": cents},
        as_json=as_json,
        human="fee saved",
    )


@patient_app.command("add")
def patient_add(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    first_name: Annotated[str, typer.Option()],
    last_name: Annotated[str, typer.Option()],
    birth_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    sex: Annotated[str | None, typer.Option(help="female, male or other.")] = None,
    distance_km: Annotated[float | None, typer.Option()] = None,
    insured: Annotated[bool, typer.Option("--insured/--uninsured")] = False,
    contact: Annotated[
        ContactPreference, typer.Option(help="sms, email or phone.")
    ] = ContactPreference.SMS,
    as_json: JsonOpt = False,
) -> None:
    """Register a patient (names, birth date, contacts and notes are stored encrypted)."""
    session: Session = ctx.obj
    with refusals():
        born = parse_date(birth_date, "birth date")
    patient_id = session.run(
        lambda app, actor: patients.add_patient(
            app.uow(),
            actor,
            clinic_id=clinic,
            first_name=first_name,
            last_name=last_name,
            birth_date=born,
            phone=phone,
            email=email,
            notes=notes,
            sex=sex,
            distance_km=distance_km,
            has_insurance=insured,
            contact_preference=contact,
        )
    )
    emit({"patient_id": patient_id}, as_json=as_json, human=f"patient {patient_id}")


@patient_app.command("show")
def patient_show(ctx: typer.Context, patient_id: int, as_json: JsonOpt = False) -> None:
    session: Session = ctx.obj
    details = session.run(lambda app, actor: patients.get_patient(app.uow(), actor, patient_id))
    emit(
        {"patient": details},
        as_json=as_json,
        human=f"{details.first_name} {details.last_name}, born {details.birth_date}, "
        f"{details.phone or '-'}, {details.email or '-'}",
    )


@patient_app.command("list")
def patient_list(
    ctx: typer.Context,
    clinic: Annotated[int, typer.Option()],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOpt = False,
) -> None:
    session: Session = ctx.obj
    found = session.run(
        lambda app, actor: patients.list_patients(
            app.uow(), actor, clinic_id=clinic, limit=limit, offset=offset
        )
    )
    rows = [
        {
            "patient_id": p.patient_id,
            "name": f"{p.first_name} {p.last_name}",
            "birth_date": p.birth_date,
        }
        for p in found
    ]
    emit(
        {"patients": found},
        as_json=as_json,
        human=table(rows, ["patient_id", "name", "birth_date"]),
    )
