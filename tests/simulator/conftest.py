"""Fixtures: one small simulated practice in a database (through the CLI), and generated worlds
(arrays only, no database) big enough for the statistical checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli
from simulator.generate import World, generate
from simulator.params import SimulationParams

TODAY = "2026-06-30"
SMALL = ["--clinics", "1", "--years", "1", "--patients", "1500", "--future-weeks", "4"]
ADMIN_PASSWORD = "simulator-test-password"


@dataclass(frozen=True)
class Simulated:
    data_dir: Path
    truth_dir: Path
    summary: dict[str, Any]


def run_cli(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["simulate", *args, "--json"],
        env={"DENTOPS_DATA_DIR": str(data_dir), "DENTOPS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    return result.exit_code, result.stdout, result.stderr


def simulate_small(folder: Path, seed: int = 7) -> Simulated:
    truth_dir = folder / "truth"
    code, out, err = run_cli(
        folder / "data",
        *SMALL,
        "--seed",
        str(seed),
        "--today",
        TODAY,
        "--truth-out",
        str(truth_dir),
    )
    assert code == 0, err
    return Simulated(folder / "data", truth_dir, json.loads(out))


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    return simulate_small(tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="session")
def world() -> World:
    """Two clinics, two years: about 25 000 appointments, for the effects in the data."""
    return generate(
        SimulationParams(clinics=2, years=2, patients=5000, seed=11, today=date(2026, 6, 30))
    )
