"""`dentops optimize suggest | plan` as a scheduler uses them: the proposals become pending
suggestions that `dentops suggestion accept` books."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from tests.cli.test_cli import Cli, dentops, next_weekday, prepared  # noqa: F401 - fixtures


def _add_request(cli: Cli, patient: str, first: str, last: str) -> int:
    added = cli(
        "request", "add", "--clinic", "1", "--patient", patient, "--kind", "recall",
        "--procedures", "D1110", "--earliest", first, "--latest", last,
    )  # fmt: skip
    return int(str(added["request_id"]))


def test_optimize_suggest_and_plan_through_the_cli(dentops: Cli) -> None:  # noqa: F811
    monday = next_weekday(0)
    friday = (monday + timedelta(days=4)).isoformat()
    first = _add_request(dentops, "1", monday.isoformat(), friday)
    suggested = dentops("optimize", "suggest", "--request", str(first), "--k", "3")
    slots = cast("list[dict[str, Any]]", suggested["suggestions"])
    assert len(slots) == 3 and len(cast("list[int]", suggested["suggestion_ids"])) == 3
    assert all(s["start_at"] >= monday.isoformat() for s in slots)

    second = _add_request(dentops, "2", monday.isoformat(), friday)
    planned = dentops("optimize", "plan", "--clinic", "1", "--week", monday.isoformat())
    assert planned["placed"] == 2 and planned["status"] in ("OPTIMAL", "FEASIBLE")
    ids = cast("list[int]", planned["suggestion_ids"])
    for suggestion_id in ids:
        assert dentops("suggestion", "accept", str(suggestion_id))["suggestion_id"] == suggestion_id
    assert dentops("request", "list", "--clinic", "1") == {"requests": []}
    assert second > first

    refused = dentops("optimize", "plan", "--clinic", "1", "--week", friday, ok=False)
    assert refused["exit_code"] != 0 and "Monday" in str(refused["stderr"])
