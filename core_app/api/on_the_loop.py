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

import asyncio
import contextlib
import functools
import inspect
import weakref
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

_ON_THE_LOOP: ContextVar[bool] = ContextVar("dentops_routes_on_the_loop", default=False)


class OnTheLoop:
    """ASGI middleware: the requests it passes run their synchronous work on the event loop
    (`enabled`) or in the thread pool.

    On the loop, requests take turns in the order they arrived (`Turns`): each holds the
    loop from the start of its work until it starts its response, and waits for its whole
    request body before it gets in line (a slow sender never holds up the others)."""

    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled
        self.turns = Turns()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _ON_THE_LOOP.set(self.enabled)
        try:
            if self.enabled and scope["type"] == "http":
                await self.turns.take(self.app, scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            _ON_THE_LOOP.reset(token)


class Turns:
    """First come, first served for the requests of one event loop, with the sockets read
    between any two.

    An event loop runs, in each pass, every callback that became ready before the pass
    began, and reads the sockets only between passes. With the routes' work done on the
    loop (a few ms each), every request read in one pass was served in the next, back to
    back, and a request that arrived meanwhile waited for that whole batch and then for its
    own: on bench/api_load.py (16 clients, one worker) one request in sixteen waited for 29
    others instead of 13 (a client's reply came just after the sockets were read, in every
    round), which made the 95th percentile about twice the median. Here a request's work
    starts only in a pass after the previous request's work ended, so the sockets are read
    in between and whoever arrived meanwhile is in line; requests are served in the order
    they got in line. A turn ends when the response starts (the work is done by then;
    writing to a slow reader holds up nobody) or when the request fails."""

    def __init__(self) -> None:
        # one line per event loop: the app may serve in several loops in turn (tests)
        self._lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Line] = (
            weakref.WeakKeyDictionary()
        )

    def _line(self) -> _Line:
        loop = asyncio.get_running_loop()
        line = self._lines.get(loop)
        if line is None:
            line = self._lines[loop] = _Line(loop)
        return line

    async def take(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _whole_request(receive)  # before getting in line
        line = self._line()
        await line.enter()
        held = True

        def end_turn() -> None:
            nonlocal held
            if held:
                held = False
                line.leave()

        async def replay() -> Message:
            return body.pop(0) if body else await receive()

        async def send_ending_turn(message: Message) -> None:
            end_turn()
            await send(message)

        try:
            await app(scope, replay, send_ending_turn)
        finally:
            end_turn()


class _Line:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.busy = False  # a turn is on, or is being handed over
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        if not self.busy and not self.waiting:
            self.busy = True
            return
        turn = self.loop.create_future()
        self.waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()  # handed the turn as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self.waiting.remove(turn)
            raise

    def leave(self) -> None:
        # in the loop's next pass, after it has read the sockets
        self.loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.busy = False


async def _whole_request(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body (or the client's disconnect)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


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
