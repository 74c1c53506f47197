"""One small demo practice per session for the dashboard tests (see practice.py), with the
DENTOPS_* variables pointing at it while each test that asks for them runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_app.config import Settings
from core_app.service_layer import bootstrap
from core_app.service_layer.bootstrap import App
from tests.dashboards.practice import Practice, build

REPO = Path(__file__).resolve().parents[2]
APP_FILE = REPO / "dashboards" / "app.py"
PAGES = REPO / "dashboards" / "app_pages"


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Practice:
    return build(tmp_path_factory.mktemp("dashboard-practice"), dbt_tests=False)


@pytest.fixture
def practice_env(practice: Practice, monkeypatch: pytest.MonkeyPatch) -> Practice:
    """The DENTOPS_* variables point at the practice for one test only: left set for the
    session, they would reach every later test of the same process (a CLI test's `init` would
    then open this practice's database)."""
    for name, value in practice.env().items():
        monkeypatch.setenv(name, value)
    return practice


@pytest.fixture(scope="session")
def core(practice: Practice) -> Iterator[App]:
    app = bootstrap.connect(practice.settings)
    yield app
    app.close()


def copy_of(practice: Practice, folder: Path) -> Practice:
    """An independent copy (database, keys, warehouse) for a test that changes the practice."""
    shutil.copytree(practice.data_dir, folder / "data", ignore=shutil.ignore_patterns("*.dbt"))
    data_dir = folder / "data"
    return Practice(
        data_dir=data_dir,
        settings=Settings(data_dir=data_dir),
        clinic_id=practice.clinic_id,
        today=practice.today,
    )
