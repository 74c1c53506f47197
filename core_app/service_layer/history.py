"""Bulk loads of history (imports, the simulator): all or nothing, under the core's rules.

One transaction: patients, appointments (with procedures, events and charges for completed
visits) and payments (with refunds) are checked together against each other and against what
is stored; any problem refuses the whole load with every problem listed; otherwise the rows
are written in bulk (see `core_app.adapters.bulk`) and the load is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, func, select

from core_app.adapters import orm
from core_app.adapters.bulk import Writer, active_appointments_between
from core_app.adapters.db import plain_rows, references_checked_by_the_load
from core_app.domain import history as rules
from core_app.domain.appointment import BookingSource
from core_app.domain.exceptions import DomainError, ValidationError
from core_app.domain.history import HistoricPatient, HistoricPayment, HistoricVisit, Problem
from core_app.domain.patient import ContactPreference, check_patient_fields
from core_app.domain.practice import Procedure, ProviderKind, require_name
from core_app.domain.staff import Action, Actor
from core_app.service_layer.memory import gc_paused
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case


class HistoryRefused(ValidationError):
    """The load breaks the rules; `problems` lists every one, nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        first = "; ".join(f"{p.where}: {p.reason}" for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{len(problems)} problem(s), nothing written: {first}{more}")
        self.problems = problems


@dataclass(frozen=True)
class LoadReport:
    patient_ids: list[int]
    appointment_ids: list[int]
    payment_ids: list[int]
    charges: int
    refunds: int
    events: int


@dataclass
class _Context:
    currency: dict[int, str]
    provider_kind: dict[int, ProviderKind]
    provider_clinics: dict[int, set[int]]
    chair_clinic: dict[int, int]
    catalog: dict[tuple[int, str], Procedure]
    patient_clinic: dict[int, int]


def _context(uow: UnitOfWork) -> _Context:
    providers = uow.providers.list()
    session = uow.session
    return _Context(
        currency={c.clinic_id: c.currency for c in uow.clinics.list() if c.clinic_id},
        provider_kind={p.provider_id: p.kind for p in providers if p.provider_id},
        provider_clinics={
            p.provider_id: {h.clinic_id for h in p.working_hours}
            for p in providers
            if p.provider_id
        },
        chair_clinic={
            chair: clinic
            for chair, clinic in plain_rows(
                session.execute(select(orm.chairs.c.chair_id, orm.chairs.c.clinic_id))
            )
        },
        catalog={(p.clinic_id, p.code): p for p in session.scalars(select(Procedure))},
        patient_clinic={
            patient: clinic
            for patient, clinic in plain_rows(
                session.execute(select(orm.patients.c.patient_id, orm.patients.c.clinic_id))
            )
        },
    )


def _check_patients(patients: Sequence[HistoricPatient], ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    today = datetime.now(UTC).date()
    for index, p in enumerate(patients):
        where = rules.where_patient(index, p)
        if p.clinic_id not in ctx.currency:
            problems.append(Problem(where, f"clinic {p.clinic_id} does not exist"))
        try:
            require_name(p.first_name, "first name")
            require_name(p.last_name, "last name")
            ContactPreference(p.contact_preference)
            check_patient_fields(
                birth_date=date.fromisoformat(p.birth_date_iso),
                today=today,
                phone=p.phone,
                email=p.email,
                sex=p.sex,
                distance_km=p.distance_km,
            )
        except (DomainError, ValueError) as error:
            problems.append(Problem(where, str(error)))
    return problems


def _setting_reasons(v: HistoricVisit, ctx: _Context) -> tuple[list[str], list[str]]:
    """What is wrong with a visit's clinic, provider and chair, and with its procedures (the
    same for every visit with that setting, so `_check_visits` asks once per setting)."""
    if v.clinic_id not in ctx.currency:
        return [f"clinic {v.clinic_id} does not exist"], []
    head = []
    if v.clinic_id not in ctx.provider_clinics.get(v.provider_id, ()):
        head.append(f"provider {v.provider_id} does not work at clinic {v.clinic_id}")
    if ctx.chair_clinic.get(v.chair_id) != v.clinic_id:
        head.append(f"chair {v.chair_id} is not a chair of clinic {v.clinic_id}")
    tail = []
    for code in v.procedure_codes:
        procedure = ctx.catalog.get((v.clinic_id, code))
        if procedure is None:
            tail.append(f"procedure {code} is not in clinic {v.clinic_id}'s catalog")
        elif ctx.provider_kind.get(v.provider_id) is ProviderKind.HYGIENIST and not (
            procedure.hygienist_allowed
        ):
            tail.append(f"procedure {code} needs a dentist; provider {v.provider_id} is not")
    return head, tail


def _visit_reasons(
    v: HistoricVisit,
    patients: Sequence[HistoricPatient],
    ctx: _Context,
    setting: tuple[list[str], list[str]],
) -> list[str]:
    head, tail = setting
    if v.clinic_id not in ctx.currency:
        return head
    reasons = list(head)
    if v.patient_id is not None and ctx.patient_clinic.get(v.patient_id) != v.clinic_id:
        reasons.append(f"patient {v.patient_id} is not a patient of clinic {v.clinic_id}")
    if v.new_patient is not None and (
        not 0 <= v.new_patient < len(patients) or patients[v.new_patient].clinic_id != v.clinic_id
    ):
        reasons.append(f"new patient {v.new_patient} is not in this load for clinic {v.clinic_id}")
    return reasons + tail


def _check_visits(
    uow: UnitOfWork,
    visits: Sequence[HistoricVisit],
    patients: Sequence[HistoricPatient],
    ctx: _Context,
    writer: Writer,
) -> list[Problem]:
    problems: list[Problem] = []
    settings: dict[tuple[int, int, int, tuple[str, ...]], tuple[list[str], list[str]]] = {}
    # The same rules with arrays first: only when they find something does every visit go
    # through `check_visit` and `_visit_reasons`, to name each problem.
    fine = _visits_fine(visits, patients, ctx)
    for index, v in enumerate(() if fine else visits):
        key = (v.clinic_id, v.provider_id, v.chair_id, v.procedure_codes)
        setting = settings.get(key)
        if setting is None:
            setting = settings[key] = _setting_reasons(v, ctx)
        reasons = rules.check_visit(index, v) + _visit_reasons(v, patients, ctx, setting)
        if reasons:
            where = rules.where_visit(index, v)
            problems += [Problem(where, reason) for reason in reasons]
    if visits and not problems:
        existing = active_appointments_between(
            writer.connection,
            min(v.start_epoch for v in visits),
            max(v.end_epoch for v in visits),
            writer,
        )
        keys = [
            v.patient_id if v.patient_id is not None else -1 - (v.new_patient or 0) for v in visits
        ]
        # The exact same rule, checked with arrays first: only when it finds an overlap do the
        # domain's interval objects run, to name every clash.
        if not _free_of_overlaps(visits, keys, existing):
            problems += rules.check_overlaps(visits, keys, existing)
    return problems


#: epochs beyond this are not exact in float64: such loads take the record-by-record check
_EXACT_FLOAT = 2.0**53


def _columns(records: Sequence[Any]) -> Callable[..., list[list[Any]]]:
    """`column("a", "b")` -> the records' values of fields a and b, as lists."""

    def column(*names: str) -> list[list[Any]]:
        return [list(map(attrgetter(name), records)) for name in names]

    return column


def _visits_fine(
    visits: Sequence[HistoricVisit], patients: Sequence[HistoricPatient], ctx: _Context
) -> bool:
    """True only when neither `rules.check_visit` nor `_visit_reasons` (with its setting's
    reasons) has anything to say about any visit: the same rules, column by column. Anything
    unusual (fees given, values of unexpected types, unknown statuses) answers False, and the
    caller checks record by record as before, which names every problem."""
    import numpy as np  # imported here: only bulk loads need it

    n = len(visits)
    if n == 0:
        return True
    column = _columns(visits)
    clinic, provider, chair, codes = column(
        "clinic_id", "provider_id", "chair_id", "procedure_codes"
    )
    start_c, end_c, booked_c, status_c = column(
        "start_epoch", "end_epoch", "booked_epoch", "status"
    )
    patient, new_patient, fees, reason = column(
        "patient_id", "new_patient", "fees_cents", "cancel_reason"
    )
    times_c = column(
        "confirmed_epoch", "checked_in_epoch", "completed_epoch", "no_show_epoch", "cancelled_epoch"
    )
    try:
        if fees.count(None) != n or not set(status_c) <= rules.STATUSES:
            return False
        whole = {int, type(None)}  # not bool, float, str or numpy scalars: those go one by one
        if any(not set(map(type, c)) <= whole for c in (start_c, end_c, booked_c, *times_c)):
            return False
        # None -> NaN; whole seconds are exact in float64 below 2**53
        start, end, booked = (np.array(c, dtype=np.float64) for c in (start_c, end_c, booked_c))
        times = [np.array(c, dtype=np.float64) for c in times_c]
        for epochs in (start, end, booked, *times):
            known = epochs[~np.isnan(epochs)]
            if len(known) and np.abs(known).max() >= _EXACT_FLOAT:
                return False
        if np.isnan(start).any() or np.isnan(end).any() or np.isnan(booked).any():
            return False
        if np.any(end <= start) or np.any(booked > start):
            return False
        if np.any(end - start > rules.LONGEST_SECONDS):
            return False
        status = np.array(status_c)
        has_patient = np.array(patient, dtype=object) != None  # noqa: E711 - elementwise
        has_new = np.array(new_patient, dtype=object) != None  # noqa: E711 - elementwise
        if np.any(has_patient == has_new):
            return False
        distinct_codes = set(codes)
        if any(not c for c in distinct_codes):
            return False
        names = ("confirmed", "checked_in", "completed", "no_show", "cancelled")
        by_status = {s: status == s for s in rules.STATUSES}
        for name, value in zip(names, times, strict=True):
            present = ~np.isnan(value)
            needs = [m for s, m in by_status.items() if name in rules.needed_times(s)]
            allows = [m for s, m in by_status.items() if name in rules.allowed_times(s)]
            needed = np.logical_or.reduce(needs) if needs else np.zeros(n, dtype=np.bool_)
            allowed = np.logical_or.reduce(allows) if allows else np.zeros(n, dtype=np.bool_)
            if np.any(needed & ~present) or np.any(present & ~allowed):
                return False
            if np.any(present & (value < booked)):
                return False
        confirmed, _checked_in, completed, no_show, cancelled = times
        if np.any(confirmed >= start) or np.any(no_show < start) or np.any(completed < start):
            return False  # (NaN compares False: only times that are there count)
        if np.any(cancelled >= start):
            return False
        gone = by_status["cancelled"]
        if gone.any() and not all(
            (r or "").strip() for r in set(np.array(reason, dtype=object)[gone].tolist())
        ):
            return False
        # the setting (clinic, provider, chair, procedures) and the patient's clinic
        for key in set(zip(clinic, provider, chair, codes, strict=True)):
            head, tail = _setting_reasons(
                HistoricVisit(key[0], key[1], key[2], 0, 0, 0, "booked", key[3]), ctx
            )
            if head or tail:
                return False
        for pid, cid in set(zip(patient, clinic, strict=True)):
            if pid is not None and ctx.patient_clinic.get(pid) != cid:
                return False
        for new, cid in set(zip(new_patient, clinic, strict=True)):
            if new is not None and (not 0 <= new < len(patients) or patients[new].clinic_id != cid):
                return False
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _free_of_overlaps(
    visits: Sequence[HistoricVisit],
    patient_keys: Sequence[int],
    existing: Sequence[tuple[int, int, int, int, int, int]],
) -> bool:
    """True when no two active appointments (these visits and the stored ones) overlap on a
    provider, chair or patient: `rules.check_overlaps` would find nothing. Every interval has
    a positive length here (`check_visit` refused any other), so after sorting by resource and
    start, an overlap is a start before the latest end so far on the same resource."""
    import numpy as np  # imported here: only bulk loads need it

    active = [i for i, v in enumerate(visits) if v.status in rules.ACTIVE]
    n = len(active) + len(existing)
    if n < 2:
        return True
    start = np.fromiter(
        (*(visits[i].start_epoch for i in active), *(e[4] for e in existing)), np.int64, n
    )
    end = np.fromiter(
        (*(visits[i].end_epoch for i in active), *(e[5] for e in existing)), np.int64, n
    )
    resources = (
        ((visits[i].provider_id for i in active), (e[1] for e in existing)),
        ((visits[i].chair_id for i in active), (e[2] for e in existing)),
        ((patient_keys[i] for i in active), (e[3] for e in existing)),
    )
    keys = [np.fromiter((*mine, *stored), np.int64, n) for mine, stored in resources]
    return free_of_overlaps_arrays(start, end, keys)


def free_of_overlaps_arrays(start: Any, end: Any, resources: Sequence[Any]) -> bool:
    """`_free_of_overlaps` on int64 arrays: intervals [start, end) of positive length, and per
    resource (provider, chair, patient) the array of its keys."""
    import numpy as np  # imported here: only bulk loads need it

    n = len(start)
    if n < 2:
        return True
    lifted_end = end - end.min()
    span = int(lifted_end.max()) + 1
    for key in resources:
        order = np.lexsort((start, key))
        key_sorted = key[order]
        new_group = np.empty(n, dtype=np.bool_)
        new_group[0] = True
        new_group[1:] = key_sorted[1:] != key_sorted[:-1]
        group = np.cumsum(new_group)
        latest = np.maximum.accumulate(lifted_end[order] + group * span) - group * span
        if np.any(~new_group[1:] & (start[order][1:] - end.min() < latest[:-1])):
            return False
    return True


def _check_payments(
    payments: Sequence[HistoricPayment],
    visits: Sequence[HistoricVisit],
    patients: Sequence[HistoricPatient],
    ctx: _Context,
) -> list[Problem]:
    problems: list[Problem] = []
    for index, p in enumerate(payments):
        currency = ctx.currency.get(p.clinic_id)
        if currency is None:
            where = rules.where_payment(index, p)
            problems.append(Problem(where, f"clinic {p.clinic_id} does not exist"))
            continue
        reasons = rules.check_payment(index, p, currency)
        if p.patient_id is not None and ctx.patient_clinic.get(p.patient_id) != p.clinic_id:
            reasons.append(f"patient {p.patient_id} is not a patient of clinic {p.clinic_id}")
        if p.new_patient is not None and not 0 <= p.new_patient < len(patients):
            reasons.append(f"new patient {p.new_patient} is not in this load")
        if p.visit is not None:
            if not 0 <= p.visit < len(visits):
                reasons.append(f"visit {p.visit} is not in this load")
            elif (visits[p.visit].patient_id, visits[p.visit].new_patient) != (
                p.patient_id,
                p.new_patient,
            ):
                reasons.append(f"visit {p.visit} is another patient's")
        if reasons:
            where = rules.where_payment(index, p)
            problems += [Problem(where, reason) for reason in reasons]
    return problems


#: stored references asked for per query (within every database's bound-variable limit)
_REFS_PER_QUERY = 500


def _check_source_refs(
    uow: UnitOfWork,
    patients: Sequence[HistoricPatient],
    visits: Sequence[HistoricVisit],
    payments: Sequence[HistoricPayment],
) -> list[Problem]:
    """A source reference names one record: not twice in a load, not one stored already (a
    changed record is an update, which the importer makes through its own audited path)."""
    kinds: tuple[tuple[Table, list[str | None], Callable[[int], str]], ...] = (
        (
            orm.patients,
            [p.source_ref for p in patients],
            lambda i: rules.where_patient(i, patients[i]),
        ),
        (
            orm.appointments,
            [v.source_ref for v in visits],
            lambda i: rules.where_visit(i, visits[i]),
        ),
        (
            orm.payments,
            [p.source_ref for p in payments],
            lambda i: rules.where_payment(i, payments[i]),
        ),
    )
    problems: list[Problem] = []
    for table, refs, where in kinds:
        first: dict[str, int] = {}
        for index, ref in enumerate(refs):
            if ref is None:
                continue
            if ref in first:
                reason = f"source reference {ref!r} is also on {where(first[ref])}"
                problems.append(Problem(where(index), reason))
            else:
                first[ref] = index
        distinct = list(first)
        column = table.c.source_ref
        for lo in range(0, len(distinct), _REFS_PER_QUERY):
            chunk = distinct[lo : lo + _REFS_PER_QUERY]
            for ref in uow.session.scalars(select(column).where(column.in_(chunk))):
                reason = f"source reference {ref!r} is stored already"
                problems.append(Problem(where(first[ref]), reason))
    return problems


def stored_counts(uow: UnitOfWork) -> dict[str, int]:
    """How many patients, appointments and payments are stored (e.g. to refuse a second load
    of generated history into a database that has some already)."""
    with uow:
        return {
            table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (orm.patients, orm.appointments, orm.payments)
        }


def load_history(
    uow: UnitOfWork,
    actor: Actor,
    *,
    patients: Sequence[HistoricPatient] = (),
    visits: Sequence[HistoricVisit] = (),
    payments: Sequence[HistoricPayment] = (),
    source: BookingSource = BookingSource.IMPORT,
) -> LoadReport:
    """Check everything, then write everything, in one transaction."""
    clinic_ids = {v.clinic_id for v in visits} | {p.clinic_id for p in patients}
    return run_load(
        uow,
        actor,
        clinic_ids,
        lambda uow, writer, ctx: checked_write(
            uow, writer, ctx, patients, visits, payments, source
        ),
    )


def run_load(
    uow: UnitOfWork,
    actor: Actor,
    clinic_ids: Iterable[int],
    write: Callable[[UnitOfWork, Writer, _Context], LoadReport],
) -> LoadReport:
    """The use case of a bulk load: the actor may import into every clinic named, `write`
    checks and writes on one writer, every reference is checked before the commit, and the
    load is audited; all in one transaction (`load_history`, `load_history_columns`)."""

    def work(uow: UnitOfWork) -> LoadReport:
        actor.require(Action.IMPORT)
        for clinic_id in clinic_ids:
            actor.require(Action.IMPORT, clinic_id=clinic_id)
        ctx = _context(uow)
        writer = Writer(uow.session.connection())
        with gc_paused():
            try:
                report = write(uow, writer, ctx)
                writer.check_references()
            finally:
                writer.finish()
        audit_load(uow, actor, report)
        return report

    # on an exclusive SQLite engine, the writer checks every reference once, table by table,
    # instead of SQLite per inserted row (`Writer.check_references`)
    with references_checked_by_the_load():
        return run_use_case(
            uow, actor, action="history.load", entity_type="history", entity_id=None, work=work
        )


def checked_write(
    uow: UnitOfWork,
    writer: Writer,
    ctx: _Context,
    patients: Sequence[HistoricPatient],
    visits: Sequence[HistoricVisit],
    payments: Sequence[HistoricPayment],
    source: BookingSource,
) -> LoadReport:
    """Every rule on the records, then (when nothing is wrong) their rows; raises
    `HistoryRefused` with every problem otherwise."""
    problems = _check_patients(patients, ctx)
    problems += _check_visits(uow, visits, patients, ctx, writer)
    problems += _check_payments(payments, visits, patients, ctx)
    problems += _check_source_refs(uow, patients, visits, payments)
    if problems:
        raise HistoryRefused(problems)
    return _write(writer, patients, visits, payments, ctx, source)


def audit_load(uow: UnitOfWork, actor: Actor, report: LoadReport) -> None:
    """The load's audit entries: one per kind of record, with how many and their ids."""
    for kind, ids in (
        ("patient", report.patient_ids),
        ("appointment", report.appointment_ids),
        ("payment", report.payment_ids),
    ):
        if ids:
            uow.audit(
                actor,
                "history.load",
                kind,
                None,
                detail=f"{len(ids)} rows, ids {ids[0]}..{ids[-1]}",
            )


def _write(
    w: Writer,
    patients: Sequence[HistoricPatient],
    visits: Sequence[HistoricVisit],
    payments: Sequence[HistoricPayment],
    ctx: _Context,
    source: BookingSource,
) -> LoadReport:
    # Column-wise: timestamps are converted per column (`Writer.times`) and rows are zipped
    # together, which keeps a million visits to seconds of Python. Ids are reserved and the
    # catalog read before the first insert, and each table's rows are ready before the
    # previous table's indexes are built (in the background: see `Writer.wait`).
    patient_ids = w.reserve_ids(orm.patients, len(patients))
    appointment_ids = w.reserve_ids(orm.appointments, len(visits))
    payment_ids = w.reserve_ids(orm.payments, len(payments))
    # (procedure_id, code, category, duration, fee) per (clinic, code): plain tuples, since
    # reading attributes of mapped objects costs a microsecond each
    line_info = {
        key: (p.procedure_id, p.code, str(p.category), p.default_duration_min, p.fee_cents)
        for key, p in ctx.catalog.items()
    }
    active = w.flag(True)
    w.insert(
        orm.patients,
        [
            "patient_id",
            "clinic_id",
            "first_name",
            "last_name",
            "birth_date",
            "phone",
            "email",
            "notes",
            "sex",
            "distance_km",
            "has_insurance",
            "contact_preference",
            "is_active",
            "created_at",
            "source_ref",
        ],
        (
            (
                pid,
                p.clinic_id,
                w.encrypt(p.first_name.strip(), "patients.first_name"),
                w.encrypt(p.last_name.strip(), "patients.last_name"),
                w.encrypt(p.birth_date_iso, "patients.birth_date"),
                w.encrypt(p.phone, "patients.phone"),
                w.encrypt(p.email, "patients.email"),
                w.encrypt(p.notes, "patients.notes"),
                p.sex,
                p.distance_km,
                w.flag(p.has_insurance),
                p.contact_preference,
                active,
                created_at,
                p.source_ref,
            )
            for pid, p, created_at in zip(
                patient_ids, patients, w.times(p.created_epoch for p in patients), strict=True
            )
        ),
    )
    resolved = [
        v.patient_id if v.patient_id is not None else patient_ids[v.new_patient or 0]
        for v in visits
    ]
    starts = w.times(v.start_epoch for v in visits)
    ends = w.times(v.end_epoch for v in visits)
    booked = w.times(v.booked_epoch for v in visits)
    confirmed = w.times(v.confirmed_epoch for v in visits)
    checked_in = w.times(v.checked_in_epoch for v in visits)
    completed = w.times(v.completed_epoch for v in visits)
    no_show = w.times(v.no_show_epoch for v in visits)
    cancelled = w.times(v.cancelled_epoch for v in visits)
    late = [rules.is_late_cancel(v) for v in visits]
    flags = (w.flag(False), w.flag(True))
    currency = ctx.currency
    source_value = source.value
    w.insert(
        orm.appointments,
        [
            "appointment_id",
            "clinic_id",
            "patient_id",
            "provider_id",
            "chair_id",
            "start_at",
            "end_at",
            "status",
            "source",
            "currency",
            "booked_at",
            "confirmed_at",
            "checked_in_at",
            "completed_at",
            "no_show_at",
            "cancelled_at",
            "cancel_reason",
            "is_late_cancel",
            "reschedule_count",
            "source_ref",
        ],
        (
            (
                aid,
                v.clinic_id,
                pid,
                v.provider_id,
                v.chair_id,
                start_at,
                end_at,
                v.status,
                source_value,
                currency[v.clinic_id],
                booked_at,
                confirmed_at,
                checked_in_at,
                completed_at,
                no_show_at,
                cancelled_at,
                v.cancel_reason,
                flags[is_late],
                0,
                v.source_ref,
            )
            for (
                aid,
                pid,
                v,
                start_at,
                end_at,
                booked_at,
                confirmed_at,
                checked_in_at,
                completed_at,
                no_show_at,
                cancelled_at,
                is_late,
            ) in zip(
                appointment_ids,
                resolved,
                visits,
                starts,
                ends,
                booked,
                confirmed,
                checked_in,
                completed,
                no_show,
                cancelled,
                late,
                strict=True,
            )
        ),
    )
    lines: list[tuple[object, ...]] = []
    charges: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    add_line, add_charge, add_event = lines.append, charges.append, events.append
    lines_of: dict[tuple[int, tuple[str, ...]], tuple[list[Any], tuple[int, ...]]] = {}
    for (
        aid,
        pid,
        v,
        booked_at,
        confirmed_at,
        checked_in_at,
        completed_at,
        no_show_at,
        gone,
        lt,
    ) in zip(
        appointment_ids,
        resolved,
        visits,
        booked,
        confirmed,
        checked_in,
        completed,
        no_show,
        cancelled,
        late,
        strict=True,
    ):
        clinic = v.clinic_id
        setting = (clinic, v.procedure_codes)
        found = lines_of.get(setting)
        if found is None:  # a few hundred distinct code sets among a million visits
            infos = [line_info[(clinic, code)] for code in v.procedure_codes]
            found = lines_of[setting] = (infos, tuple(info[4] for info in infos))
        infos, catalog_fees = found
        fees = v.fees_cents or catalog_fees
        is_completed = v.status == "completed"
        for (procedure_id, code, category, minutes, _), fee in zip(infos, fees, strict=True):
            add_line((aid, procedure_id, code, category, minutes, fee))
            if is_completed:
                add_charge((clinic, pid, aid, code, fee, currency[clinic], completed_at))
        add_event((aid, "booked", booked_at))
        if confirmed_at is not None:
            add_event((aid, "confirmed", confirmed_at))
        if checked_in_at is not None:
            add_event((aid, "checked_in", checked_in_at))
        if completed_at is not None:
            add_event((aid, "completed", completed_at))
        if no_show_at is not None:
            add_event((aid, "no_show", no_show_at))
        if gone is not None:
            add_event((aid, "late_cancel" if lt else "cancelled", gone))
    payment_rows = [
        (
            pay_id,
            p.clinic_id,
            p.patient_id if p.patient_id is not None else patient_ids[p.new_patient or 0],
            appointment_ids[p.visit] if p.visit is not None else None,
            p.amount_cents,
            p.currency,
            p.method,
            received_at,
            p.reference,
            p.source_ref,
        )
        for pay_id, p, received_at in zip(
            payment_ids, payments, w.times(p.received_epoch for p in payments), strict=True
        )
    ]
    refunds = [
        (pay_id, r.amount_cents, w.at(r.refunded_epoch), r.reason)
        for pay_id, p in zip(payment_ids, payments, strict=True)
        for r in p.refunds
    ]
    w.insert(
        orm.appointment_procedures,
        ["appointment_id", "procedure_id", "code", "category", "duration_min", "fee_cents"],
        lines,
    )
    w.insert(orm.appointment_events, ["appointment_id", "event_type", "occurred_at"], events)
    w.insert(
        orm.charges,
        [
            "clinic_id",
            "patient_id",
            "appointment_id",
            "procedure_code",
            "amount_cents",
            "currency",
            "charged_at",
        ],
        charges,
    )
    w.insert(
        orm.payments,
        [
            "payment_id",
            "clinic_id",
            "patient_id",
            "appointment_id",
            "amount_cents",
            "currency",
            "method",
            "received_at",
            "reference",
            "source_ref",
        ],
        payment_rows,
    )
    w.insert(orm.refunds, ["payment_id", "amount_cents", "refunded_at", "reason"], refunds)
    return LoadReport(
        patient_ids, appointment_ids, payment_ids, len(charges), len(refunds), len(events)
    )
