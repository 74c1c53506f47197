"""`dentops api` with several worker processes, each given an equal share of the connections.

uvicorn's own `--workers` shares one listening socket between its processes, and whichever
process wakes first accepts every connection waiting: 16 clients connecting at once all landed
in one process while the other sat idle (bench/api_load.py; `ss` showed 16 sockets in one
worker). One listening socket per worker with `SO_REUSEPORT` let the kernel spread them, but
by a hash of each connection's addresses, which splits 16 connections 10/6 or worse with a
probability of about 0.45 (binomial); in one measured 10/6 run the clients of the busier
worker waited 1.6 times as long at the median (a worker serves its requests one at a time,
so its latency grows with its connections; keep-alive connections stay where they landed).

Here the supervisor holds the one listening socket and deals each accepted connection to the
worker holding the fewest open connections, over a Unix socket pair per worker (the
connection's descriptor passed with SCM_RIGHTS); each worker reports every connection it
closes on the same pair. The supervisor listens before any worker starts (connections made
meanwhile wait in the listening socket's queue, then in the pair until the worker is up). A
worker that stops, for whatever reason, stops the whole server (exit status 1): it is
restarted as one, by whatever started it. The workers never hold the listening socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import selectors
import signal
import socket
import sys
import threading
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

from core_app.logging_setup import configure_from_environment

if TYPE_CHECKING:
    import uvicorn

#: the API's app factory, by import string: the CLI does not import core_app.api
API_FACTORY = "core_app.api.server:from_settings"
HOST = "127.0.0.1"
BACKLOG = 2048
#: what a worker sends back for each connection it has closed
CLOSED = b"-"
#: connections a worker takes from its pair at once, at most
BATCH = 64

log = logging.getLogger(__name__)


def uvicorn_config(port: int, log_level: str) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        API_FACTORY,
        factory=True,
        host=HOST,
        port=port,
        log_level=log_level,
        server_header=False,
        backlog=BACKLOG,
    )


def serve_one(port: int, log_level: str) -> None:
    """One process serving on its own socket (uvicorn's usual way)."""
    import uvicorn

    uvicorn.Server(uvicorn_config(port, log_level)).run()


def _worker(pair: socket.socket, port: int, log_level: str) -> None:
    """A worker process's entry point: a new interpreter, so it sets up logging (the
    allow-list that keeps patient data out of every line) as the CLI's own process did."""
    configure_from_environment()
    dealt_server(uvicorn_config(port, log_level), pair).run(sockets=[])


def dealt_server(config: uvicorn.Config, pair: socket.socket) -> uvicorn.Server:
    """A uvicorn server that serves the connections dealt to it on `pair` (and reports each
    one it closes there) instead of accepting any itself."""
    import uvicorn

    class Dealt(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])
            if not self.started:
                return
            loop = asyncio.get_running_loop()
            protocol = _reporting(self.config.http_protocol_class, pair)

            def make_protocol() -> asyncio.Protocol:
                made: asyncio.Protocol = protocol(
                    config=self.config,
                    server_state=self.server_state,
                    app_state=self.lifespan.state,
                    _loop=loop,
                )
                return made

            async def serve(connection: socket.socket) -> None:
                try:
                    await loop.connect_accepted_socket(make_protocol, connection)
                except OSError:  # the client left before it could be served
                    connection.close()
                    _report_closed(pair)

            starting: set[asyncio.Task[None]] = set()  # kept until done (the loop holds weakly)

            def take() -> None:
                try:
                    message, fds, _flags, _address = socket.recv_fds(pair, BATCH, BATCH)
                except BlockingIOError:
                    return
                if not message:  # the supervisor is gone
                    loop.remove_reader(pair.fileno())
                    self.should_exit = True
                    return
                for fd in fds:
                    connection = socket.socket(fileno=fd)
                    connection.setblocking(False)
                    task = loop.create_task(serve(connection))
                    starting.add(task)
                    task.add_done_callback(starting.discard)

            pair.setblocking(False)
            loop.add_reader(pair.fileno(), take)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(pair.fileno())
            await super().shutdown(sockets=sockets)

    return Dealt(config)


def _reporting(base: type[asyncio.Protocol], pair: socket.socket) -> Any:
    """`base` (uvicorn's HTTP protocol) reporting on `pair` each connection it closes."""

    class Reporting(base):  # type: ignore[misc,valid-type]
        def connection_lost(self, exc: Exception | None) -> None:
            try:
                super().connection_lost(exc)
            finally:
                _report_closed(pair)

    return Reporting


def _report_closed(pair: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the supervisor is gone or stopping
        pair.send(CLOSED)


def bind(port: int) -> socket.socket:
    """The listening socket on HOST:port."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((HOST, port))
    listening.listen(BACKLOG)
    return listening


class Dealer:
    """The supervisor's thread that accepts every connection and hands it to the worker
    holding the fewest open ones (the first such, in order)."""

    def __init__(self, listening: socket.socket, pairs: list[socket.socket]) -> None:
        self.listening = listening
        self.pairs = pairs
        self.held = [0] * len(pairs)
        self.gone: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dentops-api-dealer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        self.listening.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(self.listening, selectors.EVENT_READ, None)
            for n, pair in enumerate(self.pairs):
                selector.register(pair, selectors.EVENT_READ, n)
            while not self._stop.is_set():
                for key, _events in selector.select(timeout=0.2):
                    if key.data is None:
                        self._accept_all()
                    else:
                        self._count_closed(selector, key.data)

    def _accept_all(self) -> None:
        while True:
            try:
                connection, _address = self.listening.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. too many open files: the client retries
                log.warning("could not accept a connection", exc_info=True)
                return
            with connection:
                self._deal(connection)

    def _deal(self, connection: socket.socket) -> None:
        open_workers = [n for n in range(len(self.pairs)) if n not in self.gone]
        if not open_workers:
            return  # stopping: the connection is closed
        chosen = min(open_workers, key=lambda n: self.held[n])
        try:
            socket.send_fds(self.pairs[chosen], [b"c"], [connection.fileno()])
        except OSError:
            self.gone.add(chosen)
            return
        self.held[chosen] += 1

    def _count_closed(self, selector: selectors.BaseSelector, n: int) -> None:
        try:
            reports = self.pairs[n].recv(4096)
        except BlockingIOError:
            return
        except OSError:
            reports = b""
        if not reports:  # the worker is gone
            selector.unregister(self.pairs[n])
            self.gone.add(n)
            return
        self.held[n] = max(0, self.held[n] - reports.count(CLOSED))


def serve_many(port: int, log_level: str, workers: int) -> int:
    """Run `workers` processes fed by one dealer; returns the exit status."""
    listening = bind(port)
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    for _ours, theirs in pairs:
        theirs.set_inheritable(True)
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(target=_worker, args=(theirs, port, log_level), name=f"dentops-api-{n}")
        for n, (_ours, theirs) in enumerate(pairs)
    ]
    dealer = Dealer(listening, [ours for ours, _theirs in pairs])
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight

    previous = {n: signal.signal(n, stop) for n in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        for _ours, theirs in pairs:
            theirs.close()  # the workers have their own copies
        dealer.start()
        wait([p.sentinel for p in processes])  # the first to stop
        failed = not stopping
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        return 1 if failed else 0
    finally:
        dealer.stop()
        listening.close()
        for ours, _theirs in pairs:
            ours.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve(port: int, log_level: str, workers: int) -> None:
    if workers == 1:
        serve_one(port, log_level)
        return
    sys.exit(serve_many(port, log_level, workers))
