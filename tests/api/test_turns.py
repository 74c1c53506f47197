"""Requests whose work runs on the event loop take turns (core_app.api.on_the_loop.Turns):
first come, first served, with the loop's I/O (new requests) read between any two turns; a
turn waits for its whole body, and ends when the response starts or the request fails. On a
real event loop (asyncio's and uvloop's, which uvicorn picks when it is installed)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from core_app.api.on_the_loop import Turns

SCOPE: Scope = {"type": "http", "method": "GET", "path": "/"}
START: Message = {"type": "http.response.start", "status": 200, "headers": []}
END: Message = {"type": "http.response.body", "body": b"", "more_body": False}


def _loops() -> list[Any]:
    found: list[Any] = [asyncio.run]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return found
    return [*found, uvloop.run]


LOOPS = pytest.mark.parametrize("run", _loops(), ids=lambda run: run.__module__.split(".")[0])


def _busy(seconds: float) -> None:
    """Synchronous work, as a route's on the loop."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _whole_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(_message: Message) -> None:
    return None


def _app(work: Callable[[], None]) -> Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]:
    async def app(_scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        work()
        await send(START)
        await send(END)

    return app


def _noting(
    turns: Turns, done: list[str], label: str, send: Send = _discard
) -> Coroutine[Any, Any, None]:
    """A request whose work notes `label` in `done`, taking its turn."""
    return turns.take(_app(lambda: done.append(label)), SCOPE, _whole_body, send)


def _holding(
    release: asyncio.Event, done: list[str] | None = None
) -> Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]:
    """An app that holds its turn until `release` is set (noting "first" in `done`)."""

    async def app(_scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        if done is not None:
            done.append("first")
        await release.wait()
        await send(START)
        await send(END)

    return app


@LOOPS
def test_turns_go_in_arrival_order_with_the_sockets_read_between(run: Any) -> None:
    events: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        loop.add_reader(reader, lambda: events.append(f"read {reader.recv(16).decode()}"))
        turns = Turns()

        def work(n: int) -> Callable[[], None]:
            def run_work() -> None:
                events.append(f"work {n}")
                writer.send(str(n).encode())  # I/O that becomes ready during the turn
                _busy(0.002)

            return run_work

        try:
            await asyncio.gather(
                *(turns.take(_app(work(n)), SCOPE, _whole_body, _discard) for n in range(4))
            )
            await asyncio.sleep(0.01)
        finally:
            loop.remove_reader(reader)
            reader.close()
            writer.close()

    run(main())
    # without turns the four ran back to back and the loop read the socket once, after them
    assert events == [
        "work 0",
        "read 0",
        "work 1",
        "read 1",
        "work 2",
        "read 2",
        "work 3",
        "read 3",
    ]


@LOOPS
def test_a_request_still_sending_its_body_holds_up_nobody(run: Any) -> None:
    done: list[str] = []

    async def main() -> None:
        turns = Turns()
        rest_of_body = asyncio.Event()
        parts = iter([b"first half ", b"second half"])

        async def slow_receive() -> Message:
            part = next(parts)
            if part == b"second half":
                await rest_of_body.wait()
            return {"type": "http.request", "body": part, "more_body": part != b"second half"}

        async def slow_app(_scope: Scope, receive: Receive, send: Send) -> None:
            body = b""
            while True:
                message = await receive()
                body += message["body"]
                if not message["more_body"]:
                    break
            done.append(body.decode())
            await send(START)
            await send(END)

        slow = asyncio.create_task(turns.take(slow_app, SCOPE, slow_receive, _discard))
        await asyncio.sleep(0)
        await _noting(turns, done, "quick")
        assert not slow.done()
        rest_of_body.set()
        await slow

    run(main())
    assert done == ["quick", "first half second half"]


@LOOPS
def test_the_turn_ends_when_the_response_starts(run: Any) -> None:
    done: list[str] = []

    async def main() -> None:
        turns = Turns()
        reader_is_slow = asyncio.Event()

        async def slow_reader(message: Message) -> None:
            if message["type"] == "http.response.body":
                await reader_is_slow.wait()  # a client that reads its response late

        first = asyncio.create_task(_noting(turns, done, "first", slow_reader))
        await asyncio.sleep(0)  # `first` has started its response, and waits for its reader
        await _noting(turns, done, "second")
        assert not first.done()
        reader_is_slow.set()
        await first

    run(main())
    assert done == ["first", "second"]


@LOOPS
def test_a_failed_request_passes_its_turn_on(run: Any) -> None:
    done: list[str] = []

    def fail() -> None:
        raise RuntimeError("the route failed")

    async def main() -> None:
        turns = Turns()
        failing = turns.take(_app(fail), SCOPE, _whole_body, _discard)
        after = _noting(turns, done, "after")
        results = await asyncio.gather(failing, after, return_exceptions=True)
        assert isinstance(results[0], RuntimeError)

    run(main())
    assert done == ["after"]


@LOOPS
def test_a_cancelled_request_leaves_the_line(run: Any) -> None:
    done: list[str] = []

    async def main() -> None:
        turns = Turns()

        release = asyncio.Event()
        first = asyncio.create_task(
            turns.take(_holding(release, done), SCOPE, _whole_body, _discard)
        )
        await asyncio.sleep(0)  # `first` holds the turn; the next two get in line
        waiting = asyncio.create_task(_noting(turns, done, "cancelled"))
        last = asyncio.create_task(_noting(turns, done, "last"))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # and the line is free again afterwards
        await _noting(turns, done, "again")

    run(main())
    assert done == ["first", "last", "again"]


@LOOPS
def test_a_request_cancelled_as_its_turn_came_passes_it_on(run: Any) -> None:
    done: list[str] = []

    async def main() -> None:
        turns = Turns()
        release = asyncio.Event()
        first = asyncio.create_task(turns.take(_holding(release), SCOPE, _whole_body, _discard))
        await asyncio.sleep(0)
        unlucky = asyncio.create_task(_noting(turns, done, "unlucky"))
        last = asyncio.create_task(_noting(turns, done, "last"))
        await asyncio.sleep(0)
        handed = turns._line().waiting[0]  # the turn `unlucky` waits for
        release.set()
        while not handed.done():
            await asyncio.sleep(0)
        unlucky.cancel()  # handed its turn, cancelled before it could take it
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await unlucky

    run(main())
    assert done == ["last"]
