"""The front desk's data from the core: today and the next two days by time (clinic local),
each appointment with its no-show risk band and plain-word factors (no_show_scores.risk_for),
and, for one appointment, its confirmation history. Patient names come from the core's audited
schedule read, never from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from core_app.domain.staff import Actor
from core_app.service_layer import no_show_scores, queries, reminders
from core_app.service_layer.bootstrap import App
from dashboards.loaders.core import Clinic, empty, names_by_id

DAYS = 3
COLUMNS = [
    "appointment_id", "day", "time", "patient", "provider", "chair", "procedures", "status",
    "risk_band", "probability", "factors", "fee_cents", "currency", "patient_id",
]  # fmt: skip
HISTORY_COLUMNS = ["local_time", "event", "reason"]
REMINDER_COLUMNS = [
    "reminder_id", "kind", "channel", "due", "status", "attempts", "sent", "last_error",
]  # fmt: skip
#: the front desk works the riskiest first within a time
BAND_ORDER = {"high": 0, "medium": 1, "low": 2, "": 3}


@dataclass(frozen=True)
class FrontDeskData:
    first_day: date
    appointments: pd.DataFrame


def load_front_desk(app: App, actor: Actor, clinic: Clinic, today: date) -> FrontDeskData:
    providers, chairs = names_by_id(app, actor, clinic)
    start_at, end_at = clinic.day_bounds(today, DAYS)
    rows = [
        r
        for r in queries.clinic_schedule(
            app.uow(), actor, clinic_id=clinic.clinic_id, start_at=start_at, end_at=end_at
        )
        if r.status != "cancelled"
    ]
    risks = no_show_scores.risk_for(app.uow(), actor, [r.appointment_id for r in rows])
    zone = clinic.zone()
    frame = pd.DataFrame(
        [
            {
                "appointment_id": r.appointment_id,
                "day": r.start_at.astimezone(zone).date(),
                "time": f"{r.start_at.astimezone(zone):%H:%M}-{r.local_end}",
                "patient": r.patient_name,
                "provider": providers.get(r.provider_id, str(r.provider_id)),
                "chair": chairs.get(r.chair_id, str(r.chair_id)),
                "procedures": "+".join(r.procedure_codes),
                "status": r.status,
                "risk_band": str(risks[r.appointment_id].band) if r.appointment_id in risks else "",
                "probability": (
                    risks[r.appointment_id].probability if r.appointment_id in risks else None
                ),
                "factors": (
                    "; ".join(risks[r.appointment_id].factors) if r.appointment_id in risks else ""
                ),
                "fee_cents": r.fee_cents,
                "currency": r.currency,
                "patient_id": r.patient_id,
            }
            for r in sorted(rows, key=lambda r: (r.start_at, r.appointment_id))
        ],
        columns=COLUMNS,
    )
    return FrontDeskData(first_day=today, appointments=frame if len(frame) else empty(COLUMNS))


def confirmation_history(app: App, actor: Actor, appointment_id: int) -> pd.DataFrame:
    events = queries.appointment_history(app.uow(), actor, appointment_id)
    return pd.DataFrame(
        [
            {"local_time": e.local_time, "event": e.event_type, "reason": e.reason or ""}
            for e in events
        ],
        columns=HISTORY_COLUMNS,
    )


def reminder_history(app: App, actor: Actor, clinic: Clinic, appointment_id: int) -> pd.DataFrame:
    """The appointment's reminders (the core's outbox), times in clinic local time."""
    zone = clinic.zone()
    return pd.DataFrame(
        [
            {
                "reminder_id": r.reminder_id,
                "kind": r.kind,
                "channel": r.channel,
                "due": f"{r.due_at.astimezone(zone):%Y-%m-%d %H:%M}",
                "status": r.status,
                "attempts": r.attempts,
                "sent": f"{r.sent_at.astimezone(zone):%Y-%m-%d %H:%M}" if r.sent_at else "",
                "last_error": r.last_error or "",
            }
            for r in reminders.reminder_history(app.uow(), actor, appointment_id)
        ],
        columns=REMINDER_COLUMNS,
    )
