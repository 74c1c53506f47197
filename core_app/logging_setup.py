"""Logging for every part of dentops (CLI, pipelines, API): one JSON object per line, with an
allow-list of fields, so that no patient data reaches a log.

Call `configure_logging()` once at a process's entry point. What a record may carry:

- `event`: the message *template* (`record.msg`), never a message formatted with input:
  arguments are where data would hide. Arguments are kept only if they are numbers (ids,
  counts, durations) or marked `Safe` (names the code controls); any other argument is
  replaced by `[redacted]`. Never build a log message with an f-string.
- extra fields (`logger.info("booked", extra={"appointment_id": 7})`) only if named in
  `ALLOWED_FIELDS` and holding a number, a boolean or a short token (no spaces, no `@`), e.g.
  a route template or an error code; anything else is dropped.
- exceptions: the type and the place it was raised (file and line), never the message or the
  traceback's values (a message can quote input).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

#: extra fields a log record may carry (ids, codes, counts, timings; never names or contacts)
ALLOWED_FIELDS = frozenset(
    {
        "request_id",
        "user_id",
        "actor_user_id",
        "role",
        "clinic_id",
        "patient_id",
        "appointment_id",
        "payment_id",
        "refund_id",
        "suggestion_id",
        "request_ref",
        "audit_id",
        "grant_id",
        "key_id",
        "action",
        "entity_type",
        "entity_id",
        "outcome",
        "error_code",
        "status_code",
        "method",
        "route",
        "command",
        "flow",
        "task",
        "table",
        "rows",
        "count",
        "duration_ms",
        "attempt",
    }
)
#: a short token: letters, digits and a few separators (route templates, codes, table names)
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/{}\-\[\]#]{1,100}$")
REDACTED = "[redacted]"


def _safe_value(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str) and _TOKEN.match(value) and "@" not in value:
        return value
    return None


class Safe(str):
    """A string the code itself controls (a table name, a route template, a flow name), which
    may appear as a log argument: `logger.info("raw.%s loaded", Safe(table))`. Never input."""

    __slots__ = ()


def sanitise(record: logging.LogRecord) -> logging.LogRecord:
    """Arguments and exceptions of a record made safe (see the module docstring)."""
    if getattr(record, "_dentops_safe", False):
        return record
    args = record.args
    if isinstance(args, dict):
        args = tuple(args.values())
    safe_args = tuple(
        a if isinstance(a, bool | int | float | Safe) else REDACTED for a in (args or ())
    )
    if not isinstance(record.msg, str):
        record.msg = REDACTED
    if safe_args:
        try:
            record.msg % safe_args  # does the template take these arguments?
        except (TypeError, ValueError):
            safe_args = ()
    record.args = safe_args or None
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        tb = error.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
        record._dentops_error = {
            "type": type(error).__qualname__,
            "where": where,
            "code": _safe_value(getattr(error, "code", None)),
        }
        record.msg = f"{record.msg} [{type(error).__qualname__} at {where}]"
    record.exc_info = None
    record.exc_text = None
    record.stack_info = None
    record._dentops_safe = True
    return record


class AllowListFilter(logging.Filter):
    """Makes a record safe (in case it was made before `configure_logging`) and picks the
    extra fields the allow-list permits, for `JsonFormatter`."""

    def filter(self, record: logging.LogRecord) -> bool:
        sanitise(record)
        fields: dict[str, Any] = {}
        for name, value in vars(record).items():
            if name in ALLOWED_FIELDS:  # other extras stay for other handlers' formats
                safe = _safe_value(value)
                fields[name] = safe if safe is not None or value is None else REDACTED
        record._dentops_fields = fields
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.msg if isinstance(record.msg, str) else REDACTED,
        }
        if record.args:
            payload["args"] = list(record.args) if isinstance(record.args, tuple) else REDACTED
        payload.update(getattr(record, "_dentops_fields", {}))
        error = getattr(record, "_dentops_error", None)
        if error:
            payload["error"] = error
        return json.dumps(payload, default=lambda _: REDACTED, ensure_ascii=True)


HANDLER_NAME = "dentops-json"


def configure_from_environment() -> None:
    """`configure_logging` at the level DENTOPS_LOG_LEVEL names (WARNING by default): the
    entry point of every dentops process (the CLI, each API worker)."""
    configure_logging(os.environ.get("DENTOPS_LOG_LEVEL", "WARNING").upper())


def configure_logging(level: int | str = logging.INFO, stream: IO[str] | None = None) -> None:
    """Send every log record of the process through the allow-list, as JSON lines on `stream`
    (stderr by default). Idempotent. Records that other libraries' handlers (Prefect's,
    uvicorn's) write are made safe too: see `_install_record_factory`."""
    _install_record_factory()
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != HANDLER_NAME]
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(AllowListFilter())
    root.addHandler(handler)
    root.setLevel(level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test runner may swap it)."""

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


def _install_record_factory() -> None:
    """Every record of the process is made safe when it is created, whichever handler (the
    root's, Prefect's, uvicorn's) writes it afterwards."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_dentops", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return sanitise(current(*args, **kwargs))

    factory._dentops = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
