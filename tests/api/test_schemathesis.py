"""Schemathesis against the app in process: for every operation of the OpenAPI document,
generated requests (signed in as an admin of a clinic with data) never get a server error and
every response matches the document (status, headers, body schema).

Examples per operation: 50 when CI is set, else DENTOPS_SCHEMATHESIS_EXAMPLES (default 10).
(`schemathesis.pytest.from_fixture` fails under pytest 9, so each operation's strategy is
driven by Hypothesis directly; the operations are the matrix's, which equal the app's routes.)

`positive_data_acceptance` is left out: business rules (opening hours, no booking in the past,
a 31-day window) refuse some schema-valid requests with the documented 422; every other check
runs, `not_a_server_error` and `response_schema_conformance` among them.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.test_route_matrix import MATRIX
from tests.api.world import World

EXAMPLES = (
    50 if os.environ.get("CI") else int(os.environ.get("DENTOPS_SCHEMATHESIS_EXAMPLES", "10"))
)
#: signing out would end the session every other example uses (tested in test_auth.py)
SKIPPED = {("POST", "/v1/auth/sign-out")}


@pytest.fixture(scope="session")
def api_schema(world: World) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", world.api)


@pytest.mark.parametrize(
    "operation_key", sorted(set(MATRIX) - SKIPPED), ids=lambda k: f"{k[0]} {k[1]}"
)
def test_every_operation_conforms_to_the_openapi_document(
    api_schema: Any, world: World, operation_key: tuple[str, str]
) -> None:
    method, path = operation_key
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {world.tokens['admin@a']}"}
    calls = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(
            headers=headers, excluded_checks=[schemathesis.checks.positive_data_acceptance]
        )
        calls.append(response.status_code)

    run()
    assert calls and all(status < 500 for status in calls)
