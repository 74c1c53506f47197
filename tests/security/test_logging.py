"""The log allow-list: numbers and marked names pass, anything else is redacted or dropped."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core_app.domain.exceptions import ValidationError
from core_app.logging_setup import REDACTED, Safe, configure_logging

SECRET = "Quillonia Vexhammer"
EMAIL = "quillonia.vexhammer@example.org"


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(logging.DEBUG, stream=stream)
    yield stream
    root.handlers, _ = saved
    root.setLevel(saved[1])


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_arguments_are_kept_only_when_numbers_or_marked_safe(lines: io.StringIO) -> None:
    log = logging.getLogger("dentops.test")
    log.info("patient %s booked appointment %d in %s", SECRET, 42, Safe("raw.appointments"))

    [record] = records(lines)
    assert record["event"] == "patient %s booked appointment %d in %s"
    assert record["args"] == [REDACTED, 42, "raw.appointments"]
    assert record["level"] == "info" and record["logger"] == "dentops.test"
    assert SECRET not in lines.getvalue()


def test_extra_fields_pass_only_from_the_allow_list_and_as_tokens(lines: io.StringIO) -> None:
    logging.getLogger("dentops.api").warning(
        "request refused",
        extra={
            "request_id": "r-7f3a",
            "patient_id": 12,
            "route": "/patients/{patient_id}",
            "error_code": EMAIL,  # allowed name, but an email is no token
            "first_name": SECRET,  # not on the list at all
            "notes": "allergic to penicillin",
        },
    )

    [record] = records(lines)
    assert record["request_id"] == "r-7f3a" and record["patient_id"] == 12
    assert record["route"] == "/patients/{patient_id}"
    assert record["error_code"] == REDACTED
    assert "first_name" not in record and "notes" not in record
    text = lines.getvalue()
    assert SECRET not in text and EMAIL not in text and "penicillin" not in text


def test_an_exception_is_logged_by_type_and_place_without_its_message(
    lines: io.StringIO,
) -> None:
    try:
        raise ValidationError(f"email {EMAIL!r} is not an email address")
    except ValidationError:
        logging.getLogger("dentops.cli").exception("command failed for %s", SECRET)

    [record] = records(lines)
    error = record["error"]
    assert isinstance(error, dict)
    assert error["type"] == "ValidationError" and error["code"] == "invalid_input"
    assert str(error["where"]).endswith(f"test_logging.py:{_raise_line()}")
    text = lines.getvalue()
    assert EMAIL not in text and SECRET not in text and "Traceback" not in text


def _raise_line() -> int:
    import inspect

    source, start = inspect.getsourcelines(
        test_an_exception_is_logged_by_type_and_place_without_its_message
    )
    return start + next(i for i, line in enumerate(source) if "raise ValidationError" in line)


def test_other_libraries_handlers_get_safe_records_too(lines: io.StringIO) -> None:
    """A handler configured by another library (Prefect, uvicorn) formats the message with its
    own format: the record was made safe when it was created."""
    own = io.StringIO()
    handler = logging.StreamHandler(own)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    library.propagate = False
    try:
        library.error("could not deliver to %s (attempt %d)", EMAIL, 3)
    finally:
        library.removeHandler(handler)
        library.propagate = True

    assert own.getvalue().strip() == f"ERROR could not deliver to {REDACTED} (attempt 3)"


def test_configuring_twice_keeps_one_handler(lines: io.StringIO) -> None:
    configure_logging(logging.INFO, stream=lines)
    logging.getLogger("dentops").info("once")
    assert len(records(lines)) == 1
