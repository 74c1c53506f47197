"""Plan a clinic's week (or suggest slots for one request) with the optimizer, from the core's
read-side queries and the stored no-show scores, and store the result as pending suggestions
through the core's suggestion service (as the system actor).

The optimizer works in minutes after Monday 00:00 clinic-local of the week; this module
converts the core's UTC times to those minutes and back with the clinic's time zone. An
appointment without a stored score gets `DEFAULT_NO_SHOW`; a request (no appointment yet) the
mean score of the clinic's scored appointments that week, or the same default.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core_app.domain.hours import HoursBlock, parse_weekly_hours
from core_app.domain.request import SlotSuggestion
from core_app.domain.staff import SYSTEM
from core_app.service_layer import (
    no_show_scores,
    open_requests,
    practice_queries,
    queries,
    suggestions,
)
from core_app.service_layer.bootstrap import App
from optimizer.instance import Appointment, Chair, Instance, Interval, Policy, Provider, Request
from optimizer.model import plan
from optimizer.solution import Placement
from optimizer.suggest import LABELS, suggest
from optimizer.validation import validate

DAY = 24 * 60
DEFAULT_NO_SHOW = 0.15
ACTIVE = ("booked", "confirmed", "checked_in")


class Week:
    """Minutes after Monday 00:00 local of one week, to and from UTC."""

    def __init__(self, monday: date, timezone: str) -> None:
        if monday.weekday() != 0:
            raise ValueError(f"{monday} is not a Monday")
        self.monday = monday
        self.zone = ZoneInfo(timezone)

    def start_at(self, day: int = 0) -> datetime:
        local = datetime.combine(self.monday + timedelta(days=day), time(0), self.zone)
        return local.astimezone(UTC)

    def minute(self, moment: datetime) -> int:
        local = moment.astimezone(self.zone)
        day = (local.date() - self.monday).days
        return day * DAY + local.hour * 60 + local.minute

    def at(self, minute: int) -> datetime:
        day, rest = divmod(minute, DAY)
        local = datetime.combine(self.monday + timedelta(days=day), time(0), self.zone)
        return (local + timedelta(minutes=rest)).astimezone(UTC)

    def intervals(self, blocks: Iterable[HoursBlock], days: range = range(7)) -> list[Interval]:
        return [
            Interval(
                start=d * DAY + b.start.hour * 60 + b.start.minute,
                end=d * DAY + b.end.hour * 60 + b.end.minute,
            )
            for d in days
            for b in blocks
            if b.weekday == (self.monday + timedelta(days=d)).weekday()
        ]


def _requests(app: App, clinic_id: int, week: Week, show: float, now: datetime) -> list[Request]:
    procedures = {
        p["code"]: p
        for p in practice_queries.list_procedures(app.uow(), SYSTEM, clinic_id=clinic_id)
    }
    found = []
    for r in open_requests.list_requests(app.uow(), SYSTEM, clinic_id):
        first = max((r["earliest_date"] - week.monday).days, 0)
        last = min((r["latest_date"] - week.monday).days, 6)
        if first > last:
            continue
        codes = list(r["procedure_codes"])
        preferred = (
            week.intervals(parse_weekly_hours(r["preferred_hours"]), range(first, last + 1))
            if r.get("preferred_hours")
            else []
        )
        requested_at = r.get("requested_at")
        waited = 0
        if isinstance(requested_at, datetime):
            waited = (now - requested_at.replace(tzinfo=requested_at.tzinfo or UTC)).days
        found.append(
            Request(
                request_id=r["request_id"],
                kind=r["kind"],
                patient_id=r["patient_id"],
                procedure_codes=codes,
                duration_min=r["duration_min"],
                production_cents=sum(procedures[c]["fee_cents"] for c in codes),
                eligible_provider_ids=[-1],  # replaced below, once providers are known
                hygienist_allowed=all(procedures[c]["hygienist_allowed"] for c in codes),
                windows=[Interval(start=first * DAY, end=(last + 1) * DAY)],
                preferred=preferred,
                urgency=min(3, max(0, int(r["urgency"]))),
                waited_days=max(0, waited),
                show_probability=show,
            )
        )
    return found


def build_instance(
    app: App,
    clinic_id: int,
    monday: date,
    *,
    policy: Policy | None = None,
    skip: frozenset[int] = frozenset(),
) -> tuple[Instance, Week]:
    """The clinic's week as an optimizer instance; requests in `skip` are left out."""
    clinic = next(
        c for c in practice_queries.list_clinics(app.uow(), SYSTEM) if c["clinic_id"] == clinic_id
    )
    week = Week(monday, clinic["timezone"])
    opening = week.intervals(parse_weekly_hours(clinic["opening_hours"]))
    providers = [
        Provider(
            provider_id=p["provider_id"],
            is_hygienist=p["kind"] == "hygienist",
            working=week.intervals(parse_weekly_hours(p["hours"][str(clinic_id)])),
        )
        for p in practice_queries.list_providers(app.uow(), SYSTEM)
        if str(clinic_id) in p["hours"]
    ]
    chairs = [
        Chair(chair_id=c["chair_id"])
        for c in practice_queries.list_chairs(app.uow(), SYSTEM, clinic_id=clinic_id)
    ]
    rows = [
        r
        for r in queries.clinic_schedule(
            app.uow(),
            SYSTEM,
            clinic_id=clinic_id,
            start_at=week.start_at(),
            end_at=week.start_at(7),
        )
        if r.status in ACTIVE
    ]
    risks = no_show_scores.risk_for(app.uow(), SYSTEM, [r.appointment_id for r in rows])
    carrying = {r.overbook_of_appointment_id for r in rows if r.overbook_of_appointment_id}
    appointments = [
        Appointment(
            appointment_id=r.appointment_id,
            provider_id=r.provider_id,
            chair_id=r.chair_id,
            patient_id=r.patient_id,
            start=week.minute(r.start_at),
            end=week.minute(r.end_at),
            show_probability=1
            - (
                risks[r.appointment_id].probability
                if r.appointment_id in risks
                else DEFAULT_NO_SHOW
            ),
            production_cents=r.fee_cents,
            is_overbook=r.is_overbook,
            has_overbook=r.appointment_id in carrying,
        )
        for r in rows
    ]
    scored = [r.probability for r in risks.values()]
    show = 1 - (sum(scored) / len(scored) if scored else DEFAULT_NO_SHOW)
    everyone = [p.provider_id for p in providers]
    now = app.clock()
    requests = [
        r.model_copy(
            update={
                "eligible_provider_ids": everyone,
                "windows": _from(r.windows, week.minute(now)),
            }
        )
        for r in _requests(app, clinic_id, week, show, now)
    ]
    requests = [r for r in requests if r.windows and r.request_id not in skip]
    instance = Instance(
        clinic_id=clinic_id,
        week_start_date=monday.isoformat(),
        opening=opening,
        providers=providers,
        chairs=chairs,
        appointments=appointments,
        requests=requests,
        policy=policy or Policy(),
    )
    return instance, week


def _suggestion(week: Week, p: Placement, plan_ref: str) -> SlotSuggestion:
    named = sorted(p.terms.items(), key=lambda kv: -abs(kv[1]))
    reasons = tuple(f"{LABELS[name]} {points:+d}" for name, points in named if points)[:6]
    return SlotSuggestion(
        request_id=p.request_id,
        provider_id=p.provider_id,
        chair_id=p.chair_id,
        start_at=week.at(p.start),
        end_at=week.at(p.end),
        score=float(p.score),
        reasons=reasons or ("the only free slot",),
        overbook_of_appointment_id=p.overbook_of,
        plan_ref=plan_ref,
    )


def plan_week(
    app: App,
    clinic_id: int,
    monday: date,
    *,
    policy: Policy | None = None,
    record: bool = True,
    skip: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """Plan the week and store one pending suggestion per placed request."""
    instance, week = build_instance(app, clinic_id, monday, policy=policy, skip=skip)
    result = plan(instance)
    problems = validate(instance, result.placements)
    if problems:
        raise RuntimeError(f"the plan breaks the rules: {problems[:3]}")
    ref = f"plan clinic {clinic_id} week {monday}"
    stored = [_suggestion(week, p, ref) for p in result.placements]
    ids = suggestions.record_suggestions(app.uow(), SYSTEM, stored) if record and stored else []
    return {
        "clinic_id": clinic_id,
        "week": monday.isoformat(),
        "requests": len(instance.requests),
        "appointments": len(instance.appointments),
        "placed": len(result.placements),
        "overbooks": sum(1 for p in result.placements if p.overbook_of is not None),
        "status": result.status,
        "objective": result.objective,
        "gap": result.gap,
        "seconds": round(result.seconds, 3),
        "terms": result.terms,
        "placed_request_ids": [p.request_id for p in result.placements],
        "suggestion_ids": ids,
    }


def plan_ahead(app: App, *, weeks: int = 2, policy: Policy | None = None) -> list[dict[str, Any]]:
    """The nightly step: plan this week and the next `weeks - 1` for every clinic. A request
    placed in an earlier week is left out of the later ones (storing a suggestion expires the
    request's earlier pending ones)."""
    summaries = []
    for clinic in practice_queries.list_clinics(app.uow(), SYSTEM):
        today = app.clock().astimezone(ZoneInfo(clinic["timezone"])).date()
        monday = today - timedelta(days=today.weekday())
        placed: set[int] = set()
        for k in range(weeks):
            summary = plan_week(
                app,
                clinic["clinic_id"],
                monday + timedelta(weeks=k),
                policy=policy,
                skip=frozenset(placed),
            )
            placed |= set(summary["placed_request_ids"])
            summaries.append(summary)
    return summaries


def suggest_for_request(
    app: App, request_id: int, *, k: int = 5, policy: Policy | None = None, record: bool = True
) -> dict[str, Any]:
    """The best k slots for one open request, in the first week of its window still ahead."""
    for clinic in practice_queries.list_clinics(app.uow(), SYSTEM):
        rows = open_requests.list_requests(app.uow(), SYSTEM, clinic["clinic_id"])
        found = next((r for r in rows if r["request_id"] == request_id), None)
        if found is not None:
            break
    else:
        raise LookupError(f"no open request {request_id}")
    today = app.clock().astimezone(ZoneInfo(clinic["timezone"])).date()
    first = max(found["earliest_date"], today)
    monday = first - timedelta(days=first.weekday())
    instance, week = build_instance(app, clinic["clinic_id"], monday, policy=policy)
    if all(r.request_id != request_id for r in instance.requests):
        return {"request_id": request_id, "week": monday.isoformat(), "suggestions": []}
    ranked = suggest(instance, request_id, k=k)
    ref = f"suggest request {request_id}"
    stored = [_suggestion(week, s.placement, ref) for s in ranked]
    ids = suggestions.record_suggestions(app.uow(), SYSTEM, stored) if record and stored else []
    return {
        "request_id": request_id,
        "week": monday.isoformat(),
        "suggestions": [
            {
                "rank": s.rank,
                "provider_id": s.placement.provider_id,
                "chair_id": s.placement.chair_id,
                "start_at": week.at(s.placement.start).isoformat(),
                "end_at": week.at(s.placement.end).isoformat(),
                "overbook_of": s.placement.overbook_of,
                "score": s.placement.score,
                "why": s.why,
            }
            for s in ranked
        ],
        "suggestion_ids": ids,
    }


def _from(windows: list[Interval], minute: int) -> list[Interval]:
    """The windows after `minute`: nothing is suggested in the past or for right now (a slot
    that has started is stale in the core)."""
    after = minute + 1
    return [Interval(start=max(w.start, after), end=w.end) for w in windows if w.end > after]
