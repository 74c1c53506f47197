"""Synchronous routes and dependencies run on the event loop's thread when the app serves one
request at a time (core_app.api.on_the_loop), in the thread pool otherwise; either way FastAPI
still reads their signatures (parameters, dependencies, the response model)."""

from __future__ import annotations

import threading
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.routing import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from core_app.api.on_the_loop import CoreRoute, OnTheLoop, as_coroutine


class Threads(BaseModel):
    loop: int
    route: int
    dependency: int
    n: int


def _dependency_thread() -> int:
    return threading.get_ident()


def _app(*, enabled: bool) -> FastAPI:
    router = APIRouter(route_class=CoreRoute)

    @router.get("/async")
    async def loop_thread() -> int:
        return threading.get_ident()

    @router.get("/sync", response_model=Threads)
    def sync_route(
        dependency: Annotated[int, Depends(as_coroutine(_dependency_thread))],
        n: Annotated[int, Query(ge=1)],
        loop: int = 0,
    ) -> dict[str, int]:
        return {"loop": loop, "route": threading.get_ident(), "dependency": dependency, "n": n}

    app = FastAPI()
    app.include_router(router)
    app.add_middleware(OnTheLoop, enabled=enabled)
    return app


@pytest.mark.parametrize("enabled", [True, False])
def test_sync_work_runs_on_the_loop_only_when_asked(enabled: bool) -> None:
    with TestClient(_app(enabled=enabled)) as client:
        loop = client.get("/async").json()
        answer = client.get("/sync", params={"n": 3, "loop": loop})
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["n"] == 3 and found["loop"] == loop
        assert (found["route"] == loop) is enabled
        assert (found["dependency"] == loop) is enabled
        assert client.get("/sync", params={"n": 0}).status_code == 422  # the signature holds
