"""The dashboards' warehouse reader: a page reads the file read-only and lets go of it after, so
a pipeline in another process can write between page loads; while a writer holds it, or before
the marts exist, a page is told why instead of failing."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from dashboards.loaders.warehouse import WarehouseUnavailable, has_table, read_only

WRITE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("INSERT INTO marts.t VALUES (2)")
con.close()
"""

HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
con.close()
"""


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "it's a warehouse.duckdb"  # a quote in the path is escaped
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.t AS SELECT 1 AS n")
    return path


def test_reads_do_not_write_and_release_the_file_for_another_process(warehouse: Path) -> None:
    with read_only(warehouse) as con:
        assert con.execute("SELECT n FROM marts.t").fetchall() == [(1,)]
        assert has_table(con, "marts", "t") and not has_table(con, "ml", "demand_forecasts")
        with pytest.raises(duckdb.Error):
            con.execute("INSERT INTO marts.t VALUES (9)")
    subprocess.run([sys.executable, "-c", WRITE, str(warehouse)], check=True, timeout=120)
    with read_only(warehouse) as con:
        assert con.execute("SELECT n FROM marts.t ORDER BY n").fetchall() == [(1,), (2,)]


def test_a_missing_file_a_missing_mart_and_a_writer_holding_it_are_reported(
    warehouse: Path, tmp_path: Path
) -> None:
    with (
        pytest.raises(WarehouseUnavailable, match="no warehouse"),
        read_only(tmp_path / "none.duckdb"),
    ):
        pass
    with (
        pytest.raises(WarehouseUnavailable, match="marts are not built"),
        read_only(warehouse) as con,
    ):
        con.execute("SELECT * FROM marts.kpi_daily")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseUnavailable, match="cannot be read now"), read_only(warehouse):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=120)
        if holder.stdout is not None:
            holder.stdout.close()
    with read_only(warehouse) as con:  # and the next load works again
        assert con.execute("SELECT count(*) FROM marts.t").fetchone() == (1,)


def test_page_loads_from_several_threads_take_turns(warehouse: Path) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            for _ in range(20):
                with read_only(warehouse) as con:
                    found = con.execute("SELECT sum(n) FROM marts.t").fetchone()
                    results.append(int(found[0]) if found else -1)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [1] * 80
