"""How commands report: one JSON object with --json, a short human line otherwise."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime, time
from typing import Any

import typer


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def emit(payload: dict[str, Any], *, as_json: bool, human: str) -> None:
    if as_json:
        typer.echo(json.dumps(_plain(payload), sort_keys=True))
    else:
        typer.echo(human)


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(_plain(row.get(c, ""))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
