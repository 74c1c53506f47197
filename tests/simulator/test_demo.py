"""`dentops demo` builds its practice with the simulator and prints the staff logins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core_app.cli.main import app as cli


@pytest.mark.slow
def test_demo_builds_a_year_of_practice_with_staff_logins(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    env = {"DENTOPS_DATA_DIR": str(folder)}
    result = CliRunner().invoke(cli, ["demo", "--json"], env=env)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["clinics"] == 1 and summary["patients"] >= 2000
    assert summary["appointments"] > 4000 and summary["upcoming"] > 0
    assert set(summary["staff_logins"]) == {"admin", "manager", "scheduler", "frontdesk"}
    # the staff can work with it: the front desk lists the schedule
    listing = CliRunner().invoke(
        cli,
        ["appointment", "list", "--clinic", "1", "--days", "3", "--json"],
        env={**env, "DENTOPS_ACTOR": "frontdesk"},
    )
    assert listing.exit_code == 0, listing.stderr
    # the whole nightly pipeline ran on it: warehouse, model, scores, forecast, plan
    assert (folder / "warehouse.duckdb").exists()
    nightly = summary["warehouse"]
    assert nightly["train"]["trained"] and nightly["train"]["current_model"]
    assert nightly["score"]["scored"] > 0 and nightly["score"]["recorded_in_core"] > 0
    assert nightly["forecast"]["series"] > 0
    plan = nightly["plan"]
    assert [w["week"] for w in plan["weeks"]] == sorted(w["week"] for w in plan["weeks"])
    assert len(plan["weeks"]) == 2 and plan["suggestions"] == sum(
        w["placed"] for w in plan["weeks"]
    )
    assert all(w["status"] in {"OPTIMAL", "FEASIBLE"} for w in plan["weeks"])
    pending = CliRunner().invoke(
        cli,
        ["suggestion", "list", "--clinic", "1", "--json"],
        env={**env, "DENTOPS_ACTOR": "admin"},
    )
    assert pending.exit_code == 0, pending.stderr
    assert len(json.loads(pending.stdout)["suggestions"]) == plan["suggestions"] > 0
    # rebuilding replaces the demo; a folder that is not a demo is refused
    again = CliRunner().invoke(cli, ["demo", "--no-warehouse", "--json"], env=env)
    assert again.exit_code == 0, again.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    refused = CliRunner().invoke(cli, ["demo"], env={"DENTOPS_DATA_DIR": str(other)})
    assert refused.exit_code != 0 and (other / "precious.txt").exists()
