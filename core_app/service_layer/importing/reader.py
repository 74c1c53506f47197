"""Reading a CSV file of the interchange format: header checks, records with their line numbers,
and typed values, reporting every unreadable one by line and column."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core_app.service_layer.importing.csv_format import FileSpec
from core_app.service_layer.importing.problems import Problems
from core_app.service_layer.importing.values import CellError


@dataclass(frozen=True)
class Table:
    """A file's header (the known columns it has, by position) and its records as (first line,
    raw fields)."""

    spec: FileSpec
    columns: dict[str, int]
    complete: bool  # every required column is there
    records: list[tuple[int, list[str]]]

    @property
    def present(self) -> frozenset[str]:
        return frozenset(self.columns)


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
    columns: dict[str, int] = {}
    for position, name in enumerate(names):
        if name not in known:
            problems.add(
                spec.name,
                1,
                name,
                f"unknown column; {spec.name} has the columns {', '.join(spec.names)}",
            )
        elif name in columns:
            problems.add(spec.name, 1, name, "the column appears twice")
        else:
            columns[name] = position
    missing = [name for name in spec.required_names if name not in columns]
    for name in missing:
        problems.add(spec.name, 1, name, "a required column is missing")
    records: list[tuple[int, list[str]]] = []
    width = len(names)
    last_line = reader.line_num
    for row in reader:
        line, last_line = last_line + 1, reader.line_num
        if len(row) != width:
            if any(cell.strip() for cell in row):
                problems.add(
                    spec.name, line, "", f"the record has {len(row)} fields; the header has {width}"
                )
            continue
        records.append((line, row))
    return Table(spec, columns, not missing, records)


Parser = Callable[[str], object]


def convert(
    table: Table, parsers: dict[str, Parser], problems: Problems
) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """Each record as (line, {column: value}, usable): only the columns the file has, empty
    cells left out; an unreadable or missing required value is a problem (and the record is
    not usable)."""
    file = table.spec.name
    required = frozenset(table.spec.required_names) & table.columns.keys()
    plan = [(name, position, parsers[name]) for name, position in table.columns.items()]
    for line, row in table.records:
        if not any(row):
            continue
        try:  # the common case, in one comprehension
            fast: dict[str, Any] | None = {
                name: parse(text) for name, at, parse in plan if (text := row[at].strip())
            }
        except CellError:
            fast = None
        if fast is not None and required <= fast.keys():
            yield line, fast, table.complete
            continue
        usable = table.complete
        values = {}
        for name, position, parse in plan:  # say what is wrong, cell by cell
            text = row[position].strip()
            if text:
                try:
                    values[name] = parse(text)
                except CellError as error:
                    problems.add(file, line, name, str(error))
                    usable = False
            elif name in required:
                problems.add(file, line, name, "a value is required")
                usable = False
        yield line, values, usable
