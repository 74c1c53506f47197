"""Reading a CSV file of the interchange format: header checks, records with their line numbers,
and typed cells that report every unreadable value by line and column."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from core_app.service_layer.importing.csv_format import FileSpec
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.values import CellError

T = TypeVar("T")


@dataclass(frozen=True)
class Table:
    """A file's header (the known columns it has) and its records as (first line, cells)."""

    spec: FileSpec
    present: frozenset[str]
    complete: bool  # every required column is there
    records: list[tuple[int, dict[str, str]]]


def read_table(folder: Path, spec: FileSpec, problems: Problems) -> Table | None:
    """None when the file is absent (a problem if it is required) or unreadable."""
    path = folder / spec.name
    if not path.is_file():
        if spec.required:
            problems.add(spec.name, 0, "", f"the file is missing from {folder}")
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(handle, spec, problems)
    except UnicodeDecodeError as error:
        problems.add(spec.name, 0, "", f"the file is not UTF-8 text ({error.reason})")
    except csv.Error as error:
        problems.add(spec.name, 0, "", f"the file is not valid CSV ({error})")
    return None


def _read(handle: Iterator[str], spec: FileSpec, problems: Problems) -> Table | None:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        problems.add(spec.name, 1, "", "the file has no header line")
        return None
    names = [cell.strip() for cell in header]
    known = set(spec.names)
    keep: list[tuple[int, str]] = []
    for position, name in enumerate(names):
        if name not in known:
            problems.add(
                spec.name,
                1,
                name,
                f"unknown column; {spec.name} has the columns {', '.join(spec.names)}",
            )
        elif name in names[:position]:
            problems.add(spec.name, 1, name, "the column appears twice")
        else:
            keep.append((position, name))
    present = frozenset(name for _, name in keep)
    missing = [name for name in spec.required_names if name not in present]
    for name in missing:
        problems.add(spec.name, 1, name, "a required column is missing")
    records: list[tuple[int, dict[str, str]]] = []
    width = len(names)
    last_line = reader.line_num
    for row in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            problems.add(
                spec.name, line, "", f"the record has {len(row)} fields; the header has {width}"
            )
            continue
        records.append((line, {name: row[position].strip() for position, name in keep}))
    return Table(spec, present, not missing, records)


class Cells:
    """One record's cells; `read` returns a typed value or None and records any problem."""

    def __init__(self, table: Table, line: int, values: dict[str, str], problems: Problems):
        self.file = table.spec.name
        self.present = table.present
        self.line = line
        self.values = values
        self.problems = problems
        self.ok = True

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def read(self, name: str, parse: Callable[[str], T], *, required: bool = False) -> T | None:
        text = self.values.get(name, "")
        if not text:
            if required and name in self.present:
                self.fail(name, "a value is required")
            elif required:
                self.ok = False
            return None
        try:
            return parse(text)
        except CellError as error:
            self.fail(name, str(error))
            return None

    def fail(self, column: str, reason: str) -> None:
        self.problems.add(self.file, self.line, column, reason)
        self.ok = False
