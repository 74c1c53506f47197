"""Where the synchronous route functions (and the session lookup) run: on the event loop, or
in the thread pool.

FastAPI runs a plain `def` route in a worker thread, and its response validation and every
plain `def` dependency in one more each: three hand-overs between the event loop's thread and
a worker thread per request, each a wake-up and a pass of the interpreter lock. When the app
serves one request at a time anyway (the SQLite default: one thread, `core_app.api.app`), they
cost CPU and buy nothing: a trivial authenticated GET took 2.5-2.9 ms of server CPU with them,
2.0 ms without (the serving process, 1 000 sequential requests). So every route is declared as
a coroutine (`CoreRoute`) that calls the route's function either directly on the loop or in the
thread pool, as the app was set up (`OnTheLoop`, per request, so that apps of both kinds can
live in one process, as in the tests). On the loop a long request holds up the process's other
connections until it ends; the other worker processes (`dentops api --workers`) go on serving.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

T = TypeVar("T")

_ON_THE_LOOP: ContextVar[bool] = ContextVar("dentops_routes_on_the_loop", default=False)


class OnTheLoop:
    """ASGI middleware: the requests it passes run their synchronous work on the event loop
    (`enabled`) or in the thread pool."""

    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _ON_THE_LOOP.set(self.enabled)
        try:
            await self.app(scope, receive, send)
        finally:
            _ON_THE_LOOP.reset(token)


async def run_sync(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)`, on the loop or in the thread pool (see the module)."""
    if _ON_THE_LOOP.get():
        return function(*args, **kwargs)
    return await run_in_threadpool(function, *args, **kwargs)


def as_coroutine(function: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine function with `function`'s signature (FastAPI reads it through
    `__wrapped__`) that runs it by `run_sync`; a coroutine function is returned as it is."""
    if inspect.iscoroutinefunction(function):
        return function

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_sync(function, *args, **kwargs)

    return run


class CoreRoute(APIRoute):
    """The route class of every router: its endpoint runs by `run_sync`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, as_coroutine(endpoint), **kwargs)
