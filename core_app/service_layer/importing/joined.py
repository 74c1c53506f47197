"""Running existing use cases inside the import's own transaction.

An import must be all or nothing, yet it is made of use cases that each run (and commit) their
own unit of work: `create_clinic`, `add_provider`, `add_chair`, `load_history`. A
`JoinedUnitOfWork` lends them the import's open session instead: their `commit` only flushes,
and leaving them neither rolls back nor closes; the import commits once at the end, or rolls
everything back. A database error inside is carried out untouched (`Escaped`), so that the
import's own `run_use_case` decides whether to retry the whole import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy.exc import DBAPIError

from core_app.service_layer.unit_of_work import UnitOfWork

_SHARED = (
    "session",
    "clinics",
    "providers",
    "chairs",
    "procedures",
    "patients",
    "users",
    "appointments",
    "charges",
    "payments",
    "idempotency",
    "audit_log",
    # audit entries wait for the commit (`UnitOfWork.audit`): the import's, which writes them
    "_held_audit",
)


class Escaped(Exception):
    """Carries a database error out of a joined use case."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


class JoinedUnitOfWork(UnitOfWork):
    """A unit of work that joins the open transaction of `outer` (see the module docstring)."""

    def __init__(self, outer: UnitOfWork) -> None:
        super().__init__(outer.session_factory, clock=outer.clock, retries=0)
        self.outer = outer

    def __enter__(self) -> JoinedUnitOfWork:
        for name in _SHARED:
            setattr(self, name, getattr(self.outer, name))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, DBAPIError):
            raise Escaped(exc) from exc

    def commit(self) -> None:
        self.session.flush()


@contextmanager
def database_errors_surface() -> Iterator[None]:
    """Around joined use cases: a database error they hit is raised as itself again."""
    try:
        yield
    except Escaped as escaped:
        raise escaped.error from None
