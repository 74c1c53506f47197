"""`simulate`: build a practice through the core's services, generate its history, load it
through the bulk path, and write the ground truth and the open requests beside it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from core_app.config import Settings
from core_app.domain.exceptions import DomainError, ValidationError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import Actor
from core_app.service_layer import bootstrap, practice, users
from core_app.service_layer.bootstrap import App
from core_app.service_layer.history import stored_counts
from core_app.service_layer.memory import gc_paused
from simulator import future, loader, truth
from simulator.generate import World, generate
from simulator.params import SimulationParams
from simulator.population import LAST_NAMES

ADMIN_USERNAME = "simulator"
CLINIC_NAMES = ("Riverside", "Hillcrest", "Lakeside", "Oakwood", "Harbor", "Maple", "Summit")


@dataclass(frozen=True)
class Practice:
    clinic_ids: list[int]
    provider_ids: list[int]
    chair_ids: list[int]


def clinic_name(index: int) -> str:
    base = CLINIC_NAMES[index % len(CLINIC_NAMES)]
    return f"{base} Dental" if index < len(CLINIC_NAMES) else f"{base} Dental {index + 1}"


def set_up_practice(app: App, admin: Actor, world: World) -> Practice:
    """Clinics (with the default catalog), providers and chairs, through the core's services."""
    params = world.params
    staffing = world.staffing
    week = parse_weekly_hours(params.opening_hours)
    clinic_ids = [
        practice.create_clinic(
            app.uow(),
            admin,
            name=clinic_name(c),
            timezone=params.timezone,
            currency=params.currency,
            country=params.country,
            hours=week,
        )
        for c in range(params.clinics)
    ]
    provider_ids = []
    for p in range(staffing.n_providers):
        hygienist = bool(staffing.provider_is_hygienist[p])
        surname = LAST_NAMES[p % len(LAST_NAMES)]
        provider_ids.append(
            practice.add_provider(
                app.uow(),
                admin,
                name=f"{'Hygienist' if hygienist else 'Dr.'} {surname} {p + 1}",
                kind=ProviderKind.HYGIENIST if hygienist else ProviderKind.DENTIST,
                clinic_id=clinic_ids[int(staffing.provider_clinic[p])],
                hours=week,
            )
        )
    chair_ids = [
        practice.add_chair(app.uow(), admin, clinic_id=clinic_ids[c], name=f"Op {k + 1}")
        for c in range(params.clinics)
        for k in range(int(staffing.chairs[c]))
    ]
    return Practice(clinic_ids, provider_ids, chair_ids)


def prepare_database(
    settings: Settings, admin_username: str, admin_password: str | None
) -> tuple[str | None, bool]:
    """`dentops init` for the simulator's admin; refuses a database holding appointments.

    Returns the generated password (None when one was given) and whether the admin is new."""
    if settings.key_file.exists():
        app = bootstrap.connect(settings)
        try:
            if bootstrap.table_names(app.engine):
                counts = stored_counts(app.uow())
                if counts["appointments"]:
                    raise ValidationError(
                        f"the database holds {counts['appointments']} appointments already; "
                        "simulate into a fresh --data-dir"
                    )
        finally:
            app.close()
    generated = None
    if admin_password is None:
        generated = admin_password = secrets.token_urlsafe(18)
    report = bootstrap.initialise(
        settings, admin_username=admin_username, admin_password=admin_password
    )
    return generated, report.admin_created


def simulate(
    params: SimulationParams,
    settings: Settings,
    *,
    truth_out: Path | None = None,
    requests_out: Path | None = None,
    admin_username: str = ADMIN_USERNAME,
    admin_password: str | None = None,
    batch_size: int = 1_500_000,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    began = time.perf_counter()
    generated_password, admin_created = prepare_database(settings, admin_username, admin_password)
    # Clinics, providers and chairs go through the services on the shared engine (write-ahead
    # log): a few hundred small transactions whose commits need no sync of the file. The
    # history then goes in alone (exclusive: a rollback journal, each page written once).
    shared = bootstrap.connect(settings)
    try:
        try:
            admin = users.actor_for(shared.uow(), admin_username)
        except DomainError as error:
            raise ValidationError(
                f"the database has staff users but no usable {admin_username!r}: give "
                "--admin-username of an admin, or simulate into a fresh --data-dir"
            ) from error
        t0 = time.perf_counter()
        with gc_paused():
            world = generate(params)
        progress(f"generated {len(world.appointments)} appointments")
        t1 = time.perf_counter()
        setup = set_up_practice(shared, admin, world)
    finally:
        shared.close()
    # the database is new and ours alone until the load is done (prepare_database refuses one
    # holding appointments): written through a rollback journal, each page once
    app = bootstrap.connect(settings, exclusive=True)
    try:
        with gc_paused():
            stored = loader.store(
                app,
                admin,
                world,
                setup.clinic_ids,
                setup.provider_ids,
                setup.chair_ids,
                batch_size=batch_size,
                progress=progress,
            )
        t2 = time.perf_counter()
    finally:
        app.close()
    truth_dir = truth_out or settings.data_dir / "truth"
    requests_path = requests_out or settings.data_dir / "requests.parquet"
    truth.write_truth(world, stored, setup.clinic_ids, truth_dir)
    truth.write_requests(world, stored, setup.clinic_ids, requests_path)
    t3 = time.perf_counter()
    summary = summarise(world, stored)
    summary.update(
        {
            "clinic_ids": setup.clinic_ids,
            "data_dir": str(settings.data_dir),
            "truth_out": str(truth_dir),
            "requests_out": str(requests_path),
            "seed": params.seed,
            "admin_username": admin_username,
            "admin_created": admin_created,
            "seconds": {
                "generate": round(t1 - t0, 2),
                "load": round(t2 - t1, 2),
                "outputs": round(t3 - t2, 2),
                "total": round(t3 - began, 2),
            },
        }
    )
    if generated_password is not None and admin_created:
        summary["admin_password"] = generated_password
    return summary


def summarise(world: World, stored: loader.Stored) -> dict[str, Any]:
    a = world.appointments
    timeline = world.timeline
    status = np.bincount(a.status, minlength=len(future.STATUSES))
    completed, no_shows = int(status[future.COMPLETED]), int(status[future.NO_SHOW])
    past = a.start < timeline.now
    late = (a.status == future.CANCELLED) & (a.start - a.cancelled_at < 86_400)
    return {
        "appointments": len(a),
        "patients": int(world.registered.sum()),
        "payments": len(world.payments.visit),
        "refunds": stored.refunds,
        "charges": stored.charges,
        "completed": completed,
        "no_shows": no_shows,
        "cancelled": int(status[future.CANCELLED]),
        "late_cancels": int(late.sum()),
        "upcoming": int((~past & (a.status != future.CANCELLED)).sum()),
        "no_show_rate": round(no_shows / max(1, completed + no_shows), 4),
        "clinics": world.params.clinics,
        "providers": world.staffing.n_providers,
        "chairs": int(world.staffing.chairs.sum()),
        "open_requests": len(world.requests),
        "requests_in_core": stored.requests,
        "first_date": timeline.first_day.isoformat(),
        "today": timeline.day(timeline.today_index).isoformat(),
        "last_date": (timeline.first_day + timedelta(days=timeline.n_days - 1)).isoformat(),
    }
