"""The optimizer's input: one clinic's week as a pydantic instance.

Times are whole minutes after Monday 00:00 clinic-local of the week being planned (0 .. 10 080),
so the model needs no time zones; the pipeline converts to and from UTC. Money is integer cents.
Every interval is half-open `[start, end)`, as in the core's booking rules.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

WEEK_MINUTES = 7 * 24 * 60


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(Frozen):
    """A half-open interval `[start, end)` in minutes of the week."""

    start: int = Field(ge=0, le=WEEK_MINUTES, description="first minute")
    end: int = Field(ge=0, le=WEEK_MINUTES, description="first minute after the interval")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")
        return self

    def contains(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


class Provider(Frozen):
    provider_id: int
    is_hygienist: bool = Field(description="hygienists may only take hygienist-allowed requests")
    working: list[Interval] = Field(description="working hours at this clinic in the week")


class Chair(Frozen):
    chair_id: int


class Appointment(Frozen):
    """An appointment already booked in the week (active: booked or confirmed)."""

    appointment_id: int
    provider_id: int
    chair_id: int
    patient_id: int | None = None
    start: int = Field(ge=0, le=WEEK_MINUTES)
    end: int = Field(ge=0, le=WEEK_MINUTES)
    show_probability: float = Field(ge=0.0, le=1.0, description="1 - no-show probability")
    production_cents: int = Field(ge=0, description="fees of its procedures")
    is_overbook: bool = Field(default=False, description="is itself an overbook of another")
    has_overbook: bool = Field(default=False, description="already carries an overbook")


class Request(Frozen):
    """Someone waiting for an appointment: waitlist, recall due or new patient."""

    request_id: int
    kind: str = Field(description="recall_due, waitlist or new_patient")
    patient_id: int | None = Field(default=None, description="none for a new patient")
    procedure_codes: list[str] = Field(default_factory=list)
    duration_min: int = Field(gt=0, le=480)
    production_cents: int = Field(ge=0)
    eligible_provider_ids: list[int] = Field(min_length=1)
    windows: list[Interval] = Field(min_length=1, description="when the patient can come")
    preferred: list[Interval] = Field(default_factory=list, description="when they would like to")
    urgency: int = Field(default=0, ge=0, le=3, description="0 routine .. 3 urgent")
    waited_days: int = Field(default=0, ge=0, description="days since the request was made")
    hygienist_allowed: bool = Field(default=True, description="false: needs a dentist")
    show_probability: float = Field(ge=0.0, le=1.0, description="estimated, from the scores")


class Weights(Frozen):
    """Points per unit of each objective term (the objective is their weighted sum)."""

    production_per_dollar: float = Field(default=1.0, ge=0)
    utilization_per_minute: float = Field(default=1.0, ge=0)
    preference: float = Field(default=20.0, ge=0, description="start inside a preferred window")
    urgency: float = Field(default=15.0, ge=0, description="per urgency level, earlier is more")
    waited_per_week: float = Field(default=5.0, ge=0, description="per week already waited")
    overtime_per_minute: float = Field(default=8.0, ge=0)
    waiting_per_minute: float = Field(default=2.0, ge=0)


class Policy(Frozen):
    grid_min: int = Field(default=15, gt=0, le=120, description="slots start on this grid")
    allow_overbook: bool = True
    max_expected_overlap_min: float = Field(
        default=10.0,
        ge=0,
        description="an overbook's P(both show) x overlapping minutes must stay below this",
    )
    overtime_limit_min: float = Field(
        default=15.0, ge=0, description="expected overtime minutes per provider and working block"
    )
    collision_gaps_filled: bool = Field(
        default=False,
        description="cost a collision as if the provider's later free time were booked too",
    )
    chair_options: int = Field(default=1, ge=1, description="chairs tried per provider and time")
    max_candidates_per_request: int = Field(
        default=10, ge=1, description="plan: the best options kept per request"
    )
    max_requests_per_slot: int = Field(
        default=3, ge=1, description="plan: the best requests kept per slot"
    )
    weights: Weights = Field(default_factory=Weights)
    time_limit_s: float = Field(default=10.0, gt=0)
    deterministic_time: float | None = Field(
        default=None, gt=0, description="solver work limit; set it for run-to-run identical plans"
    )
    random_seed: int = 0
    num_workers: int = Field(default=1, ge=1)


class Instance(Frozen):
    clinic_id: int
    week_start_date: str = Field(description="ISO date of the Monday whose 00:00 is minute 0")
    opening: list[Interval] = Field(description="the clinic's opening hours in the week")
    providers: list[Provider] = Field(min_length=1)
    chairs: list[Chair] = Field(min_length=1)
    appointments: list[Appointment] = Field(default_factory=list)
    requests: list[Request] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for what, ids in (
            ("provider", [p.provider_id for p in self.providers]),
            ("chair", [c.chair_id for c in self.chairs]),
            ("appointment", [a.appointment_id for a in self.appointments]),
            ("request", [r.request_id for r in self.requests]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{what} ids must be unique")
        providers = {p.provider_id for p in self.providers}
        chairs = {c.chair_id for c in self.chairs}
        for a in self.appointments:
            if a.end <= a.start or a.provider_id not in providers or a.chair_id not in chairs:
                raise ValueError(f"appointment {a.appointment_id}: bad interval, provider or chair")
        for r in self.requests:
            if not set(r.eligible_provider_ids) <= providers:
                raise ValueError(f"request {r.request_id} names an unknown provider")
        return self

    def provider(self, provider_id: int) -> Provider:
        return next(p for p in self.providers if p.provider_id == provider_id)

    def request(self, request_id: int) -> Request:
        return next(r for r in self.requests if r.request_id == request_id)
