"""A run killed at any point (SIGKILL) and run again gives the same warehouse as an
uninterrupted run; so does running twice. The kill points are made deterministic by a child
process that stops at a named stage of extract_load, or by watching dbt's log for progress."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines.extract_load import extract_load
from pipelines.transform import build_warehouse, dbt_paths
from tests.pipelines.conftest import (
    Changed,
    Reference,
    Warehouse,
    copy_changed,
    copy_practice,
)
from tests.pipelines.killing import PROGRESS_TIMEOUT_S, kill_extract_at
from tests.pipelines.warehouse_content import raw_content, warehouse_content

#: the warehouse's build step alone, in a child process (dbt runs in its own child)
BUILDING_CHILD = """
from core_app.config import Settings
from pipelines.transform import build_warehouse
build_warehouse(Settings())
"""
#: dbt nodes only (seeds and models): the content of every table, without re-running the tests
CONTENT_ONLY = "resource_type:seed resource_type:model"


def rerun(practice: Warehouse) -> None:
    extract_load(practice.settings)
    build_warehouse(practice.settings, select=CONTENT_ONLY)


def kill_build_midway(practice: Warehouse, folder: Path, *, nodes: int = 10) -> None:
    """Start the build step, SIGKILL it (and its dbt) once dbt has finished `nodes` nodes."""
    _, logs = dbt_paths(practice.settings)
    log = logs / "dbt.log"
    log.unlink(missing_ok=True)
    finished = re.compile(r"\d+ of \d+ (OK|PASS)")
    with (
        (folder / "build.out").open("w") as out,
        subprocess.Popen(
            [sys.executable, "-c", BUILDING_CHILD],
            env=practice.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the build and its dbt die together
        ) as build,
    ):
        deadline = time.monotonic() + PROGRESS_TIMEOUT_S
        try:
            while True:  # poll dbt's progress
                done = len(finished.findall(log.read_text())) if log.exists() else 0
                if done >= nodes:
                    break
                assert build.poll() is None, "the build ended before it could be killed"
                assert time.monotonic() < deadline, "dbt made no progress"
                time.sleep(0.05)
        finally:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait(timeout=60)
    assert build.returncode == -signal.SIGKILL
    wait_until_released(practice.warehouse_path)


def wait_until_released(path: Path) -> None:
    """Until the killed dbt process (a grandchild, killed with its group) has let go of the
    warehouse file: SIGKILL takes effect asynchronously."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while True:
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the warehouse file stayed locked"
            time.sleep(0.05)


def test_runs_killed_at_several_points_then_rerun_match_the_uninterrupted_run(
    changed: Changed, reference: Reference, tmp_path: Path
):
    practice = copy_changed(changed, tmp_path).practice
    before = raw_content(practice.warehouse_path)

    # killed after appointments were merged, before that transaction committed
    seen = kill_extract_at(practice, "appointments", "merged")
    assert "patients committed" in seen
    during = raw_content(practice.warehouse_path)
    assert during["raw.appointments"] == before["raw.appointments"]  # rolled back
    assert during["raw.patients"] != before["raw.patients"]  # committed before the kill
    # killed again later, once right at the start of a table, then in the middle of dbt
    kill_extract_at(practice, "payments", "extracted")
    kill_extract_at(practice, "clinics", "begin")
    extract_load(practice.settings)
    kill_build_midway(practice, tmp_path)

    rerun(practice)
    assert warehouse_content(practice.warehouse_path) == reference.content


def test_running_twice_gives_the_same_warehouse(reference: Reference, tmp_path: Path):
    practice = copy_practice(reference.practice, tmp_path)
    rerun(practice)
    assert warehouse_content(practice.warehouse_path) == reference.content
