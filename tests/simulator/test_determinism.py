"""Same arguments, same practice: the summary, the truth files and the tables' contents."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from simulator.generate import generate
from simulator.params import SimulationParams
from tests.simulator.conftest import Simulated, simulate_small

#: columns that differ between two identical loads: encrypted (random nonce), wall-clock times
VOLATILE = {"updated_at", "first_name", "last_name", "birth_date", "phone", "email", "notes"}
TABLES: tuple[str, ...] = ("patients", "appointments", "appointment_procedures")
TABLES += ("appointment_events", "charges", "payments", "refunds", "clinics", "providers", "chairs")


def stable_summary(summary: dict[str, object]) -> dict[str, object]:
    skip = {"seconds", "data_dir", "truth_out", "requests_out", "admin_password"}
    return {k: v for k, v in summary.items() if k not in skip}


def table_contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(database) as con:
        contents = {}
        for table in TABLES:
            columns = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
            kept = ", ".join(f'"{c}"' for c in columns if c not in VOLATILE)
            contents[table] = con.execute(f"SELECT {kept} FROM {table} ORDER BY 1").fetchall()  # noqa: S608
        return contents


@pytest.mark.slow
def test_same_seed_gives_the_same_database_and_truth(small: Simulated, tmp_path: Path) -> None:
    again = simulate_small(tmp_path)
    assert stable_summary(again.summary) == stable_summary(small.summary)
    for name in ("appointments.parquet", "daily_demand.parquet", "patients.parquet"):
        assert (again.truth_dir / name).read_bytes() == (small.truth_dir / name).read_bytes()
    assert (again.data_dir / "requests.parquet").read_bytes() == (
        small.data_dir / "requests.parquet"
    ).read_bytes()
    assert table_contents(again.data_dir / "dentops.db") == table_contents(
        small.data_dir / "dentops.db"
    )


def test_generation_is_deterministic_and_depends_on_the_seed() -> None:
    def world(seed: int) -> dict[str, np.ndarray]:
        params = SimulationParams(
            clinics=1, years=0.5, patients=800, seed=seed, today=date(2026, 6, 30)
        )
        a = generate(params).appointments
        return {f.name: getattr(a, f.name) for f in fields(a)}

    first, second, other = world(3), world(3), world(4)
    assert all(np.array_equal(first[name], second[name]) for name in first)
    assert len(first["start"]) != len(other["start"]) or not np.array_equal(
        first["start"], other["start"]
    )
