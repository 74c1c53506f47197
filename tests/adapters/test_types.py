"""UtcDateTime on SQLite: what the column holds as text comes back as an aware UTC datetime
(the fast path for the text the core writes, the general one for anything else)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from core_app.adapters.db import plain_rows
from core_app.adapters.types import UtcDateTime, utc_from_sqlite_text

_META = MetaData()
_STAMPS = Table(
    "stamps", _META, Column("id", Integer, primary_key=True), Column("at", UtcDateTime())
)


def test_stored_times_come_back_aware_in_utc(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'types.db'}")
    _META.create_all(engine)
    written = {
        1: datetime(2026, 3, 8, 6, 59, 59, 999_999, tzinfo=UTC),
        2: datetime(2026, 3, 8, 3, 0, tzinfo=timezone(timedelta(hours=-5))),
        3: None,
    }
    with engine.begin() as connection:
        connection.execute(insert(_STAMPS), [{"id": k, "at": v} for k, v in written.items()])
        # text written by other paths: no fraction, an offset, a "T"
        connection.execute(
            text(
                "INSERT INTO stamps VALUES (4, '2026-12-07 10:00:00'), "
                "(5, '2026-12-07 10:00:00+02:00'), (6, '2026-12-07T10:00:00.5')"
            )
        )
        found: dict[int, datetime | None] = {
            key: at
            for key, at in plain_rows(connection.execute(select(_STAMPS.c.id, _STAMPS.c.at)))
        }
    engine.dispose()
    assert found.pop(3) is None
    assert found == {
        1: written[1],
        2: datetime(2026, 3, 8, 8, 0, tzinfo=UTC),
        4: datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        5: datetime(2026, 12, 7, 8, 0, tzinfo=UTC),
        6: datetime(2026, 12, 7, 10, 0, 0, 500_000, tzinfo=UTC),
    }
    assert all(at is not None and at.tzinfo is UTC for at in found.values())


def test_what_is_not_a_stored_time_is_refused() -> None:
    with pytest.raises(ValueError):
        utc_from_sqlite_text("not a time")
    with pytest.raises(TypeError):
        utc_from_sqlite_text(1_700_000_000)
