"""`plan`: place a clinic-week of requests with CP-SAT.

One boolean per option (request x provider x chair x start, free or overbook). Constraints, one
function each: a request is placed at most once; on every provider, chair and patient, the
options covering any one start time are at most one (intervals overlap exactly when one holds
the other's start, so this is the no-overlap rule; existing appointments are kept out when the
options are made, and an overbook is the only option over its target); an appointment carries
at most one overbook; expected overtime per provider block within the policy's limit. The
objective is the sum of the options' named terms. Seeded, one worker by default; the time limit
stops the search, and a FEASIBLE answer is accepted with its gap to the proven bound.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from optimizer.instance import Instance
from optimizer.options import Option, all_options
from optimizer.solution import Placement, Plan
from optimizer.terms import TERM_NAMES

OVERTIME_SCALE = 100  # expected overtime in hundredths of a minute


def _at_most_one_per_request(
    model: cp_model.CpModel, options: list[Option], x: list[cp_model.IntVar]
) -> None:
    by_request: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(options):
        by_request[o.candidate.request_id].append(i)
    for idx in by_request.values():
        model.add_at_most_one(x[i] for i in idx)


def _no_overlap(
    model: cp_model.CpModel, instance: Instance, options: list[Option], x: list[cp_model.IntVar]
) -> None:
    patient = {r.request_id: r.patient_id for r in instance.requests}
    by_resource: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, o in enumerate(options):
        c = o.candidate
        by_resource[("provider", c.provider_id)].append(i)
        by_resource[("chair", c.chair_id)].append(i)
        who = patient[c.request_id]
        if who is not None:
            by_resource[("patient", who)].append(i)
    for idx in by_resource.values():
        starts = np.array([options[i].candidate.start for i in idx])
        ends = np.array([options[i].candidate.end for i in idx])
        for t in np.unique(starts):
            covering = np.flatnonzero((starts <= t) & (ends > t))
            if len(covering) > 1:
                model.add_at_most_one(x[idx[k]] for k in covering)


def _one_overbook_per_target(
    model: cp_model.CpModel, options: list[Option], x: list[cp_model.IntVar]
) -> None:
    by_target: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(options):
        if o.candidate.overbook_of is not None:
            by_target[o.candidate.overbook_of].append(i)
    for idx in by_target.values():
        model.add_at_most_one(x[i] for i in idx)


def _overtime_limit(
    model: cp_model.CpModel, instance: Instance, options: list[Option], x: list[cp_model.IntVar]
) -> None:
    by_block: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i, o in enumerate(options):
        minutes = round(o.cost.overtime_min * OVERTIME_SCALE)
        if minutes > 0:
            by_block[(o.candidate.provider_id, o.candidate.block_start)].append((i, minutes))
    limit = int(instance.policy.overtime_limit_min * OVERTIME_SCALE)
    for items in by_block.values():
        model.add(sum(m * x[i] for i, m in items) <= limit)


def plan(
    instance: Instance,
    *,
    allow_overbook: bool | None = None,
    name: str = "dentops",
    hint: list[Placement] | None = None,
) -> Plan:
    began = time.perf_counter()
    policy = instance.policy
    overbook = policy.allow_overbook if allow_overbook is None else allow_overbook
    options = all_options(instance, allow_overbook=overbook, include=hint)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"r{o.candidate.request_id}_{i}") for i, o in enumerate(options)]
    _at_most_one_per_request(model, options, x)
    _no_overlap(model, instance, options, x)
    _one_overbook_per_target(model, options, x)
    _overtime_limit(model, instance, options, x)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, [o.score for o in options]))
    if hint:
        chosen = {(p.request_id, p.provider_id, p.chair_id, p.start, p.overbook_of) for p in hint}
        for i, o in enumerate(options):
            c = o.candidate
            key = (c.request_id, c.provider_id, c.chair_id, c.start, c.overbook_of)
            model.add_hint(x[i], key in chosen)
    solver = cp_model.CpSolver()
    # the time limit covers the whole call: making the options counts against it
    spent = time.perf_counter() - began
    solver.parameters.max_time_in_seconds = max(0.5, policy.time_limit_s - spent)
    if policy.deterministic_time is not None:
        solver.parameters.max_deterministic_time = policy.deterministic_time
    solver.parameters.num_workers = policy.num_workers
    solver.parameters.random_seed = policy.random_seed
    # Probing and symmetry detection took the whole budget in presolve on a clinic-week
    # (300 requests, 18 000 options); without them the same model solves in about 3 s.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    solving = time.perf_counter()
    status = solver.solve(model)
    solve_s = time.perf_counter() - solving
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no plan: {solver.status_name(status)}")
    chosen_options = [o for i, o in enumerate(options) if solver.boolean_value(x[i])]
    placements = sorted((o.placement() for o in chosen_options), key=lambda p: p.request_id)
    objective = round(solver.objective_value)
    bound = round(solver.best_objective_bound)
    return Plan(
        policy_name=name,
        status=solver.status_name(status),
        placements=placements,
        objective=objective,
        bound=bound,
        gap=(bound - objective) / max(1, abs(bound)),
        seconds=time.perf_counter() - began,
        solve_s=solve_s,
        candidates=len(options),
        terms=total_terms(placements),
    )


def total_terms(placements: list[Placement]) -> dict[str, int]:
    return {name: sum(p.terms.get(name, 0) for p in placements) for name in TERM_NAMES}
