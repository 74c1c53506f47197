"""`dentops api` with several worker processes, each with its own listening socket.

uvicorn's own `--workers` shares one listening socket between its processes, and whichever
process wakes first accepts every connection waiting: 16 clients connecting at once all landed
in one process while the other sat idle (bench/api_load.py; `ss` showed 16 sockets in one
worker). Keep-alive connections then stay there for good. Here the supervisor binds one
socket per worker on the same address with `SO_REUSEPORT`, so the kernel spreads incoming
connections over the workers (by a hash of each connection's addresses), listens on them all
before any worker starts (connections made meanwhile wait in a socket's queue), and hands one
to each worker process. A worker that stops, for whatever reason, stops the whole server
(exit status 1): it is restarted as one, by whatever started it.

`SO_REUSEPORT` lets another process of the same system user bind the same port; that user can
read the practice's database and keys anyway."""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING

from core_app.logging_setup import configure_from_environment

if TYPE_CHECKING:
    import uvicorn

#: the API's app factory, by import string: the CLI does not import core_app.api
API_FACTORY = "core_app.api.server:from_settings"
HOST = "127.0.0.1"
BACKLOG = 2048


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


def _worker(listening: socket.socket, port: int, log_level: str) -> None:
    """A worker process's entry point: a new interpreter, so it sets up logging (the
    allow-list that keeps patient data out of every line) as the CLI's own process did."""
    import uvicorn

    configure_from_environment()

    uvicorn.Server(uvicorn_config(port, log_level)).run(sockets=[listening])


def bind(port: int) -> socket.socket:
    """A listening socket on HOST:port that other sockets of ours may share (SO_REUSEPORT)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind((HOST, port))
    listening.listen(BACKLOG)
    listening.set_inheritable(True)
    return listening


def serve_many(port: int, log_level: str, workers: int) -> int:
    """Run `workers` processes, each on its own socket; returns the exit status."""
    sockets = [bind(port) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(target=_worker, args=(s, port, log_level), name=f"dentops-api-{n}")
        for n, s in enumerate(sockets)
    ]
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
        for s in sockets:
            s.close()  # the workers have their own copies
        wait([p.sentinel for p in processes])  # the first to stop
        failed = not stopping
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        return 1 if failed else 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve(port: int, log_level: str, workers: int) -> None:
    if workers == 1:
        serve_one(port, log_level)
        return
    sys.exit(serve_many(port, log_level, workers))
