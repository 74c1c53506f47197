"""Dependencies: the core application, the signed-in actor, the role check of each route
(its `Action` from core_app.domain.staff.PERMISSIONS), paging.

Only `current_actor` does I/O (the session query) and runs in a worker thread; the others are
plain computations declared `async`, so FastAPI runs them on the event loop instead of handing
each to the thread pool: with a few threads and many requests, every hand-over queued behind
other requests' database work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from core_app.api.errors import ApiError
from core_app.api.on_the_loop import as_coroutine
from core_app.domain.staff import Action, Actor
from core_app.service_layer import sessions
from core_app.service_layer.bootstrap import App
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

T = TypeVar("T")

MAX_PAGE = 200
_bearer = HTTPBearer(auto_error=False, description="A session token from POST /v1/auth/sign-in.")


async def core(request: Request) -> App:
    app: App = request.app.state.core
    return app


async def policy(request: Request) -> sessions.SessionPolicy:
    found: sessions.SessionPolicy = request.app.state.policy
    return found


CoreDep = Annotated[App, Depends(core)]
PolicyDep = Annotated[sessions.SessionPolicy, Depends(policy)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "sign in first", {"WWW-Authenticate": "Bearer"})
    return credentials.credentials


async def bearer_token(credentials: Credentials) -> str:
    return _token(credentials)


TokenDep = Annotated[str, Depends(bearer_token)]


def current_actor(request: Request, credentials: Credentials) -> Actor:
    """The signed-in actor. Reads the app and the session policy from the request itself, not
    through dependencies of its own: FastAPI walks a route's whole dependency tree on every
    request, cached results included, and this one is in every route's tree twice (the role
    check and the route's own `actor`)."""
    state = request.app.state
    return sessions.actor_for_token(state.core.uow(), state.policy, _token(credentials))


#: the session lookup reads the database: by `run_sync`, like the routes
CurrentActor = Annotated[Actor, Depends(as_coroutine(current_actor))]


async def signed_in(actor: CurrentActor) -> Actor:
    """Any signed-in user (their own session and second factor)."""
    return actor


signed_in.signed_in_only = True  # type: ignore[attr-defined]


def allowed(action: Action) -> Any:
    """The route's role check: deny unless PERMISSIONS grants `action` to the actor's role.
    Which clinic's records the actor reaches is checked per record (404 for another's)."""

    async def check(actor: CurrentActor) -> Actor:
        actor.require(action)
        return actor

    check.required_action = action  # type: ignore[attr-defined]
    return Depends(check)


async def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> tuple[int, int]:
    return limit, offset


PagingDep = Annotated[tuple[int, int], Depends(paging)]


def page(
    items: Sequence[Any], paging: tuple[int, int], convert: Callable[[Any], T]
) -> dict[str, Any]:
    """One page of an already filtered list."""
    limit, offset = paging
    chosen = items[offset : offset + limit]
    more = offset + limit < len(items)
    return {
        "items": [convert(item) for item in chosen],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


def one_unit(
    app: App,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    work: Callable[[UnitOfWork], T],
    *,
    read_only: bool = False,
) -> T:
    """A request's scoping check, use case and read-back as one unit of work (one
    transaction; `read_only`: without the write lock, its audit entries written when it ends)."""
    return run_use_case(
        app.uow(),
        actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        work=work,
        read_only=read_only,
    )


def clinic_scope(actor: Actor, clinic_id: int | None) -> int:
    """The clinic a list is about: the one asked for, else the actor's own."""
    if clinic_id is None:
        if actor.clinic_id is None:
            raise ApiError(422, "invalid_input", "clinic_id: missing (you see every clinic)")
        return actor.clinic_id
    return clinic_id
