"""The FastAPI application: routers, error handlers, the request id on every response, and
the deny-by-default check that every route declares who may call it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core_app.api import (
    routes_appointments,
    routes_auth,
    routes_money,
    routes_patients,
    routes_planning,
    routes_practice,
)
from core_app.api.errors import install_handlers
from core_app.api.on_the_loop import OnTheLoop
from core_app.service_layer import card_payments, sessions
from core_app.service_layer.bootstrap import App

#: routes anyone may call: they authenticate the caller themselves (password, signature)
PUBLIC_ROUTES = frozenset({("POST", "/v1/auth/sign-in"), ("POST", "/v1/webhooks/stripe")})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """X-Request-ID on every response: the caller's (if it looks like an id) or a new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


def api_routes(api: FastAPI) -> list[APIRoute]:
    """Every API route (FastAPI 0.150 keeps included routers nested)."""
    return [c.route for c in iter_route_contexts(api.routes) if isinstance(c.route, APIRoute)]


def route_guard(route: APIRoute) -> str:
    """`public`, `signed_in` or the Action a route requires; raises for a route without one."""
    methods = route.methods or set()
    if any((m, route.path) in PUBLIC_ROUTES for m in methods):
        return "public"
    for dependency in route.dependant.dependencies:
        call: Any = dependency.call
        action = getattr(call, "required_action", None)
        if action is not None:
            return str(action)
        if getattr(call, "signed_in_only", False):
            return "signed_in"
    raise RuntimeError(f"route {sorted(methods)} {route.path} declares no permission")


def _openapi(api: FastAPI) -> dict[str, Any]:
    if api.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes
        )
        header = {
            "description": "The request's id (also in error bodies).",
            "schema": {"type": "string"},
        }
        for path in schema["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    response.setdefault("headers", {})["X-Request-ID"] = header
        api.openapi_schema = schema
    return api.openapi_schema


def _threads(core: App) -> int:
    """Threads that run the (synchronous) routes. SQLite has one writer and every transaction
    takes the write lock first: more threads only poll its busy handler, which makes waits
    long and unfair; a queue in front of one thread is served in order. One thread rather
    than two: under the GIL a second thread overlaps nothing but SQLite's own calls, and the
    lock hand-offs and busy polls between the two cost CPU (bench/api_load.py, 16 clients:
    6.1-6.2 ms of server CPU per request with one thread, 7.6-9.0 with two, same code and
    hour, docs/benchmarks.md)."""
    wanted = core.settings.api_threads
    return wanted if wanted > 0 else (1 if core.backend == "sqlite" else 16)
    # one thread: the routes run on the event loop itself (`core_app.api.on_the_loop`)


def create_api(
    core: App,
    *,
    policy: sessions.SessionPolicy | None = None,
    processor: Any = None,
) -> FastAPI:
    settings = core.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = _threads(core)
        yield

    api = FastAPI(
        lifespan=lifespan,
        title="dentops API",
        version="1",
        description="Appointments, patients, payments, risk flags and suggestions of a dental "
        "practice. Sign in at POST /v1/auth/sign-in, then send `Authorization: Bearer <token>`.",
    )
    api.state.core = core
    api.state.policy = policy or sessions.SessionPolicy(
        idle_timeout_s=settings.session_idle_timeout_s,
        max_lifetime_s=settings.session_max_lifetime_s,
        max_failures=settings.sign_in_max_failures,
        failure_window_s=settings.sign_in_failure_window_s,
        lockout_s=settings.sign_in_lockout_s,
    )
    api.state.processor = processor or card_payments.processor_from(settings)
    for module in (
        routes_auth,
        routes_practice,
        routes_patients,
        routes_appointments,
        routes_money,
        routes_planning,
    ):
        api.include_router(module.router)
    install_handlers(api)
    api.add_middleware(RequestIdMiddleware)
    api.add_middleware(OnTheLoop, enabled=_threads(core) == 1)
    for route in api_routes(api):
        route_guard(route)  # deny by default: refuse to start with an unguarded route
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    return api
