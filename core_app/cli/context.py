"""Per-invocation context: settings, the connected application, the acting staff user."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer

from core_app.config import Settings
from core_app.domain.exceptions import DomainError, ValidationError
from core_app.domain.staff import Actor
from core_app.service_layer import bootstrap, break_glass, users
from core_app.service_layer.bootstrap import App

T = TypeVar("T")

#: exit status per kind of refusal; usage errors exit 2 (typer's own)
EXIT_REFUSED = 1
EXIT_CONFLICT = 3
EXIT_NOT_FOUND = 4
EXIT_DENIED = 5
EXIT_BUSY = 6
_EXIT_BY_CODE = {
    "slot_unavailable": EXIT_CONFLICT,
    "idempotency_conflict": EXIT_CONFLICT,
    "busy": EXIT_BUSY,
    "not_found": EXIT_NOT_FOUND,
    "permission_denied": EXIT_DENIED,
    "authentication_failed": EXIT_DENIED,
}


def fail(message: str, *, code: str, status: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(status)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a refused request into one line on stderr and a non-zero exit."""
    try:
        yield
    except DomainError as error:
        fail(str(error), code=error.code, status=_EXIT_BY_CODE.get(error.code, EXIT_REFUSED))


class Session:
    def __init__(self, actor_name: str | None) -> None:
        self.actor_name = actor_name
        self._app: App | None = None

    @property
    def settings(self) -> Settings:
        return Settings()

    @property
    def app(self) -> App:
        if self._app is None:
            with refusals():
                try:
                    self._app = bootstrap.connect(self.settings)
                except Exception as error:  # key file missing or unreadable, bad URL
                    raise ValidationError(str(error)) from error
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None

    def actor(self) -> Actor:
        if not self.actor_name:
            fail(
                "say who is acting: --actor USERNAME or DENTOPS_ACTOR",
                code="no_actor",
                status=EXIT_DENIED,
            )
        with refusals():
            actor = users.actor_for(self.app.uow(), self.actor_name)
            return break_glass.with_open_grant(self.app.uow(), actor)
        raise AssertionError("unreachable")

    def run(self, call: Callable[[App, Actor], T]) -> T:
        actor = self.actor()
        with refusals():
            return call(self.app, actor)
        raise AssertionError("unreachable")


def parse_local_time(text: str, timezone: str) -> datetime:
    """`2026-12-01 09:30` in the clinic's zone, or an ISO time with an explicit offset."""
    try:
        value = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError:
        raise ValidationError(
            f"cannot read time {text!r}; write YYYY-MM-DD HH:MM (clinic local time)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(timezone))
