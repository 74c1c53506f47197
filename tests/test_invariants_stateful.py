"""Stateful property test of the appointment and billing use cases on a real SQLite database.

A Hypothesis state machine drives random sequences of book / overbook / reschedule / confirm /
cancel / check-in / complete / no-show / pay / refund (plus fee changes, client retries with
idempotency keys, and a clock that only moves forward) through the real service layer, on a
fresh copy of a migrated database per example. Inputs are often invalid on purpose: overlapping
or touching slots, past times, closed hours, start times without a timezone, unknown or
hygienist-forbidden codes, wrong transitions, over-refunds, foreign currencies, reused
idempotency keys. A `DomainError` is an acceptable answer; any other exception fails the test.

Three kinds of checks:

* per call: an independent model of the rules predicts whether the call succeeds; a refusal
  must leave every table but `audit_entries` untouched and add exactly one `rejected` entry, a
  success must add `success` entries naming the record, an idempotent replay writes nothing;
* after every step (`@invariant`), by plain SQL on a separate read-only sqlite3 connection: no
  provider, chair or patient in two overlapping active appointments (half-open intervals; an
  overbook and its target aside), at most one active overbook per appointment, charges exactly
  mirror the procedure lines of completed appointments (and nothing else has charges), refunds
  never exceed their payment, payment and refund amounts are positive integers, balances from
  `patient_account` equal charges - payments + refunds, each `appointment_events` history is a
  legal walk of TRANSITIONS ending in the status column, the audit trail only grows (and by
  exactly what the calls account for);
* the model's appointments (status, slot, overbook link, procedure lines, moves) and payments
  (amounts, refunds) agree with the database row by row.

Failures print the shrunk sequence of rule calls; `what` strings in the assertion messages say
which call broke what. Runs in about 15 s (25 examples of up to 30 steps).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core_app.config import Settings
from core_app.domain.appointment import TRANSITIONS, AppointmentStatus
from core_app.domain.billing import PaymentMethod
from core_app.domain.catalog import DEFAULT_CATALOG
from core_app.domain.exceptions import DomainError
from core_app.domain.hours import parse_weekly_hours
from core_app.domain.practice import ProviderKind
from core_app.domain.staff import SYSTEM, Actor, Role
from core_app.service_layer import appointments as appts
from core_app.service_layer import billing, bootstrap, patients, users
from core_app.service_layer import practice as setup
from tests.conftest import ADMIN_PASSWORD, MONDAY_8AM, TZ, FrozenClock

T = TypeVar("T")
Row = tuple[Any, ...]

# --- the practice every example starts from -------------------------------------------------

CLINIC_HOURS = "mon-sat 08:00-18:00"
#: (hours, kind) of the three providers: Dr Ada, Dr Bo (shorter week), a hygienist
PROVIDERS: tuple[tuple[str, ProviderKind], ...] = (
    ("mon-sat 08:00-18:00", ProviderKind.DENTIST),
    ("mon-fri 08:00-16:00", ProviderKind.DENTIST),
    ("mon-sat 08:00-18:00", ProviderKind.HYGIENIST),
)
CHAIRS = 3
PATIENTS = 4
MISSING_ID = 999_999
RECHECK_EVERY = 10  # steps between balance reads of patients whose money did not move


@dataclass(frozen=True)
class PracticeTemplate:
    db_file: Path
    scratch: Path
    key_file: Path
    admin: Actor
    clinic_id: int
    provider_ids: tuple[int, ...]
    chair_ids: tuple[int, ...]
    patient_ids: tuple[int, ...]


def copy_database(source: Path, target: Path) -> None:
    """Copy a closed SQLite file (with its write-ahead log, should one be left)."""
    shutil.copy(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copy(wal, target.with_name(target.name + "-wal"))


@pytest.fixture(scope="module")
def practice_template(
    sqlite_template: Path, key_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> PracticeTemplate:
    """The migrated template plus a clinic, copied afresh for every Hypothesis example."""
    folder = tmp_path_factory.mktemp("stateful-practice")
    shutil.copy(sqlite_template, folder / "dentops.db")
    app = bootstrap.connect(
        Settings(data_dir=folder, key_file=key_file), clock=FrozenClock(MONDAY_8AM)
    )
    try:
        users.add_user(
            app.uow(), SYSTEM, username="admin", password=ADMIN_PASSWORD, role=Role.ADMIN
        )
        admin = users.actor_for(app.uow(), "admin")
        clinic_id = setup.create_clinic(
            app.uow(),
            admin,
            name="Main Street",
            timezone=str(TZ),
            currency="USD",
            country="US",
            hours=parse_weekly_hours(CLINIC_HOURS),
        )
        provider_ids = tuple(
            setup.add_provider(
                app.uow(),
                admin,
                name=f"Provider {n}",
                kind=kind,
                clinic_id=clinic_id,
                hours=parse_weekly_hours(hours),
            )
            for n, (hours, kind) in enumerate(PROVIDERS)
        )
        chair_ids = tuple(
            setup.add_chair(app.uow(), admin, clinic_id=clinic_id, name=f"Op {n}")
            for n in range(CHAIRS)
        )
        patient_ids = tuple(
            patients.add_patient(
                app.uow(),
                admin,
                clinic_id=clinic_id,
                first_name=f"Pat{n}",
                last_name="Stateful",
                birth_date=date(1970 + n, 1, 1),
            )
            for n in range(PATIENTS)
        )
    finally:
        app.close()
    return PracticeTemplate(
        db_file=folder / "dentops.db",
        scratch=tmp_path_factory.mktemp("stateful-runs"),
        key_file=key_file,
        admin=admin,
        clinic_id=clinic_id,
        provider_ids=provider_ids,
        chair_ids=chair_ids,
        patient_ids=patient_ids,
    )


# --- the model: an independent statement of the rules ---------------------------------------

ACTIVE = frozenset({"booked", "confirmed", "checked_in", "completed"})
ACTIVE_SQL = "('booked', 'confirmed', 'checked_in', 'completed')"
CATALOG = {entry.code: entry for entry in DEFAULT_CATALOG}
MAX_CENTS = 100_000_000_00
STAMP = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def covers(weekdays: range, opens: time, closes: time, start: datetime, end: datetime) -> bool:
    """Whether clinic-local [start, end) lies within one day's opening block."""
    first, last = start.astimezone(TZ), end.astimezone(TZ)
    return (
        first.date() == last.date()
        and first.weekday() in weekdays
        and opens <= first.time()
        and last.time() <= closes
    )


CLINIC_OPEN = (range(6), time(8), time(18))
PROVIDER_HOURS = (
    (range(6), time(8), time(18)),
    (range(5), time(8), time(16)),
    (range(6), time(8), time(18)),
)


@dataclass
class ModelAppointment:
    patient_id: int
    provider: int  # index into PROVIDERS
    chair_id: int
    start_at: datetime
    end_at: datetime
    lines: list[tuple[str, int]]
    overbook_of: int | None
    status: str = "booked"
    late_cancel: bool = False
    #: the slot left behind by each reschedule: (start, end, provider index, chair id)
    moves: list[tuple[datetime, datetime, int, int]] = field(default_factory=list)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start_at < end and start < self.end_at


@dataclass
class ModelPayment:
    patient_id: int
    amount_cents: int
    refunds: list[int] = field(default_factory=list)

    @property
    def refundable(self) -> int:
        return self.amount_cents - sum(self.refunds)


# --- strategies -----------------------------------------------------------------------------


def mostly(common: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`rare` about one draw in ten: each kind of invalid input stays frequent enough to be
    tried in every run, without drowning the valid calls whose effects the invariants watch."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 9 else common)


#: procedure plans: D0274, D1110 and D1206 are hygienist work, D0120 and D2140 need a dentist
PLANS = [
    ["D1110"],
    ["D0274"],
    [" d1206 ", "D0274"],
    ["D0120"],
    ["D2140", "D0274"],
    ["D1110", "D1206"],
]
codes_st = mostly(
    st.sampled_from(PLANS),
    st.sampled_from([[], ["D9999"], ["D1110", "D9999"], ["D0120", "D0120"]]),
)
patient_st = st.integers(0, PATIENTS - 1)
provider_st = st.integers(0, len(PROVIDERS) - 1)
chair_st = st.integers(0, CHAIRS - 1)
days_ahead_st = st.integers(0, 2)
#: start times in quarter hours after midnight: a coarse grid (so bookings collide often) that
#: straddles opening (08:00), Dr Bo's end of day (16:00) and closing (18:00)
quarter_st = st.sampled_from([31, 32, 33, 36, 37, 38, 40, 62, 63, 70, 71])
end_after_st = mostly(st.none(), st.sampled_from([-15, 0, 10, 45, 90, 540]))
reason_st = mostly(st.just("patient called"), st.just("  "))
amount_st = mostly(st.integers(1, 40_000), st.sampled_from([-100, 0, MAX_CENTS + 1]))
currency_st = mostly(st.just("USD"), st.just("EUR"))
reference_st = mostly(st.sampled_from([None, "receipt 17"]), st.just("r" * 201))
#: idempotency keys, shared by bookings and payments (a key reused across commands conflicts)
KEYS = ["idem-key-0001", "idem-key-0002"]
key_st = mostly(st.sampled_from([None, None, *KEYS]), st.just("short"))
book_key_st = mostly(st.none(), st.sampled_from([*KEYS, "short"]))
#: how a start time is written: as UTC, as clinic-local time, or (invalid) without a zone
zone_st = mostly(st.sampled_from(["utc", "local"]), st.just("naive"))
refund_st = mostly(st.sampled_from(["one", "half", "all"]), st.sampled_from(["more", "zero", "-"]))


def written(moment: datetime, zone: str) -> datetime:
    """`moment` as a caller might pass it: in UTC, in clinic-local time, or naive local time."""
    if zone == "utc":
        return moment
    local = moment.astimezone(TZ)
    return local.replace(tzinfo=None) if zone == "naive" else local


def done_when(call: Callable[[], None]) -> Callable[[], bool]:
    """A call that returns nothing, made to return True when it succeeds."""

    def run() -> bool:
        call()
        return True

    return run


class DentopsMachine(RuleBasedStateMachine):
    template: ClassVar[PracticeTemplate]

    appointments = Bundle("appointments")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[int, ModelAppointment] = {}
        self.payment_model: dict[int, ModelPayment] = {}
        self.keys: dict[str, tuple[tuple[object, ...], int]] = {}  # key -> (content, result)
        self.last_keyed: dict[str, dict[str, Any]] = {}  # "book"/"pay" -> last keyed request
        self.fees = {code: entry.fee_cents for code, entry in CATALOG.items()}
        self.audit_count = 0
        self.steps = 0
        self.verified: dict[int, Row] = {}  # patient -> (charged, paid, refunded) last verified
        self.folder: Path | None = None
        self.sql: sqlite3.Connection | None = None
        self.app: bootstrap.App | None = None

    # -- plumbing ---------------------------------------------------------------------------

    @initialize(target=appointments)
    def open_practice(self) -> Any:
        """A fresh copy of the practice, and a few appointments to work on: tomorrow 09:00 Dr Ada
        (overbooked) and the hygienist; the day after, a confirmed visit with Dr Bo."""
        t = self.template
        self.folder = Path(tempfile.mkdtemp(dir=t.scratch))
        copy_database(t.db_file, self.folder / "dentops.db")
        self.clock = FrozenClock(MONDAY_8AM)
        self.app = bootstrap.connect(
            Settings(data_dir=self.folder, key_file=t.key_file), clock=self.clock
        )
        uri = f"file:{self.folder / 'dentops.db'}?mode=ro"
        self.sql = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.admin = t.admin
        self.audit_count = self._audit_total()
        tomorrow_9am = self._at(1, 36)
        seeds: list[Any] = []
        for patient, provider, chair, start, codes, overbook_of in (
            (0, 0, 0, tomorrow_9am, ["D1110"], None),  # Dr Ada, an hour
            (2, 2, 2, tomorrow_9am, ["D1110"], None),  # the hygienist, an hour
            (1, 0, 1, tomorrow_9am, ["D0274"], 0),  # overbooks Dr Ada's first 15 minutes
            (3, 1, 1, self._at(2, 40), ["D0120"], None),  # Dr Bo, the day after; confirmed
        ):
            seeds.append(
                self._book(
                    via="seed",
                    patient=patient,
                    provider=provider,
                    chair=chair,
                    start=start,
                    codes=codes,
                    end=None,
                    overbook_of=None if overbook_of is None else seeds[overbook_of],
                )
            )
        assert all(isinstance(aid, int) for aid in seeds), f"seed bookings refused: {seeds}"
        self._confirm(seeds[-1])
        assert self.model[seeds[-1]].status == "confirmed"
        return multiple(*seeds)

    def teardown(self) -> None:
        if self.sql is not None:
            self.sql.close()
        if self.app is not None:
            self.app.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _q(self, sql: str, params: tuple[object, ...] = ()) -> list[Row]:
        assert self.sql is not None
        return list(self.sql.execute(sql, params).fetchall())

    def _audit_total(self) -> int:
        return int(self._q("SELECT COUNT(*) FROM audit_entries")[0][0])

    def _snapshot(self) -> dict[str, list[Row]]:
        """Every row of every table but the audit trail (compared around refused calls)."""
        names = [
            row[0]
            for row in self._q("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if row[0] not in ("audit_entries", "sqlite_sequence")
        ]
        return {name: self._q(f'SELECT * FROM "{name}" ORDER BY 1') for name in names}  # noqa: S608

    def _uow(self) -> Any:
        assert self.app is not None
        return self.app.uow()

    def _run(
        self,
        what: str,
        call: Callable[[], T],
        *,
        expect_ok: bool,
        action: str,
        success_action: str | None = None,
        entity_id: int | None = None,
        replay: bool = False,
    ) -> T | None:
        """Call the service; check the outcome against the model, the audit trail and atomicity.

        `action` is the use case's audit action (a refusal is audited under it); a success
        leaves `success_action` (default: `action`) naming `entity_id` (None: the id the call
        returns). `replay`: an idempotent replay writes nothing.
        """
        before = self._snapshot()
        last_audit = int(self._q("SELECT COALESCE(MAX(audit_id), 0) FROM audit_entries")[0][0])
        try:
            result = call()
        except DomainError as error:
            new = self._q(
                "SELECT action, outcome, detail FROM audit_entries WHERE audit_id > ?",
                (last_audit,),
            )
            assert new == [(action, "rejected", error.code)], f"{what}: refusal audit {new}"
            self.audit_count += 1
            assert self._snapshot() == before, f"{what}: refused ({error!r}) but wrote data"
            event(f"{action}: refused ({error.code})")  # see --hypothesis-show-statistics
            assert expect_ok is False, (
                f"{what}: refused with {type(error).__name__}: {error}; the model expected success"
            )
            return None
        assert expect_ok is True, f"{what}: succeeded ({result!r}); the model expected a refusal"
        new = self._q(
            "SELECT action, outcome, entity_id FROM audit_entries WHERE audit_id > ?", (last_audit,)
        )
        done = success_action or action
        event(f"{done}: {'replayed' if replay else 'done'}")
        if replay:
            assert new == [], f"{what}: an idempotent replay wrote audit entries {new}"
            assert self._snapshot() == before, f"{what}: an idempotent replay wrote data"
            return result
        named = str(result if entity_id is None else entity_id)
        assert new, f"{what}: succeeded without an audit entry"
        assert all(outcome == "success" for _, outcome, _ in new), f"{what}: audit {new}"
        assert (done, "success", named) in new, f"{what}: no {done} entry for {named}: {new}"
        self.audit_count += len(new)
        return result

    # -- time ---------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock()

    def _at(self, days_ahead: int, quarter: int) -> datetime:
        """Clinic-local `quarter` (quarter hours after midnight), `days_ahead` after today."""
        today = self._now().astimezone(TZ).date() + timedelta(days=days_ahead)
        moment = datetime.combine(today, time(quarter // 4, quarter % 4 * 15), tzinfo=TZ)
        return moment.astimezone(UTC)

    def _move_clock_to(self, moment: datetime) -> None:
        """The clock only moves forward."""
        if moment > self._now():
            self.clock.now = moment

    # -- the model's predictions ---------------------------------------------------------------

    def _pid(self, index: int) -> int:
        return self.template.provider_ids[index]

    def _provider_index(self, provider_id: int) -> int:
        return self.template.provider_ids.index(provider_id)

    def _hygienist_blocked(self, provider: int, codes: list[str]) -> bool:
        return PROVIDERS[provider][1] is ProviderKind.HYGIENIST and any(
            not CATALOG[code].hygienist_allowed for code in codes
        )

    def _slot_ok(
        self,
        *,
        provider: int,
        chair_id: int,
        patient_id: int,
        start: datetime,
        end: datetime,
        ignore: set[int],
    ) -> bool:
        """The slot rules shared by booking and rescheduling (duration checked by callers)."""
        if end <= start or end - start > timedelta(hours=8) or start < self._now():
            return False
        if not covers(*CLINIC_OPEN, start, end) or not covers(
            *PROVIDER_HOURS[provider], start, end
        ):
            return False
        return not any(
            m.status in ACTIVE
            and m.overlaps(start, end)
            and (m.provider == provider or m.chair_id == chair_id or m.patient_id == patient_id)
            for aid, m in self.model.items()
            if aid not in ignore
        )

    def _has_active_overbook(self, aid: int) -> bool:
        return any(m.overbook_of == aid and m.status in ACTIVE for m in self.model.values())

    def _keyed(
        self, key: str | None, content: tuple[object, ...], *, valid: bool
    ) -> tuple[bool, bool]:
        """(expected success, is a replay) of a request carrying idempotency `key`."""
        if key is None:
            return valid, False
        if len(key) < 8:
            return False, False
        if key in self.keys:
            same = self.keys[key][0] == content
            return same, same
        return valid, False

    # -- booking -------------------------------------------------------------------------------

    def _book(
        self,
        *,
        patient: int,
        provider: int,
        chair: int,
        start: datetime,
        codes: list[str],
        end: datetime | None,
        via: str,
        overbook_of: int | None = None,
        zone: str = "utc",
        key: str | None = None,
    ) -> Any:
        if key is not None:
            self.last_keyed["book"] = dict(
                patient=patient,
                provider=provider,
                chair=chair,
                start=start,
                codes=codes,
                end=end,
                overbook_of=overbook_of,
                zone=zone,
                key=key,
            )
        patient_id, chair_id = self.template.patient_ids[patient], self.template.chair_ids[chair]
        wanted = [code.strip().upper() for code in codes]
        known = all(code in CATALOG for code in wanted)
        unique = list(dict.fromkeys(wanted))  # the service books a repeated code once
        minutes = sum(CATALOG[c].duration_min for c in unique) if known else 0
        end_at = end if end is not None else start + timedelta(minutes=minutes)
        ok = (
            zone != "naive"
            and known
            and bool(unique)
            and not self._hygienist_blocked(provider, unique)
            and end_at - start >= timedelta(minutes=minutes)
            and self._slot_ok(
                provider=provider,
                chair_id=chair_id,
                patient_id=patient_id,
                start=start,
                end=end_at,
                ignore={overbook_of} if overbook_of is not None else set(),
            )
        )
        if overbook_of is not None:
            target = self.model.get(overbook_of)
            ok = ok and (
                target is not None
                and target.status in ACTIVE - {"completed"}
                and target.overbook_of is None
                and not self._has_active_overbook(overbook_of)
                and (target.provider == provider or target.chair_id == chair_id)
                and target.overlaps(start, end_at)
            )
        start_as, end_as = written(start, zone), None if end is None else written(end, zone)
        content = (
            "appointment.book",
            patient_id,
            provider,
            chair_id,
            start,
            end,  # instants, however they were written
            tuple(wanted),
            overbook_of,
        )
        ok, replay = self._keyed(key, content, valid=ok)
        if zone == "naive":  # refused before the idempotency key is even looked at
            ok, replay = False, False
        what = (
            f"{via}: {patient=} {provider=} {chair=} {start:%a %H:%M}Z ({zone}) {wanted} "
            f"{overbook_of=} {key=}"
        )
        aid = self._run(
            what,
            lambda: appts.book_appointment(
                self._uow(),
                self.admin,
                patient_id=patient_id,
                provider_id=self._pid(provider),
                chair_id=chair_id,
                start_at=start_as,
                procedure_codes=codes,
                end_at=end_as,
                overbook_of=overbook_of,
                idempotency_key=key,
            ),
            expect_ok=ok,
            action="appointment.book",
            success_action="appointment.overbook" if overbook_of is not None else None,
            replay=replay,
        )
        if aid is None or replay:
            assert not replay or (key is not None and aid == self.keys[key][1]), "replay id"
            return multiple()
        if key is not None:
            self.keys[key] = (content, aid)
        self.model[aid] = ModelAppointment(
            patient_id=patient_id,
            provider=provider,
            chair_id=chair_id,
            start_at=start,
            end_at=end_at,
            lines=[(code, self.fees[code]) for code in unique],
            overbook_of=overbook_of,
        )
        return aid

    @rule(
        target=appointments,
        patient=patient_st,
        provider=provider_st,
        chair=chair_st,
        days_ahead=days_ahead_st,
        quarter=quarter_st,
        codes=codes_st,
        end_after=end_after_st,
        zone=zone_st,
        key=book_key_st,
    )
    def book(
        self,
        patient: int,
        provider: int,
        chair: int,
        days_ahead: int,
        quarter: int,
        codes: list[str],
        end_after: int | None,
        zone: str,
        key: str | None,
    ) -> Any:
        start = self._at(days_ahead, quarter)
        end = None if end_after is None else start + timedelta(minutes=end_after)
        return self._book(
            via="book",
            patient=patient,
            provider=provider,
            chair=chair,
            start=start,
            codes=codes,
            end=end,
            zone=zone,
            key=key,
        )

    @rule(
        target=appointments,
        anchor=appointments,
        patient=patient_st,
        provider=provider_st,
        chair=chair_st,
        share=st.sampled_from(["provider", "chair", "patient", "nothing"]),
        where=st.sampled_from(["at_end", "before", "same", "-15", "+15"]),
        codes=codes_st,
    )
    def book_next_to(
        self,
        anchor: int,
        patient: int,
        provider: int,
        chair: int,
        share: str,
        where: str,
        codes: list[str],
    ) -> Any:
        """Book right after, right before or over an existing appointment, mostly sharing its
        provider, chair or patient: the half-open interval boundaries."""
        a = self.model[anchor]
        if share == "provider":
            provider = a.provider
        elif share == "chair":
            chair = self.template.chair_ids.index(a.chair_id)
        elif share == "patient":
            patient = self.template.patient_ids.index(a.patient_id)
        start, end = {
            "at_end": (a.end_at, None),
            "before": (a.start_at - timedelta(minutes=60), a.start_at),
            "same": (a.start_at, None),
            "-15": (a.start_at - timedelta(minutes=15), None),
            "+15": (a.start_at + timedelta(minutes=15), None),
        }[where]
        return self._book(
            via="book_next_to",
            patient=patient,
            provider=provider,
            chair=chair,
            start=start,
            codes=codes,
            end=end,
        )

    @rule(
        target=appointments,
        of=appointments,
        patient=patient_st,
        share=mostly(st.sampled_from(["provider", "chair", "both"]), st.just("neither")),
        other_provider=provider_st,
        other_chair=chair_st,
        offset=mostly(st.sampled_from([-15, 0, 15]), st.sampled_from([-60, 45])),
        codes=codes_st,
    )
    def overbook(
        self,
        of: int,
        patient: int,
        share: str,
        other_provider: int,
        other_chair: int,
        offset: int,
        codes: list[str],
    ) -> Any:
        target = self.model[of]
        provider = target.provider if share in ("provider", "both") else other_provider
        chair = (
            self.template.chair_ids.index(target.chair_id)
            if share in ("chair", "both")
            else other_chair
        )
        return self._book(
            via="overbook",
            patient=patient,
            provider=provider,
            chair=chair,
            start=target.start_at + timedelta(minutes=offset),
            codes=codes,
            end=None,
            overbook_of=of,
        )

    @rule(
        aid=appointments,
        days_ahead=days_ahead_st,
        quarter=quarter_st,
        provider=st.one_of(st.none(), provider_st),
        chair=st.one_of(st.none(), chair_st),
        reason=st.sampled_from([None, "patient asked"]),
        zone=zone_st,
    )
    def reschedule(
        self,
        aid: int,
        days_ahead: int,
        quarter: int,
        provider: int | None,
        chair: int | None,
        reason: str | None,
        zone: str,
    ) -> None:
        m = self.model[aid]
        start = self._at(days_ahead, quarter)
        end = start + (m.end_at - m.start_at)
        new_provider = m.provider if provider is None else provider
        new_chair = m.chair_id if chair is None else self.template.chair_ids[chair]
        ok = (
            zone != "naive"
            and m.status in ("booked", "confirmed")
            and self._now() < m.start_at
            and m.overbook_of is None
            and not self._has_active_overbook(aid)
            and not self._hygienist_blocked(new_provider, [code for code, _ in m.lines])
            and self._slot_ok(
                provider=new_provider,
                chair_id=new_chair,
                patient_id=m.patient_id,
                start=start,
                end=end,
                ignore={aid},
            )
        )
        done = self._run(
            f"reschedule {aid} ({m.status}) to {start:%a %H:%M}Z ({zone}) {provider=} {chair=}",
            done_when(
                lambda: appts.reschedule_appointment(
                    self._uow(),
                    self.admin,
                    aid,
                    start_at=written(start, zone),
                    provider_id=None if provider is None else self._pid(provider),
                    chair_id=None if chair is None else self.template.chair_ids[chair],
                    reason=reason,
                )
            ),
            expect_ok=ok,
            action="appointment.reschedule",
            entity_id=aid,
        )
        if done:
            m.moves.append((m.start_at, m.end_at, m.provider, m.chair_id))
            m.start_at, m.end_at, m.provider, m.chair_id = start, end, new_provider, new_chair
            m.status = "booked"

    # -- status changes ------------------------------------------------------------------------

    def _transition(
        self, aid: int, name: str, call: Callable[[], None], *, ok: bool, status: str
    ) -> bool:
        m = self.model[aid]
        done = self._run(
            f"{name} {aid} ({m.status}, {m.start_at:%a %H:%M}Z, now {self._now():%a %H:%M}Z)",
            done_when(call),
            expect_ok=ok,
            action=f"appointment.{name}",
            entity_id=aid,
        )
        if done:
            m.status = status
        return bool(done)

    def _confirm(self, aid: int) -> None:
        m = self.model[aid]
        self._transition(
            aid,
            "confirm",
            lambda: appts.confirm_appointment(self._uow(), self.admin, aid),
            ok=m.status == "booked" and self._now() < m.start_at,
            status="confirmed",
        )

    def _cancel(self, aid: int, reason: str) -> None:
        m, now = self.model[aid], self._now()
        done = self._transition(
            aid,
            "cancel",
            lambda: appts.cancel_appointment(self._uow(), self.admin, aid, reason=reason),
            ok=m.status in ("booked", "confirmed") and now < m.start_at and bool(reason.strip()),
            status="cancelled",
        )
        if done:
            m.late_cancel = m.start_at - now < timedelta(hours=24)

    def _check_in(self, aid: int) -> None:
        m, now = self.model[aid], self._now()
        same_day = now.astimezone(TZ).date() == m.start_at.astimezone(TZ).date()
        self._transition(
            aid,
            "check_in",
            lambda: appts.check_in_appointment(self._uow(), self.admin, aid),
            ok=m.status in ("booked", "confirmed") and same_day and now < m.end_at,
            status="checked_in",
        )

    def _complete(self, aid: int) -> None:
        m = self.model[aid]
        self._transition(
            aid,
            "complete",
            lambda: appts.complete_appointment(self._uow(), self.admin, aid),
            ok=m.status == "checked_in" and self._now() >= m.start_at,
            status="completed",
        )

    def _no_show(self, aid: int) -> None:
        m = self.model[aid]
        self._transition(
            aid,
            "no_show",
            lambda: appts.mark_no_show(self._uow(), self.admin, aid),
            ok=m.status in ("booked", "confirmed") and self._now() >= m.start_at,
            status="no_show",
        )

    @rule(aid=appointments)
    def confirm(self, aid: int) -> None:
        self._confirm(aid)

    @rule(aid=appointments)
    def check_in(self, aid: int) -> None:
        self._check_in(aid)

    @rule(aid=appointments)
    def complete(self, aid: int) -> None:
        self._complete(aid)

    @rule(aid=appointments)
    def no_show(self, aid: int) -> None:
        self._no_show(aid)

    @rule(aid=appointments, reason=reason_st)
    def cancel(self, aid: int, reason: str) -> None:
        self._cancel(aid, reason)

    @rule()
    def front_desk_round(self) -> None:
        """Half an hour at the front desk: each appointment gets its natural next step (confirm
        the coming ones, check in, complete, mark no-shows), then the clock moves on. This is
        also what Hypothesis' simplest example (always the first rule) repeats."""
        for aid, m in sorted(self.model.items()):
            now = self._now()
            if m.status == "booked" and now + timedelta(hours=2) < m.start_at:
                self._confirm(aid)
            elif m.status in ("booked", "confirmed") and now >= m.end_at:
                self._no_show(aid)
            elif m.status in ("booked", "confirmed") and m.start_at - now <= timedelta(minutes=30):
                self._check_in(aid)
            elif m.status == "checked_in" and now >= m.start_at:
                self._complete(aid)
        self.clock.advance(minutes=30)

    @rule(aid=appointments)
    def visit(self, aid: int) -> None:
        """The happy path: wait for the start, check in, complete."""
        self._move_clock_to(self.model[aid].start_at)
        self._check_in(aid)
        self._complete(aid)

    @precondition(lambda self: bool(self.last_keyed))
    @rule(which=st.sampled_from(["book", "pay"]))
    def retry(self, which: str) -> None:
        """A client resends its last keyed booking or payment: a replay (no write) if it was
        done, else a fresh attempt (whose result, if any, the model tracks outside the bundles)."""
        if which not in self.last_keyed:
            which = next(iter(self.last_keyed))
        if which == "book":
            self._book(via="retry", **self.last_keyed["book"])
        else:
            self._pay(**self.last_keyed["pay"])

    @precondition(lambda self: bool(self.model))
    @rule(name=st.sampled_from(["confirm", "check_in", "no_show", "refund"]))
    def touch_missing_record(self, name: str) -> None:
        calls: dict[str, Callable[[], object]] = {
            "confirm": lambda: appts.confirm_appointment(self._uow(), self.admin, MISSING_ID),
            "check_in": lambda: appts.check_in_appointment(self._uow(), self.admin, MISSING_ID),
            "no_show": lambda: appts.mark_no_show(self._uow(), self.admin, MISSING_ID),
            "refund": lambda: billing.refund_payment(
                self._uow(), self.admin, payment_id=MISSING_ID, amount_cents=1, reason="x"
            ),
        }
        self._run(
            f"{name} record {MISSING_ID}",
            calls[name],
            expect_ok=False,
            action="payment.refund" if name == "refund" else f"appointment.{name}",
        )

    # -- the clock -----------------------------------------------------------------------------

    @rule(
        aid=appointments,
        how=st.sampled_from(["+15m", "+2h", "+1d", "start", "start+5m", "end", "end+30m"]),
    )
    def time_passes(self, aid: int, how: str) -> None:
        """The clock moves on: by a while, or to a moment of an appointment (never backwards)."""
        m, now = self.model[aid], self._now()
        self._move_clock_to(
            {
                "+15m": now + timedelta(minutes=15),
                "+2h": now + timedelta(hours=2),
                "+1d": now + timedelta(days=1),
                "start": m.start_at,
                "start+5m": m.start_at + timedelta(minutes=5),
                "end": m.end_at,
                "end+30m": m.end_at + timedelta(minutes=30),
            }[how]
        )

    # -- money ---------------------------------------------------------------------------------

    @rule(
        target=payments,
        patient=patient_st,
        amount=amount_st,
        currency=currency_st,
        method=st.sampled_from(list(PaymentMethod)),
        nth=mostly(st.none(), st.integers(0, 9)),
        reference=reference_st,
        key=key_st,
    )
    def pay(
        self,
        patient: int,
        amount: int,
        currency: str,
        method: PaymentMethod,
        nth: int | None,
        reference: str | None,
        key: str | None,
    ) -> Any:
        """A payment, sometimes for an appointment (the `nth` booked, maybe another patient's)."""
        aid = None if nth is None or not self.model else sorted(self.model)[nth % len(self.model)]
        return self._pay(
            patient=patient,
            amount=amount,
            currency=currency,
            method=method,
            aid=aid,
            reference=reference,
            key=key,
        )

    def _pay(
        self,
        *,
        patient: int,
        amount: int,
        currency: str,
        method: PaymentMethod,
        aid: int | None,
        reference: str | None,
        key: str | None,
    ) -> Any:
        patient_id = self.template.patient_ids[patient]
        if key is not None:
            self.last_keyed["pay"] = dict(
                patient=patient,
                amount=amount,
                currency=currency,
                method=method,
                aid=aid,
                reference=reference,
                key=key,
            )
        content = ("payment.record", patient_id, amount, currency, method, aid, reference)
        valid = (
            0 < amount <= MAX_CENTS
            and currency == "USD"
            and (aid is None or self.model[aid].patient_id == patient_id)
            and (reference is None or len(reference) <= 200)
        )
        ok, replay = self._keyed(key, content, valid=valid)
        payment_id = self._run(
            f"pay {patient=} {amount} {currency} {aid=} {key=}",
            lambda: billing.record_payment(
                self._uow(),
                self.admin,
                patient_id=patient_id,
                amount_cents=amount,
                currency=currency,
                method=method,
                appointment_id=aid,
                reference=reference,
                idempotency_key=key,
            ),
            expect_ok=ok,
            action="payment.record",
            replay=replay,
        )
        if payment_id is None or replay:
            assert not replay or (key is not None and payment_id == self.keys[key][1]), "replay"
            return multiple()
        self.payment_model[payment_id] = ModelPayment(patient_id, amount)
        if key is not None:
            self.keys[key] = (content, payment_id)
        return payment_id

    @rule(
        payment=payments,
        how=refund_st,
        reason=reason_st,
    )
    def refund(self, payment: int, how: str, reason: str) -> None:
        p = self.payment_model[payment]
        amount = {
            "one": 1,
            "half": p.refundable // 2,
            "all": p.refundable,
            "more": p.refundable + 1,
            "zero": 0,
            "-": -p.amount_cents,
        }[how]
        ok = 0 < amount <= p.refundable and bool(reason.strip())
        refund_id = self._run(
            f"refund {amount} of payment {payment} (refundable {p.refundable})",
            lambda: billing.refund_payment(
                self._uow(), self.admin, payment_id=payment, amount_cents=amount, reason=reason
            ),
            expect_ok=ok,
            action="payment.refund",
        )
        if refund_id is not None:
            p.refunds.append(amount)

    @precondition(lambda self: bool(self.model))
    @rule(
        code=st.sampled_from(["D0120", "D1110", "D2140"]),
        fee=mostly(st.sampled_from([0, 9_900, 30_000]), st.just(-1)),
    )
    def set_fee(self, code: str, fee: int) -> None:
        """A fee change must not alter what already booked appointments will charge."""
        procedure_id = self._q(
            "SELECT procedure_id FROM procedures WHERE clinic_id = ? AND code = ?",
            (self.template.clinic_id, code),
        )[0][0]
        done = self._run(
            f"set fee of {code} to {fee}",
            done_when(
                lambda: setup.set_procedure_fee(
                    self._uow(),
                    self.admin,
                    clinic_id=self.template.clinic_id,
                    code=code,
                    fee_cents=fee,
                )
            ),
            expect_ok=fee >= 0,
            action="procedure.set_fee",
            entity_id=procedure_id,
        )
        if done:
            self.fees[code] = fee

    # -- invariants: plain SQL on the database ---------------------------------------------------

    @invariant()
    def database_is_consistent(self) -> None:
        """After every step (one entry point keeps Hypothesis' failing-sequence listing short)."""
        self.steps += 1
        self.no_double_booking()
        self.charges_mirror_completed_procedures()
        self.money_is_sane()
        self.balances_match_sql()
        self.histories_are_legal()
        self.audit_trail_only_grows()
        self.model_agrees()

    def no_double_booking(self) -> None:
        clashes = self._q(
            f"""
            SELECT a.appointment_id, b.appointment_id
            FROM appointments a JOIN appointments b ON a.appointment_id < b.appointment_id
            WHERE a.status IN {ACTIVE_SQL} AND b.status IN {ACTIVE_SQL}
              AND a.start_at < b.end_at AND b.start_at < a.end_at
              AND (a.provider_id = b.provider_id OR a.chair_id = b.chair_id
                   OR a.patient_id = b.patient_id)
              AND COALESCE(a.overbook_of_appointment_id, 0) != b.appointment_id
              AND COALESCE(b.overbook_of_appointment_id, 0) != a.appointment_id
            """  # noqa: S608
        )
        assert clashes == [], f"active appointments overlap on a provider/chair/patient: {clashes}"
        doubled = self._q(
            f"""
            SELECT overbook_of_appointment_id, COUNT(*) FROM appointments
            WHERE overbook_of_appointment_id IS NOT NULL AND status IN {ACTIVE_SQL}
            GROUP BY overbook_of_appointment_id HAVING COUNT(*) > 1
            """  # noqa: S608
        )
        assert doubled == [], f"appointments with more than one active overbook: {doubled}"

    def charges_mirror_completed_procedures(self) -> None:
        appointments = {
            aid: (status, patient_id, currency)
            for aid, status, patient_id, currency in self._q(
                "SELECT appointment_id, status, patient_id, currency FROM appointments"
            )
        }
        lines: defaultdict[int, Counter[tuple[str, int]]] = defaultdict(Counter)
        for aid, code, fee in self._q(
            "SELECT appointment_id, code, fee_cents FROM appointment_procedures"
        ):
            lines[aid][(code, fee)] += 1
        charged: defaultdict[int, Counter[tuple[str, int]]] = defaultdict(Counter)
        for charge_id, aid, patient_id, code, amount, currency in self._q(
            "SELECT charge_id, appointment_id, patient_id, procedure_code, amount_cents, currency"
            " FROM charges"
        ):
            assert aid in appointments, f"charge {charge_id} belongs to no appointment"
            assert (patient_id, currency) == appointments[aid][1:], f"charge {charge_id}"
            charged[aid][(code, amount)] += 1
        for aid, (status, _, _) in appointments.items():
            expected = lines[aid] if status == "completed" else Counter()
            assert charged[aid] == expected, (
                f"appointment {aid} ({status}): charges {dict(charged[aid])}, "
                f"procedure lines {dict(lines[aid])}"
            )

    def money_is_sane(self) -> None:
        bad = self._q(
            """
            SELECT 'payment', payment_id FROM payments
              WHERE typeof(amount_cents) != 'integer' OR amount_cents <= 0
            UNION ALL SELECT 'refund', refund_id FROM refunds
              WHERE typeof(amount_cents) != 'integer' OR amount_cents <= 0
            UNION ALL SELECT 'charge', charge_id FROM charges
              WHERE typeof(amount_cents) != 'integer' OR amount_cents < 0
            """
        )
        assert bad == [], f"amounts that are not positive integers: {bad}"
        over = self._q(
            """
            SELECT p.payment_id, p.amount_cents, SUM(r.amount_cents)
            FROM payments p JOIN refunds r ON r.payment_id = p.payment_id
            GROUP BY p.payment_id, p.amount_cents HAVING SUM(r.amount_cents) > p.amount_cents
            """
        )
        assert over == [], f"payments refunded beyond their amount: {over}"

    def balances_match_sql(self) -> None:
        rows = self._q(
            """
            SELECT pt.patient_id,
              (SELECT COALESCE(SUM(amount_cents), 0) FROM charges c
                 WHERE c.patient_id = pt.patient_id),
              (SELECT COALESCE(SUM(amount_cents), 0) FROM payments p
                 WHERE p.patient_id = pt.patient_id),
              (SELECT COALESCE(SUM(r.amount_cents), 0) FROM refunds r
                 JOIN payments p ON p.payment_id = r.payment_id
                 WHERE p.patient_id = pt.patient_id)
            FROM patients pt ORDER BY pt.patient_id
            """
        )
        assert [row[0] for row in rows] == list(self.template.patient_ids)
        # patient_account costs a transaction and an audit entry, and its balance is a function
        # of the charge, payment and refund rows: after each step ask it for every patient whose
        # rows changed since it was last asked, and for every patient each RECHECK_EVERY steps.
        everyone = self.steps % RECHECK_EVERY == 0
        due = [row for row in rows if everyone or self.verified.get(row[0]) != row[1:]]
        before = self._audit_total()
        for patient_id, charged, paid, refunded in due:
            account = billing.patient_account(self._uow(), self.admin, patient_id)
            balance, ageing = account.balance, account.ageing
            assert (balance.charged_cents, balance.paid_cents, balance.refunded_cents) == (
                charged,
                paid,
                refunded,
            ), f"patient {patient_id}: {balance} vs SQL {charged=} {paid=} {refunded=}"
            assert balance.balance_cents == charged - paid + refunded
            assert ageing.open_cents >= 0 and ageing.credit_cents >= 0
            assert ageing.open_cents - ageing.credit_cents == balance.balance_cents, (
                f"patient {patient_id}: ageing {ageing} disagrees with balance {balance}"
            )
            self.verified[patient_id] = (charged, paid, refunded)
        after = self._audit_total()
        assert after == before + len(due), "each balance read leaves one audit entry"
        self.audit_count = after

    def histories_are_legal(self) -> None:
        events: defaultdict[int, list[Row]] = defaultdict(list)
        for row in self._q(
            "SELECT appointment_id, event_type, occurred_at, from_start_at, from_end_at,"
            " from_provider_id, from_chair_id FROM appointment_events ORDER BY event_id"
        ):
            events[row[0]].append(row[1:])
        status_of = {
            "confirmed": AppointmentStatus.CONFIRMED,
            "checked_in": AppointmentStatus.CHECKED_IN,
            "completed": AppointmentStatus.COMPLETED,
            "no_show": AppointmentStatus.NO_SHOW,
            "cancelled": AppointmentStatus.CANCELLED,
            "late_cancel": AppointmentStatus.CANCELLED,
        }
        for aid, status, overbook_of, reschedules in self._q(
            "SELECT appointment_id, status, overbook_of_appointment_id, reschedule_count"
            " FROM appointments"
        ):
            history = events[aid]
            assert history, f"appointment {aid} has no events"
            kinds = [kind for kind, *_ in history]
            first = "overbooked" if overbook_of is not None else "booked"
            assert kinds[0] == first, f"appointment {aid} starts with {kinds[0]}, not {first}"
            times = [when for _, when, *_ in history]
            assert times == sorted(times), f"appointment {aid}: events out of time order"
            state = AppointmentStatus.BOOKED
            for kind in kinds[1:]:
                if kind == "rescheduled":
                    assert state in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED), (
                        f"appointment {aid} rescheduled while {state}: {kinds}"
                    )
                    state = AppointmentStatus.BOOKED
                    continue
                assert kind in status_of, f"appointment {aid}: unknown event {kind!r}"
                assert status_of[kind] in TRANSITIONS[state], (
                    f"appointment {aid}: {state} -> {kind} is illegal: {kinds}"
                )
                state = status_of[kind]
            assert state == status, f"appointment {aid}: events end in {state}, row says {status}"
            assert kinds.count("rescheduled") == reschedules, f"appointment {aid}: {kinds}"

    def audit_trail_only_grows(self) -> None:
        total = self._audit_total()
        assert total >= self.audit_count, f"audit entries went from {self.audit_count} to {total}"
        assert total == self.audit_count, (
            f"{total - self.audit_count} audit entries appeared that no call accounts for"
        )
        refused = self._q(
            "SELECT COUNT(*) FROM audit_entries WHERE outcome NOT IN ('success', 'rejected')"
        )[0][0]
        assert refused == 0, "an admin's call was denied or errored"

    def model_agrees(self) -> None:
        rows = self._q(
            "SELECT appointment_id, patient_id, provider_id, chair_id, start_at, end_at, status,"
            " overbook_of_appointment_id, is_late_cancel, checked_in_at, completed_at,"
            " no_show_at, cancelled_at FROM appointments ORDER BY appointment_id"
        )
        assert [row[0] for row in rows] == sorted(self.model), "appointment ids differ"
        for (
            aid,
            patient_id,
            provider_id,
            chair_id,
            start,
            end,
            status,
            overbook_of,
            late,
            *at,
        ) in rows:
            m = self.model[aid]
            checked_in_at, completed_at, no_show_at, cancelled_at = at
            actual = (
                patient_id,
                self._provider_index(provider_id),
                chair_id,
                datetime.strptime(start, STAMP).replace(tzinfo=UTC),
                datetime.strptime(end, STAMP).replace(tzinfo=UTC),
                status,
                overbook_of,
                bool(late),
            )
            expected = (
                m.patient_id,
                m.provider,
                m.chair_id,
                m.start_at,
                m.end_at,
                m.status,
                m.overbook_of,
                m.late_cancel,
            )
            assert actual == expected, f"appointment {aid}: database {actual}, model {expected}"
            assert (checked_in_at is not None) == (m.status in ("checked_in", "completed"))
            assert (completed_at is not None) == (m.status == "completed")
            assert (no_show_at is not None) == (m.status == "no_show")
            assert (cancelled_at is not None) == (m.status == "cancelled")
        lines: defaultdict[int, list[tuple[str, int]]] = defaultdict(list)
        for aid, code, fee in self._q(
            "SELECT appointment_id, code, fee_cents FROM appointment_procedures ORDER BY line_id"
        ):
            lines[aid].append((code, fee))
        for aid, m in self.model.items():
            assert lines[aid] == m.lines, f"appointment {aid}: lines {lines[aid]} vs {m.lines}"
        moves: defaultdict[int, list[tuple[datetime, datetime, int, int]]] = defaultdict(list)
        for aid, start, end, provider_id, chair_id in self._q(
            "SELECT appointment_id, from_start_at, from_end_at, from_provider_id, from_chair_id"
            " FROM appointment_events WHERE event_type = 'rescheduled' ORDER BY event_id"
        ):
            moves[aid].append(
                (
                    datetime.strptime(start, STAMP).replace(tzinfo=UTC),
                    datetime.strptime(end, STAMP).replace(tzinfo=UTC),
                    self._provider_index(provider_id),
                    chair_id,
                )
            )
        for aid, m in self.model.items():
            assert moves[aid] == m.moves, f"appointment {aid}: moves {moves[aid]} vs {m.moves}"
        paid = {
            pid: (patient_id, amount)
            for pid, patient_id, amount in self._q(
                "SELECT payment_id, patient_id, amount_cents FROM payments"
            )
        }
        assert paid == {
            pid: (p.patient_id, p.amount_cents) for pid, p in self.payment_model.items()
        }, "payments differ from the model"
        refunds: defaultdict[int, list[int]] = defaultdict(list)
        for pid, amount in self._q(
            "SELECT payment_id, amount_cents FROM refunds ORDER BY refund_id"
        ):
            refunds[pid].append(amount)
        for pid, p in self.payment_model.items():
            assert refunds[pid] == p.refunds, f"payment {pid}: refunds {refunds[pid]}"


STATEFUL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,  # the same sequences on every run and machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    # no "explain" phase: on a failure it re-runs the shrunk sequence many times to list the
    # lines it touched, minutes of work that the shrunk sequence and the message make moot
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)


def test_service_layer_keeps_its_invariants(practice_template: PracticeTemplate) -> None:
    class Machine(DentopsMachine):
        template = practice_template

    run_state_machine_as_test(Machine, settings=STATEFUL_SETTINGS)
