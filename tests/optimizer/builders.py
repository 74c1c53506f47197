"""Small instances for the optimizer's tests: one Monday morning, 08:00-12:00 (minutes 480-720),
a dentist (1) and a hygienist (2), two chairs (10, 11)."""

from __future__ import annotations

from typing import Any

from optimizer.instance import Appointment, Chair, Instance, Interval, Policy, Provider, Request

OPEN, CLOSE = 8 * 60, 12 * 60
MORNING = Interval(start=OPEN, end=CLOSE)


def appointment(appointment_id: int, start: int, end: int, **kw: Any) -> Appointment:
    values: dict[str, Any] = {
        "provider_id": 1,
        "chair_id": 10,
        "patient_id": 1000 + appointment_id,
        "show_probability": 0.9,
        "production_cents": 10_000,
    }
    values.update(kw)
    return Appointment(appointment_id=appointment_id, start=start, end=end, **values)


def request(request_id: int, **kw: Any) -> Request:
    values: dict[str, Any] = {
        "kind": "waitlist",
        "patient_id": 500 + request_id,
        "duration_min": 60,
        "production_cents": 12_000,
        "eligible_provider_ids": [1, 2],
        "windows": [MORNING],
        "show_probability": 0.9,
    }
    values.update(kw)
    return Request(request_id=request_id, **values)


def instance(
    appointments: list[Appointment] | None = None,
    requests: list[Request] | None = None,
    providers: list[Provider] | None = None,
    chairs: list[int] | None = None,
    **policy: Any,
) -> Instance:
    settings: dict[str, Any] = {"time_limit_s": 5.0, "random_seed": 1, "num_workers": 1}
    settings.update(policy)
    return Instance(
        clinic_id=1,
        week_start_date="2026-06-01",
        opening=[MORNING],
        providers=providers
        or [
            Provider(provider_id=1, is_hygienist=False, working=[MORNING]),
            Provider(provider_id=2, is_hygienist=True, working=[MORNING]),
        ],
        chairs=[Chair(chair_id=c) for c in (chairs or [10, 11])],
        appointments=appointments or [],
        requests=requests or [request(1)],
        policy=Policy(**settings),
    )


def busy_morning(provider_id: int, chair_id: int, first_id: int, **kw: Any) -> list[Appointment]:
    """Four back-to-back hours on one provider and chair."""
    return [
        appointment(
            first_id + k,
            OPEN + 60 * k,
            OPEN + 60 * (k + 1),
            provider_id=provider_id,
            chair_id=chair_id,
            **kw,
        )
        for k in range(4)
    ]
