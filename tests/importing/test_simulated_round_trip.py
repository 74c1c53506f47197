"""The issue's round trip: simulate -> export -> import into an empty database -> export gives
the same appointments and payments (and patients), file for file."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli
from tests.simulator.conftest import simulate_small

FILES = ("patients.csv", "appointments.csv", "payments.csv")
ADMIN_PASSWORD = "round-trip-admin-password"


def dentops(data_dir: Path, actor: str, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        cli,
        [*args, "--json"],
        env={"DENTOPS_DATA_DIR": str(data_dir), "DENTOPS_ACTOR": actor},
    )
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return dict(json.loads(result.stdout))


@pytest.mark.slow
def test_simulated_history_survives_export_and_import(tmp_path: Path) -> None:
    simulated = simulate_small(tmp_path / "sim")
    first, second = tmp_path / "first", tmp_path / "second"
    dentops(simulated.data_dir, "simulator", "export", str(first))

    empty = tmp_path / "empty"
    dentops(empty, "admin", "init", "--admin-username", "admin", "--admin-password", ADMIN_PASSWORD)
    imported = dentops(
        empty, "admin", "import", str(first), "--clinic-timezone", "America/New_York",
        "--hours", "mon-fri 08:00-17:00; sat 08:00-13:00",
    )  # fmt: skip
    dentops(empty, "admin", "export", str(second))

    made = simulated.summary
    assert isinstance(made["appointments"], int) and made["appointments"] > 1000
    assert imported["appointments"] == {
        "created": made["appointments"],
        "updated": 0,
        "unchanged": 0,
    }
    assert imported["payments"] == {"created": made["payments"], "updated": 0, "unchanged": 0}
    for name in FILES:
        assert filecmp.cmp(first / name, second / name, shallow=False), name
