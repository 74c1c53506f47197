"""Killing extract_load at a named point: a child process reports each stage and stops at the
chosen one, where it is killed with SIGKILL (no timing involved)."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.pipelines.conftest import Warehouse

#: extract_load in a child process that reports every stage and, at the one named on its
#: command line, waits (on stdin) to be killed
STOPPING_CHILD = """
import sys
from core_app.config import Settings
from pipelines.extract_load import extract_load

table, stage, full = sys.argv[1], sys.argv[2], sys.argv[3] == "full"

def progress(t, s):
    print(t, s, flush=True)
    if (t, s) == (table, stage):
        print("stopped", flush=True)
        sys.stdin.read()

extract_load(Settings(), full_refresh=full, progress=progress)
print("finished", flush=True)
"""
PROGRESS_TIMEOUT_S = 600


def kill_extract_at(
    practice: Warehouse, table: str, stage: str, *, full_refresh: bool = False
) -> list[str]:
    """Run extract_load in a child, SIGKILL it when it reaches `stage` of `table`."""
    seen = []
    with subprocess.Popen(
        [sys.executable, "-c", STOPPING_CHILD, table, stage, "full" if full_refresh else "inc"],
        env=practice.env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            seen.append(line.strip())
            if line.strip() == "stopped":
                break
        child.kill()
        child.wait(timeout=60)
    assert seen and seen[-1] == "stopped", seen
    assert child.returncode == -signal.SIGKILL
    return seen
