"""The scheduler page's data, all from the core through its service layer: the week's
appointments by chair and provider, pending suggestions with their reasons, and the open
requests (waitlist, recall due, new patients). Patient names come from audited core reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from core_app.domain.staff import Actor
from core_app.service_layer import open_requests, queries, suggestions
from core_app.service_layer.bootstrap import App
from dashboards.loaders.core import Clinic, empty, names_by_id

SCHEDULE_COLUMNS = [
    "appointment_id", "day", "local_start", "local_end", "start_at", "end_at", "chair",
    "provider", "patient", "procedures", "status",
]  # fmt: skip
SUGGESTION_COLUMNS = [
    "suggestion_id", "request_id", "kind", "patient", "local_start", "local_end", "provider",
    "chair", "procedures", "score", "reasons",
]  # fmt: skip
REQUEST_COLUMNS = [
    "request_id", "kind", "patient", "procedures", "duration_min", "earliest_date",
    "latest_date", "urgency", "preferred_provider", "preferred_hours",
]  # fmt: skip


#: open requests listed (most urgent first); names are read (and audited) for these only
REQUESTS_SHOWN = 200


@dataclass(frozen=True)
class SchedulerData:
    week_start: date
    schedule: pd.DataFrame
    suggestions: pd.DataFrame
    requests: pd.DataFrame  # the REQUESTS_SHOWN most urgent open requests
    open_requests: int  # how many are open in all


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def load_scheduler(app: App, actor: Actor, clinic: Clinic, week_start: date) -> SchedulerData:
    providers, chairs = names_by_id(app, actor, clinic)
    start_at, end_at = clinic.day_bounds(week_start, 7)
    rows = queries.clinic_schedule(
        app.uow(), actor, clinic_id=clinic.clinic_id, start_at=start_at, end_at=end_at
    )
    zone = clinic.zone()
    schedule = pd.DataFrame(
        [
            {
                "appointment_id": r.appointment_id,
                "day": r.start_at.astimezone(zone).date(),
                "local_start": r.start_at.astimezone(zone).replace(tzinfo=None),
                "local_end": r.end_at.astimezone(zone).replace(tzinfo=None),
                "start_at": r.start_at,
                "end_at": r.end_at,
                "chair": chairs.get(r.chair_id, str(r.chair_id)),
                "provider": providers.get(r.provider_id, str(r.provider_id)),
                "patient": r.patient_name,
                "procedures": "+".join(r.procedure_codes),
                "status": r.status,
            }
            for r in rows
            if r.status != "cancelled"
        ],
        columns=SCHEDULE_COLUMNS,
    )
    pending = suggestions.list_suggestions(app.uow(), actor, clinic.clinic_id)
    waiting = open_requests.list_requests(
        app.uow(), actor, clinic.clinic_id, most_urgent_first=True, limit=REQUESTS_SHOWN
    )
    open_count = open_requests.count_requests(app.uow(), actor, clinic.clinic_id)
    ids = [r["patient_id"] for r in [*pending, *waiting] if r.get("patient_id") is not None]
    names = (
        queries.patient_names(app.uow(), actor, clinic_id=clinic.clinic_id, patient_ids=ids)
        if ids
        else {}
    )

    def who(patient_id: int | None) -> str:
        return "new patient" if patient_id is None else names.get(patient_id, f"#{patient_id}")

    suggestion_frame = pd.DataFrame(
        [
            {
                "suggestion_id": s["suggestion_id"],
                "request_id": s["request_id"],
                "kind": s["kind"],
                "patient": who(s["patient_id"]),
                "local_start": s["start_at"].astimezone(zone).replace(tzinfo=None),
                "local_end": s["end_at"].astimezone(zone).replace(tzinfo=None),
                "provider": providers.get(s["provider_id"], str(s["provider_id"])),
                "chair": chairs.get(s["chair_id"], str(s["chair_id"])),
                "procedures": "+".join(s["procedure_codes"]),
                "score": float(s["score"]),
                "reasons": "; ".join(s["reasons"]),
            }
            for s in pending
        ],
        columns=SUGGESTION_COLUMNS,
    )
    request_frame = pd.DataFrame(
        [
            {
                "request_id": r["request_id"],
                "kind": r["kind"],
                "patient": who(r["patient_id"]),
                "procedures": "+".join(r["procedure_codes"]),
                "duration_min": r["duration_min"],
                "earliest_date": r["earliest_date"],
                "latest_date": r["latest_date"],
                "urgency": r["urgency"],
                "preferred_provider": providers.get(r["preferred_provider_id"] or -1, ""),
                "preferred_hours": r["preferred_hours"] or "",
            }
            for r in waiting
        ],
        columns=REQUEST_COLUMNS,
    )
    return SchedulerData(
        week_start=week_start,
        schedule=schedule if len(schedule) else empty(SCHEDULE_COLUMNS),
        suggestions=suggestion_frame,
        requests=request_frame,
        open_requests=open_count,
    )
