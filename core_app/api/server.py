"""Serving the API: `dentops api` runs uvicorn on 127.0.0.1 with `from_settings` as the app
factory (the CLI names it by its import string: the CLI and the API are independent layers)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from core_app.api.app import create_api
from core_app.config import Settings
from core_app.service_layer import bootstrap


def from_settings() -> FastAPI:
    """The API over the practice that DENTOPS_* settings name."""
    core = bootstrap.connect(Settings())
    api = create_api(core)
    api.router.add_event_handler("shutdown", core.close)
    # everything made so far (modules, routes, schemas, mappers) lives as long as the process:
    # moved out of the collector's reach, the collections that requests cause only look at
    # what requests made
    gc.collect()
    gc.freeze()
    return api
