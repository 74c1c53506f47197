"""build the warehouse: `dbt build` of `dbt_project/` on the warehouse file, in a child process.

A child process, not dbtRunner in this one: dbt-duckdb keeps the DuckDB file open in the process
that ran it (STACK.md, trap 4), which would lock out `dentops kpi` and the next extract while a
served pipeline lives. Each build is a fresh child that runs dbtRunner once and exits, so the
file is released when the build ends. The child is forked from a warm process, not started
anew: a multiprocessing forkserver (started on this process's first build and kept while it
lives: the bench, `dentops pipeline serve`'s worker) that has imported dbt, its DuckDB adapter
and the tasks of `dbt build` once, which a new interpreter took 2-3 s to do on every build. A
forkserver, not a bare fork of this process: this process may have threads (Prefect starts
them), and a forked copy of a threaded process can deadlock on a lock another thread held.
The forkserver is a new interpreter (fork and exec), single-threaded while it forks. dbt's
stdout and stderr go to `dbt_build.out` in the log folder (the tail is in the message when dbt
fails before running any node). dbt's target and log folders sit beside the warehouse file, so
builds of different warehouses (tests, benchmarks) never share them. The outcome is read from
dbt's `run_results.json`: a failed test or model fails the build with its name in the message.

Incremental builds (dbt_project/README.md): the big models are dbt incremental models, so a
build recomputes only what the loads since the last build touched. A full refresh
(`full_refresh=True`, e.g. after `extract_load --full-refresh`) rebuilds every model; so does the
first build after any change to the dbt project (its files' fingerprint differs from the one
recorded by the last successful full build), since rows built by other SQL would otherwise stay.
The dbt unit tests (fixed inputs, they test the SQL, not the data) run with every full build;
incremental builds of an unchanged project leave them out. An incremental build also leaves out
the models (and their tests) downstream of no raw table that changed since the last successful
build (a fingerprint of each raw table, kept beside the project's): their inputs are the same,
so are they.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import duckdb

from core_app.config import Settings
from core_app.service_layer.extract import EXTRACTED_TABLES, raw_table

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
#: telemetry off for dbt, whatever the caller's environment says
OFFLINE = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DO_NOT_TRACK": "1"}
FAILED = ("error", "fail", "runtime error")
#: the fingerprint of the dbt project covers the files dbt reads (not its output, not the docs)
PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv"}
NOT_PROJECT = {"target", "logs", "dbt_packages", "scripts"}
#: the file (in dbt's target folder) holding the fingerprint of the last successful full build
BUILT_PROJECT = "built_project.sha256"
#: the file (in dbt's target folder) holding the raw tables' fingerprints of the last successful
#: build of the whole project
BUILT_SOURCES = "built_sources.json"
#: raw tables whose rows change only with their `updated_at` (the core stamps every change):
#: fingerprinted by key and stamp; the others (small, or patients, whose age band moves without
#: a new stamp) by their whole rows
STAMPED_TABLES = frozenset(
    {
        "appointments",
        "appointment_procedures",
        "appointment_events",
        "charges",
        "payments",
        "refunds",
    }
)
#: always rebuilt on an incremental build: reads the no-show scores the pipeline writes
#: outside dbt (not a dbt source), and what is built from it
ALWAYS = "ml_no_show_outcomes+"


#: imported once by the forkserver the builds are forked from (missing modules are skipped):
#: dbt's CLI, the DuckDB adapter and what `dbt build` imports on its first run
DBT_PRELOAD = [
    "pipelines.transform",
    "dbt.cli.main",
    "dbt.adapters.duckdb",
    "dbt.adapters.duckdb.impl",
    "dbt.adapters.duckdb.connections",
    "dbt.adapters.sql.impl",
    "dbt.compilation",
    "dbt.parser.sql",
    "dbt.task.build",
    "dbt.task.run",
    "dbt.task.seed",
    "dbt.task.test",
    "dbt.task.snapshot",
    "dbt.task.function",
    "dbt.runners",
    "dbt.graph.thread_pool",
    "duckdb",
    "sqlparse",
    "daff",
    "babel.dates",
]
#: the file (in dbt's log folder) with the stdout and stderr of the last build's dbt
DBT_OUTPUT = "dbt_build.out"
#: the last line of that file: the child's CPU seconds
DBT_CPU_PREFIX = "dentops: dbt child CPU seconds "
_context: ForkServerContext | None = None
_context_lock = threading.Lock()


class WarehouseBuildFailed(Exception):
    """dbt build failed; the message names the failing tests or models."""


@dataclass(frozen=True)
class BuildResult:
    nodes: int
    passed: int
    warned: list[str]
    seconds: float
    target_path: str
    full_refresh: bool = False
    #: user and system CPU seconds of the dbt child (not this process's: the child is the
    #: forkserver's, so not counted in this process's `os.times()` children)
    dbt_cpu_seconds: float = 0.0


def dbt_paths(settings: Settings) -> tuple[Path, Path]:
    """dbt's target and log folders for this warehouse."""
    base = settings.warehouse_path.parent / f"{settings.warehouse_path.stem}.dbt"
    return base / "target", base / "logs"


def dbt_command(settings: Settings, *args: str, project_dir: Path = DBT_PROJECT) -> list[str]:
    target, logs = dbt_paths(settings)
    dbt = Path(sys.executable).parent / "dbt"
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
    ]


def dbt_environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        **OFFLINE,
        "DENTOPS_WAREHOUSE_PATH": str(settings.warehouse_path.resolve()),
    }


def _node_name(result: dict[str, Any]) -> str:
    unique_id = str(result.get("unique_id", "?"))
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def read_results(target: Path) -> list[dict[str, Any]]:
    path = target / "run_results.json"
    if not path.exists():
        return []
    results: list[dict[str, Any]] = json.loads(path.read_text())["results"]
    return results


def project_fingerprint(project_dir: Path = DBT_PROJECT) -> str:
    """SHA-256 over the dbt project's files that dbt reads (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.suffix not in PROJECT_SUFFIXES or NOT_PROJECT & set(relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def raw_fingerprints(settings: Settings) -> dict[str, str]:
    """A fingerprint of each raw table's content (row count and an order-free hash)."""
    parts = []
    for name in EXTRACTED_TABLES:
        hashed = (
            f"hash(t.{raw_table(name).key}, t.updated_at)" if name in STAMPED_TABLES else "hash(t)"
        )
        parts.append(
            f"SELECT '{name}', count(*) || ':' || coalesce(bit_xor({hashed}), 0) "  # noqa: S608
            f'FROM raw."{name}" AS t'
        )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    return {str(name): str(value) for name, value in rows}


def changed_selection(previous: dict[str, str], current: dict[str, str]) -> str:
    """The dbt selection of an incremental build: everything downstream of a raw table whose
    fingerprint changed, and ALWAYS."""
    changed = sorted(t for t in current if previous.get(t) != current[t])
    return " ".join([*(f"source:core.{t}+" for t in changed), ALWAYS])


def _built_sources(target: Path) -> dict[str, str]:
    path = target / BUILT_SOURCES
    if not path.exists():
        return {}
    built: dict[str, str] = json.loads(path.read_text())
    return built


def _built_project(target: Path) -> str | None:
    path = target / BUILT_PROJECT
    return path.read_text().strip() if path.exists() else None


def build_arguments(*, select: str | None, full_refresh: bool) -> list[str]:
    """`dbt build`'s arguments: every node (or `select`); the unit tests only in a full build.
    The file log at info level (one line per node: dbt's debug log is tens of thousands of
    lines a build)."""
    return [
        "build",
        *(["--select", select] if select else []),
        *(["--full-refresh"] if full_refresh else ["--exclude", "resource_type:unit_test"]),
        "--log-level-file",
        "info",
    ]


def _dbt_context() -> ForkServerContext:
    """The forkserver context of the builds; the forkserver itself starts with the first."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(DBT_PRELOAD)
            _context = context
        return _context


def _dbt_child(args: list[str], env: dict[str, str], cwd: str, output: str) -> None:
    """In the forked child: run `dbt args` with dbtRunner in `env`, stdout and stderr to
    `output`; exit 0 when dbt succeeded, 1 when not (an exception: multiprocessing prints it
    and exits 1)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    with open(output, "wb", buffering=0) as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    if result.exception is not None:
        print(f"dbt: {result.exception!r}", file=sys.stderr)
    _close_warehouse()
    times = os.times()
    print(f"{DBT_CPU_PREFIX}{times.user + times.system:.3f}")
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(0 if result.success else 1)


def _close_warehouse() -> None:
    """Checkpoint and close the DuckDB connection dbt-duckdb keeps (STACK.md, trap 4). A
    multiprocessing child ends with `os._exit`, which skips the interpreter's clean-up: without
    this the build's writes stay in the WAL file, and every reader (each `dentops kpi` query,
    read-only, cannot checkpoint) replays it on connecting (the bench's KPI query took 2.6
    times as long)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is None:
        return
    connection = getattr(environment, "conn", None)
    if connection is not None:
        try:
            connection.execute("CHECKPOINT")
        except duckdb.Error as error:  # the build's outcome stands; readers replay the WAL
            print(f"dentops: no checkpoint after the build: {error}", file=sys.stderr)
    environment.close()
    DuckDBConnectionManager._ENV = None


def run_dbt(settings: Settings, args: list[str]) -> tuple[int, str]:
    """`dbt args` on this warehouse in a child forked from the dbt forkserver: its exit code
    (0 when dbt succeeded) and its output (the last line its CPU seconds, when it got there)."""
    _, logs = dbt_paths(settings)
    logs.mkdir(parents=True, exist_ok=True)
    output = logs / DBT_OUTPUT
    child = _dbt_context().Process(
        target=_dbt_child,
        args=(args, dbt_environment(settings), os.getcwd(), str(output)),
        name="dbt",
    )
    with _main_module_hidden():
        child.start()
    try:
        child.join()
    except BaseException:  # interrupted: the build does not outlive its caller
        child.kill()
        child.join()
        raise
    text = output.read_text(errors="replace") if output.exists() else ""
    return (child.exitcode if child.exitcode is not None else -1), text


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While a dbt child starts, this process's main module is an empty one. multiprocessing
    runs the parent's main script again in each child (and in the forkserver), so that objects
    defined there can be unpickled; the dbt child needs nothing from it, and the script may
    not be one that can run twice: under the dashboards' tests it was a Streamlit page, which
    failed without its session and failed the build with it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _child_cpu(output: str) -> float:
    lines = [line for line in output.splitlines() if line.startswith(DBT_CPU_PREFIX)]
    return float(lines[-1].removeprefix(DBT_CPU_PREFIX)) if lines else 0.0


def build_warehouse(
    settings: Settings,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    project_dir: Path = DBT_PROJECT,
) -> BuildResult:
    """Run `dbt build` (seeds, models, tests; only `select`, a dbt selection, when given) on
    the warehouse, incrementally unless `full_refresh` or the project changed since the last
    full build; raise on any failure."""
    target, _ = dbt_paths(settings)
    fingerprint = project_fingerprint(project_dir)
    whole = select is None
    if whole and _built_project(target) != fingerprint:
        full_refresh = True  # a new or changed project: no row built by other SQL may stay
    sources: dict[str, str] = {}
    if whole:
        try:
            sources = raw_fingerprints(settings)
        except duckdb.Error:
            sources = {}  # no raw tables yet: dbt says what is missing
        if not full_refresh and sources:
            select = changed_selection(_built_sources(target), sources)
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)  # never read an earlier build's outcome
    if whole:  # written again only once this build has succeeded
        (target / BUILT_SOURCES).unlink(missing_ok=True)
        if full_refresh:
            (target / BUILT_PROJECT).unlink(missing_ok=True)
    returncode, output = run_dbt(
        settings,
        dbt_command(
            settings,
            *build_arguments(select=select, full_refresh=full_refresh),
            project_dir=project_dir,
        )[1:],
    )
    results = read_results(target)
    failed = [r for r in results if r.get("status") in FAILED]
    if returncode != 0 or failed:
        if failed:
            names = ", ".join(_node_name(r) for r in failed)
            details = "; ".join(f"{_node_name(r)}: {r.get('message')}" for r in failed)
            raise WarehouseBuildFailed(f"dbt build failed in {names} ({details})")
        lines = [line for line in output.splitlines() if not line.startswith(DBT_CPU_PREFIX)]
        tail = "\n".join("\n".join(lines).strip().splitlines()[-15:])
        raise WarehouseBuildFailed(f"dbt build failed before running any node:\n{tail}")
    if whole and full_refresh:
        (target / BUILT_PROJECT).write_text(fingerprint + "\n")
    if whole and sources:
        (target / BUILT_SOURCES).write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n")
    return BuildResult(
        nodes=len(results),
        passed=sum(1 for r in results if r.get("status") in ("success", "pass")),
        warned=[_node_name(r) for r in results if r.get("status") == "warn"],
        seconds=round(sum(float(r.get("execution_time") or 0) for r in results), 2),
        target_path=str(target),
        full_refresh=full_refresh,
        dbt_cpu_seconds=_child_cpu(output),
    )
