"""Read-side queries for the warehouse: the rows of a core table changed since a watermark,
already stripped and pseudonymised as the raw contract says (docs/warehouse.md).

- Every `patient_id` becomes `patient_key`, the key ring's keyed pseudonym of the id.
- `patients` loses names, birth date, phone, email and notes and gains `age_band` (from the
  birth date, as of the extraction day); free text that staff type (cancel and refund
  reasons, event reasons, payment references), staff usernames and password hashes, and
  `source_ref` (a record's key in another practice system) never leave the core.
- Times come out as naive UTC timestamps; booleans as booleans; money stays integer cents.

All tables of one extraction are read in one read-only snapshot (SQLite: a deferred
transaction in WAL mode, which never blocks the practice's writers; PostgreSQL: REPEATABLE READ
READ ONLY), so a run sees the core at one moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Engine,
    Float,
    Integer,
    Time,
    create_engine,
    event,
    select,
    text,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import make_url

from core_app.adapters.crypto import KeyRing
from core_app.adapters.orm import metadata
from core_app.adapters.types import UtcDateTime
from core_app.config import Settings
from core_app.domain.staff import SYSTEM
from core_app.service_layer.bootstrap import App
from core_app.service_layer.memory import gc_paused

#: the core tables the warehouse receives, parents before children
EXTRACTED_TABLES: tuple[str, ...] = (
    "clinics",
    "clinic_opening_hours",
    "providers",
    "provider_working_hours",
    "chairs",
    "procedures",
    "patients",
    "staff_users",
    "appointments",
    "appointment_procedures",
    "appointment_events",
    "charges",
    "payments",
    "refunds",
)

#: columns that never leave the core, per table (`source_ref` is dropped everywhere)
_DROPPED: dict[str, frozenset[str]] = {
    "patients": frozenset({"first_name", "last_name", "birth_date", "phone", "email", "notes"}),
    "staff_users": frozenset({"username", "password_hash"}),
    "appointments": frozenset({"cancel_reason"}),
    "appointment_events": frozenset({"reason"}),
    "refunds": frozenset({"reason"}),
    "payments": frozenset({"reference"}),
}
_DROPPED_EVERYWHERE = frozenset({"source_ref"})

AGE_BANDS: tuple[tuple[int, str], ...] = ((18, "0-17"), (35, "18-34"), (50, "35-49"), (65, "50-64"))
OLDEST_BAND = "65+"

#: PostgreSQL: how much earlier than the oldest open transaction the horizon lies (the app's
#: clock stamps `updated_at` a moment before the database starts the transaction; clock skew)
PG_MARGIN = timedelta(minutes=1)

#: Arrow type of each kind of warehouse column
_ARROW: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "float": pa.float64(),
    "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
}


@dataclass(frozen=True)
class RawColumn:
    name: str
    kind: str  # int, bool, text, float, date, time, timestamp
    source: str | None  # the core column it comes from (None: derived)


@dataclass(frozen=True)
class RawTable:
    name: str
    key: str  # the primary key in the warehouse (patients: patient_key)
    columns: tuple[RawColumn, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, _ARROW[c.kind]) for c in self.columns])


def _kind(sql_type: Any) -> str:
    if isinstance(sql_type, UtcDateTime):
        return "timestamp"
    if isinstance(sql_type, Boolean):
        return "bool"
    if isinstance(sql_type, Integer):
        return "int"
    if isinstance(sql_type, Float):
        return "float"
    if isinstance(sql_type, Time):
        return "time"
    if isinstance(sql_type, Date):
        return "date"
    return "text"


def raw_table(name: str) -> RawTable:
    """The warehouse's shape of core table `name` (the raw contract)."""
    if name not in EXTRACTED_TABLES:
        raise KeyError(f"{name} is not extracted to the warehouse")
    core = metadata.tables[name]
    dropped = _DROPPED.get(name, frozenset()) | _DROPPED_EVERYWHERE
    columns: list[RawColumn] = []
    for col in core.columns:
        if col.name == "patient_id":
            columns.append(RawColumn("patient_key", "text", "patient_id"))
        elif col.name == "birth_date" and name == "patients":
            columns.append(RawColumn("age_band", "text", "birth_date"))
        elif col.name not in dropped:
            columns.append(RawColumn(col.name, _kind(col.type), col.name))
    key = next(iter(core.primary_key.columns)).name
    return RawTable(name, "patient_key" if key == "patient_id" else key, tuple(columns))


def age_band(birth: date, on: date) -> str:
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    for below, band in AGE_BANDS:
        if age < below:
            return band
    return OLDEST_BAND


def _read_engine(settings: Settings) -> Engine:
    """An engine for consistent read-only snapshots that never take the write lock."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, isolation_level="REPEATABLE READ", pool_size=1)
    # used by one thread at a time, not always the one that opened it (extract_load reads the
    # next table in a background thread while it loads the current one)
    engine = create_engine(
        url, connect_args={"timeout": settings.sqlite_busy_timeout_s, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the practice's writers
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")  # deferred: a WAL snapshot, no lock on writers

    return engine


#: rows fetched and converted at a time
CHUNK_ROWS = 200_000


def _to_time(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def _fetch_type(col: RawColumn, dialect: str) -> pa.DataType:
    """How the driver's values of a source column are taken into Arrow, before conversion:
    SQLite hands back UTC text for timestamps and times and 0/1 for booleans; PostgreSQL
    aware datetimes, times and booleans."""
    sqlite = dialect == "sqlite"
    if col.name == "patient_key":
        return pa.int64()
    if col.name == "age_band":
        return pa.string()  # the encrypted birth date
    if col.kind == "timestamp":
        return pa.string() if sqlite else pa.timestamp("us", tz="UTC")
    if col.kind == "time":
        return pa.string() if sqlite else pa.time64("us")
    if col.kind == "date":
        return pa.string() if sqlite else pa.date32()
    if col.kind == "bool":
        return pa.int64() if sqlite else pa.bool_()
    return _ARROW[col.kind]


class Extraction:
    """One read-only snapshot of the core from which changed rows are taken, table by table."""

    def __init__(
        self, connection: Connection, keyring: KeyRing, *, as_of: date, horizon: datetime
    ) -> None:
        #: every row committed after this snapshot has `updated_at >= horizon`: the next
        #: extraction reads from here (rows at or after it are read again and merged by key)
        self.horizon = horizon
        self._connection = connection
        self._keyring = keyring
        self.as_of = as_of
        self.patients_read = 0
        self._pseudonyms: dict[int, str] = {}

    @property
    def horizon_naive(self) -> datetime:
        """The horizon as the warehouse stores times: naive UTC."""
        return self.horizon.astimezone(UTC).replace(tzinfo=None)

    def changed_rows(self, name: str, *, since: datetime | None) -> pa.Table:
        """Rows of `name` with `updated_at >= since` (all rows when `since` is None), in the
        warehouse's shape. `since` should be an earlier extraction's horizon: rows stamped at
        or after it may be read twice, so the caller merges them by key."""
        spec = raw_table(name)
        sources = [c.source for c in spec.columns if c.source is not None]
        # untyped columns: values as the driver returns them, converted column by column below
        source = sql_table(name, *[sql_column(s) for s in sources])
        query = select(*source.columns)
        if since is not None:
            # typed for the comparison only: `since` is bound the way the backend stores UTC
            stamp = type_coerce(source.c.updated_at, UtcDateTime())
            query = query.where(stamp >= since.astimezone(UTC))
        derived = [c for c in spec.columns if c.source is not None]
        dialect = self._connection.dialect.name
        fetched = pa.struct([(c.name, _fetch_type(c, dialect)) for c in derived])
        batches = []
        with gc_paused():
            result = self._connection.execute(query)
            cursor = result.cursor  # plain tuples: the columns are untyped, nothing to process
            while chunk := cursor.fetchmany(CHUNK_ROWS):
                rows = cast(pa.StructArray, pa.array(chunk, type=fetched))
                batches.append(pa.RecordBatch.from_struct_array(rows))
            result.close()
            raw = pa.Table.from_batches(batches, schema=pa.schema(list(fetched)))
            arrays = [self._convert(name, c, raw.column(c.name)) for c in spec.columns]
        if name == "patients":
            self.patients_read += raw.num_rows
        return pa.Table.from_arrays(arrays, schema=spec.schema)

    def _convert(self, table: str, col: RawColumn, values: pa.ChunkedArray[Any]) -> pa.Array[Any]:
        """A fetched column in the warehouse's type (patient ids become pseudonyms)."""
        combined = values.combine_chunks()
        if col.name == "patient_key":
            return self._pseudonyms_of(combined)
        if col.name == "age_band":
            decrypt, field = self._keyring.decrypt, f"{table}.birth_date"
            tokens = cast(list[str], combined.to_pylist())  # never null: a required column
            births = [date.fromisoformat(decrypt(v, field=field)) for v in tokens]
            return pa.array([age_band(b, self.as_of) for b in births], pa.string())
        if col.kind == "time" and combined.type == pa.string():
            return pa.array([_to_time(v) for v in combined.to_pylist()], pa.time64("us"))
        converted: pa.Array[Any] = combined.cast(_ARROW[col.kind])
        return converted

    def _pseudonyms_of(self, ids: pa.Array[Any]) -> pa.Array[Any]:
        """Each distinct id's pseudonym computed once, then spread over the rows."""
        distinct = pc.unique(ids)
        patient_ids = cast(list[int], distinct.to_pylist())  # never null: a required column
        keys = pa.array([self._pseudonym(i) for i in patient_ids], pa.string())
        taken: pa.Array[Any] = pc.take(keys, pc.index_in(ids, value_set=distinct))
        return taken

    def _pseudonym(self, patient_id: int) -> str:
        key = self._pseudonyms.get(patient_id)
        if key is None:
            key = self._pseudonyms[patient_id] = self._keyring.pseudonym("patient", patient_id)
        return key


def _sqlite_horizon(app: App, reader: Connection) -> datetime:
    """Take the write lock for a moment (waiting for a writer in flight), open the reader's
    snapshot under it, and let go. Writers stamp `updated_at` while they hold the lock (the bulk
    path to the whole second), so everything after the snapshot is stamped at or after the
    whole second the lock was taken in; one second less allows for a coarse clock."""
    with app.engine.connect() as locker:
        locker.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: no writer is in flight now
        taken = datetime.now(UTC)
        reader.execute(text("SELECT count(*) FROM clinics")).all()  # the snapshot starts here
        locker.rollback()
    return taken.replace(microsecond=0) - timedelta(seconds=1)


def _postgres_horizon(reader: Connection) -> datetime:
    """The earlier of this snapshot's start and the start of the oldest other open
    transaction in the database (whose rows, stamped then, may commit later), less a margin.
    The pipeline's database role must see the other sessions (the same role, or
    pg_read_all_stats)."""
    row = reader.execute(
        text(
            "SELECT now(), (SELECT min(xact_start) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid())"
        )
    ).one()
    started: datetime = row[0] if row[1] is None else min(row[0], row[1])
    return started.astimezone(UTC) - PG_MARGIN


@contextmanager
def snapshot(app: App, *, as_of: date) -> Iterator[Extraction]:
    """Open a read-only snapshot of the core for one extraction. If patient records were read
    (their birth dates decrypted for the age band), one audit entry says how many."""
    engine = _read_engine(app.settings)
    extraction: Extraction | None = None
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(postgresql_readonly=True)
                horizon = _postgres_horizon(connection)
            else:
                horizon = _sqlite_horizon(app, connection)
            extraction = Extraction(connection, app.keyring, as_of=as_of, horizon=horizon)
            try:
                yield extraction
            finally:
                connection.rollback()
    finally:
        engine.dispose()
        if extraction is not None and extraction.patients_read:
            with app.uow() as uow:
                uow.audit(
                    SYSTEM,
                    "patient.extract",
                    "patient",
                    None,
                    detail=f"warehouse extract: {extraction.patients_read} patient records",
                )
                uow.commit()
