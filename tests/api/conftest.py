"""The API tests share one practice (two clinics, every role) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.world import World, build_world


@pytest.fixture(scope="session")
def world(
    sqlite_template: Path, key_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    built = build_world(sqlite_template, key_file, tmp_path_factory.mktemp("api"))
    yield built
    built.client.close()
    built.core.close()
