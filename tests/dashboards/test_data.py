"""The data loaders without Streamlit: the manager's KPIs are exactly `dentops kpi`'s (both
read marts.kpi_definitions), the weekly trend adds up to the period, the previous period is
the span before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboards.loaders.manager import Filters, load_manager
from pipelines.kpi import period_kpis


def test_manager_kpis_match_dentops_kpi_for_the_period_and_the_one_before(practice):
    last = practice.today - timedelta(days=1)
    filters = Filters(clinic_id=practice.clinic_id, first=last - timedelta(days=41), last=last)
    data = load_manager(practice.settings.warehouse_path, filters)
    prev_first, prev_last = filters.previous
    assert (prev_last - prev_first) == (filters.last - filters.first)
    assert prev_last == filters.first - timedelta(days=1)
    for first, last_day, column in [
        (filters.first, filters.last, "value"),
        (prev_first, prev_last, "previous"),
    ]:
        expected = period_kpis(
            practice.settings.warehouse_path,
            clinic=str(practice.clinic_id),
            first=first,
            last=last_day,
        )
        got = dict(zip(data.kpis["kpi"], data.kpis[column], strict=True))
        assert set(got) <= set(expected)
        for kpi, value in got.items():
            if expected[kpi] is None:
                assert value is None or value != value
            else:
                assert value == pytest.approx(expected[kpi]), kpi
    weekly_production = data.trend.loc[data.trend["kpi"] == "production_cents", "value"].sum()
    assert weekly_production == pytest.approx(
        dict(zip(data.kpis["kpi"], data.kpis["value"], strict=True))["production_cents"]
    )
    assert weekly_production > 0
