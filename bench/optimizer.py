"""Schedule optimizer on a simulated clinic-week: plan time, gap, and realised outcomes of four
policies (first-fit, CP-SAT without overbooking, flat overbooking, dentops).

    python bench/optimizer.py                     # 8 chairs, 6 providers, 300 open requests
    python bench/optimizer.py --time-limit 10 --draws 200 --seed 7

One clinic is simulated (arrays only, no database: `simulator.generate.generate`) with
`--patients` patients and two spare chairs, which gives 3 dentists, 3 hygienists and 8 chairs;
the week planned is the first one after `--today` (a Monday). Existing appointments are the
active ones of that week; the requests are `--requests` of the clinic's open requests whose
window meets the week, drawn at random (seeded). The optimizer sees estimated show
probabilities (the truth with Normal(0, `--noise`) on the logit scale, standing in for the
no-show model's scores); the scoring draws outcomes from the true ones. The last line on stdout
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from typing import Any

import numpy as np

# This script is named like the package it measures; run as `python bench/optimizer.py`, its own
# folder would come first on the import path and shadow the package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

from optimizer.baselines import first_fit, flat_overbooking, uncapped
from optimizer.instance import Appointment, Chair, Instance, Interval, Policy, Provider, Request
from optimizer.model import plan
from optimizer.scoring import score
from optimizer.solution import Plan
from optimizer.suggest import suggest
from optimizer.validation import validate
from simulator import visit_types as vt
from simulator.future import REQUEST_KINDS
from simulator.generate import FEE, World, generate
from simulator.no_show import Features, probability
from simulator.params import CapacityParams, SimulationParams
from simulator.population import age_on

DAY = 1440


def log(message: str) -> None:
    print(f"optimizer-bench: {message}", file=sys.stderr, flush=True)


def _noisy(p: np.ndarray, rng: np.random.Generator, sd: float) -> np.ndarray:
    logit = np.log(p / (1 - p)) + rng.normal(0.0, sd, len(p))
    return np.asarray(1 / (1 + np.exp(-logit)))


def _week_minute(world: World, epoch: np.ndarray) -> np.ndarray:
    t = world.timeline
    day = t.day_of(epoch)
    return np.asarray((day - t.today_index) * DAY + (epoch - t.midnight[day]) // 60)


def _request_no_show(
    world: World, rng: np.random.Generator, patient: np.ndarray, vtype: np.ndarray
) -> np.ndarray:
    """True no-show probability of a visit booked now for the middle of the week (Wednesday
    11:00, 3.5 days ahead, one reminder); a new patient gets a random patient of the clinic's
    traits."""
    pop = world.population
    a = world.appointments
    clinic_patients = np.flatnonzero(world.registered & (pop.clinic == 0))
    who = np.where(patient >= 0, patient, rng.choice(clinic_patients, len(patient)))
    prior = np.zeros(len(pop), dtype=np.int64)
    order = np.argsort(a.start, kind="stable")
    prior[a.patient[order]] = a.prior_no_shows[order]  # the latest appointment's count
    features = Features(
        lead_days=np.full(len(who), 3.5),
        prior_no_shows=prior[who],
        age_years=age_on(pop, who, np.full(len(who), world.params.today.toordinal())) * 1.0,
        weekday=np.full(len(who), 2),
        local_hour=np.full(len(who), 11),
        category=vt.CATEGORY[vtype],
        reminders=np.ones(len(who), dtype=np.int64),
        distance_km=pop.distance_km[who],
        balance_owed=np.zeros(len(who), dtype=np.bool_),
        insured=pop.insured[who],
        latent=pop.latent[who],
    )
    return probability(world.params.no_show, features)


def build(args: argparse.Namespace) -> tuple[Instance, dict[int, float], dict[int, float]]:
    today = date.fromisoformat(args.today)
    world = generate(
        SimulationParams(
            clinics=1,
            years=1,
            patients=args.patients,
            seed=args.seed,
            today=today,
            future_weeks=3,
            capacity=CapacityParams(extra_chairs=2),
        )
    )
    rng = np.random.default_rng(args.seed)
    t, s = world.timeline, world.staffing
    first = t.today_index
    opening = [
        Interval(
            start=d * DAY + int(t.open_min[first + d]), end=d * DAY + int(t.close_min[first + d])
        )
        for d in range(7)
        if t.is_open[first + d]
    ]
    providers = [
        Provider(provider_id=int(p), is_hygienist=bool(s.provider_is_hygienist[p]), working=opening)
        for p in range(s.n_providers)
    ]
    chairs = [Chair(chair_id=int(c)) for c in range(int(s.chairs[0]))]
    a = world.appointments
    week = np.flatnonzero(
        (a.start >= t.midnight[first]) & (a.start < t.midnight[first + 7]) & (a.cancelled_at < 0)
    )
    true_show = 1 - a.no_show_probability[week]
    seen_show = _noisy(true_show, rng, args.noise)
    start = _week_minute(world, a.start[week])
    appointments = [
        Appointment(
            appointment_id=int(i),
            provider_id=int(a.provider[i]),
            chair_id=int(a.chair[i]),
            patient_id=int(a.patient[i]),
            start=int(start[k]),
            end=int(start[k] + (a.end[i] - a.start[i]) // 60),
            show_probability=float(seen_show[k]),
            production_cents=int(a.fee[i]),
        )
        for k, i in enumerate(week)
    ]
    r = world.requests
    meets = np.flatnonzero(
        (r.clinic == 0) & (r.earliest_day <= first + 6) & (r.latest_day >= first)
    )
    chosen = np.sort(rng.permutation(meets)[: args.requests])
    true_request_show = 1 - _request_no_show(world, rng, r.patient[chosen], r.vtype[chosen])
    seen_request_show = _noisy(true_request_show, rng, args.noise)
    dentists = [p.provider_id for p in providers if not p.is_hygienist]
    everyone = [p.provider_id for p in providers]
    requests = []
    for k, i in enumerate(chosen):
        vtype = int(r.vtype[i])
        needs_dentist = vt.WHO[vtype] == vt.DENTIST
        lo = max(int(r.earliest_day[i]) - first, 0)
        hi = min(int(r.latest_day[i]) - first, 6)
        mornings = bool(rng.random() < 0.5)
        preferred = (
            [
                Interval(
                    start=d * DAY + (0 if mornings else 12 * 60),
                    end=d * DAY + (12 * 60 if mornings else DAY),
                )
                for d in range(lo, hi + 1)
            ]
            if rng.random() < 0.5
            else []
        )
        kind = REQUEST_KINDS[int(r.kind[i])]
        requests.append(
            Request(
                request_id=int(i),
                kind=kind,
                patient_id=int(r.patient[i]) if r.patient[i] >= 0 else None,
                procedure_codes=list(vt.VISIT_TYPES[vtype].codes),
                duration_min=int(vt.MINUTES[vtype]),
                production_cents=int(FEE[vtype]),
                eligible_provider_ids=dentists if needs_dentist else everyone,
                hygienist_allowed=not needs_dentist,
                windows=[Interval(start=lo * DAY, end=(hi + 1) * DAY)],
                preferred=preferred,
                urgency=3 if vt.SAME_DAY[vtype] else (1 if kind == "new_patient" else 0),
                show_probability=float(seen_request_show[k]),
            )
        )
    policy = Policy(
        time_limit_s=args.time_limit,
        random_seed=args.seed,
        max_expected_overlap_min=args.overlap_cap,
        overtime_limit_min=args.overtime_limit,
        collision_gaps_filled=args.gaps_filled,
    )
    instance = Instance(
        clinic_id=0,
        week_start_date=today.isoformat(),
        opening=opening,
        providers=providers,
        chairs=chairs,
        appointments=appointments,
        requests=requests,
        policy=policy,
    )
    truth_a = {int(i): float(p) for i, p in zip(week, true_show, strict=True)}
    truth_r = {int(i): float(p) for i, p in zip(chosen, true_request_show, strict=True)}
    return instance, truth_a, truth_r


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5500)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--today", default="2026-06-01")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--overlap-cap", type=float, default=Policy().max_expected_overlap_min)
    parser.add_argument("--overtime-limit", type=float, default=Policy().overtime_limit_min)
    parser.add_argument(
        "--gaps-filled",
        action=argparse.BooleanOptionalAction,
        default=Policy().collision_gaps_filled,
        help="cost collisions as if later free time were booked",
    )
    args = parser.parse_args(argv)
    if date.fromisoformat(args.today).weekday() != 0:
        parser.error("--today must be a Monday")
    load_before = os.getloadavg()
    began = time.perf_counter()
    instance, truth_a, truth_r = build(args)
    log(
        f"instance: {len(instance.providers)} providers, {len(instance.chairs)} chairs, "
        f"{len(instance.appointments)} appointments, {len(instance.requests)} requests "
        f"({time.perf_counter() - began:.1f} s)"
    )
    plans: dict[str, Plan] = {}
    plans["first_fit"] = first_fit(instance)
    plans["no_overbooking"] = plan(
        instance, allow_overbook=False, name="no_overbooking", hint=plans["first_fit"].placements
    )
    plans["flat_overbooking"] = flat_overbooking(instance)
    plans["dentops"] = plan(instance, name="dentops", hint=plans["first_fit"].placements)
    policies: dict[str, Any] = {}
    for name, p in plans.items():
        rules = uncapped(instance.policy) if name == "flat_overbooking" else instance.policy
        problems = validate(instance, p.placements, policy=rules)
        if problems:
            raise SystemExit(f"{name}: invalid plan: {problems[:5]}")
        realised = score(
            instance,
            p,
            appointment_show=truth_a,
            request_show=truth_r,
            draws=args.draws,
            seed=args.seed,
        )
        policies[name] = {
            "utilization": round(realised.utilization, 4),
            "overtime_min": round(realised.overtime_min, 1),
            "wait_min": round(realised.wait_min, 1),
            "patients_seen": round(realised.patients_seen, 1),
            "production_cents": realised.production_cents,
            "placed": len(p.placements),
            "overbooks": sum(1 for x in p.placements if x.overbook_of is not None),
            "plan_s": round(p.seconds, 2),
            "solve_s": round(p.solve_s, 2),
            "status": p.status,
            "objective": p.objective,
        }
        log(f"{name}: {policies[name]}")
    suggest_s = []
    for request in instance.requests[:: max(1, len(instance.requests) // 20)]:
        began_suggest = time.perf_counter()
        suggestions = suggest(instance, request.request_id, k=5)
        suggest_s.append(time.perf_counter() - began_suggest)
        for s in suggestions:
            if validate(instance, [s.placement]):
                raise SystemExit(f"invalid suggestion for request {request.request_id}")
    log(f"suggest: {len(suggest_s)} requests, max {max(suggest_s):.3f} s")
    dentops = plans["dentops"]
    result = {
        "suggest_s_max": round(max(suggest_s), 3),
        "suggest_s_median": round(float(np.median(suggest_s)), 3),
        "suggest_requests": len(suggest_s),
        "plan_s": round(dentops.seconds, 2),
        "gap": round(dentops.gap or 0.0, 4),
        "status": dentops.status,
        "candidates": dentops.candidates,
        "terms": dentops.terms,
        "policies": policies,
        "utilization_gain_points": round(
            100 * (policies["dentops"]["utilization"] - policies["first_fit"]["utilization"]), 2
        ),
        "sizes": {
            "providers": len(instance.providers),
            "chairs": len(instance.chairs),
            "appointments": len(instance.appointments),
            "requests": len(instance.requests),
            "draws": args.draws,
        },
        "time_limit_s": args.time_limit,
        "overlap_cap_min": args.overlap_cap,
        "overtime_limit_min": args.overtime_limit,
        "collision_gaps_filled": args.gaps_filled,
        "noise": args.noise,
        "seed": args.seed,
        "today": args.today,
        "cpu_count": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
