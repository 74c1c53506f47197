"""Telemetry off and Prefect's state in a known place, before Prefect or dbt is imported.

The Makefile exports the same values; a `dentops` command run by hand gets them here, unless
the environment already says otherwise (PREFECT_HOME defaults to `<data dir>/.prefect`, not
`~/.prefect`)."""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_DEFAULTS = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def apply_offline_defaults(data_dir: Path) -> None:
    for name, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("PREFECT_HOME", str((data_dir / ".prefect").resolve()))
