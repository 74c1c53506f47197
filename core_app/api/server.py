"""`dentops api`: serve the API on 127.0.0.1 with uvicorn."""

from __future__ import annotations

import uvicorn

from core_app.api.app import create_api
from core_app.config import Settings
from core_app.service_layer import bootstrap


def serve(*, port: int, settings: Settings | None = None, workers_log_level: str = "info") -> None:
    core = bootstrap.connect(settings or Settings())
    try:
        uvicorn.run(
            create_api(core),
            host="127.0.0.1",
            port=port,
            log_level=workers_log_level,
            server_header=False,
        )
    finally:
        core.close()
