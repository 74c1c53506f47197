"""Manager: KPIs of a period against the previous one, trends, receivables, demand against
its forecast, and the health of the no-show model. Every figure comes from the warehouse marts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import streamlit as st

from dashboards import charts, session
from dashboards.format import kpi_value, money
from dashboards.loaders.manager import Filters, ManagerData, load_manager, providers
from dashboards.loaders.warehouse import WarehouseUnavailable
from dashboards.settings import DashboardSettings
from dashboards.widgets import table

HEADLINE = [
    "production_cents", "collections_cents", "collection_rate", "broken_appointment_rate",
    "chair_utilization", "provider_utilization", "production_per_hour_cents", "new_patients",
    "hygiene_reappointment_rate",
]  # fmt: skip


def label(kpi: str) -> str:
    return kpi.removesuffix("_cents").replace("_", " ").capitalize()


actor = session.require_page("manager")
clinic = session.choose_clinic(actor)
warehouse = session.warehouse_path()
ttl = DashboardSettings().cache_seconds


@st.cache_data(ttl=ttl, show_spinner=False)
def _load(path: str, filters: Filters) -> ManagerData:
    return load_manager(Path(path), filters)


@st.cache_data(ttl=ttl, show_spinner=False)
def _providers(path: str, clinic_id: int) -> dict[int, str]:
    frame = providers(Path(path), clinic_id)
    return dict(zip(frame["provider_id"], frame["provider_name"], strict=True))


st.title(f"Manager · {clinic.name}")
today = clinic.today()
left, right = st.columns([2, 1])
with left:
    period = st.date_input(
        "Period (clinic days, both included)",
        value=(today - timedelta(days=28), today - timedelta(days=1)),
        key="manager_period",
    )
try:
    names = _providers(str(warehouse), clinic.clinic_id)
except WarehouseUnavailable as error:
    st.error(str(error))
    st.stop()
with right:
    provider = st.selectbox(
        "Provider",
        [None, *names],
        format_func=lambda p: "All providers" if p is None else names[p],
        key="manager_provider",
    )
if not isinstance(period, tuple) or len(period) != 2:
    st.info("Pick the last day of the period.")
    st.stop()
first, last = period
filters = Filters(clinic_id=clinic.clinic_id, first=first, last=last, provider_id=provider)
try:
    data = _load(str(warehouse), filters)
except WarehouseUnavailable as error:
    st.error(str(error))
    st.stop()
prev_first, prev_last = filters.previous
currency = data.currency
st.caption(
    f"{first:%d %b %Y} - {last:%d %b %Y}, compared with {prev_first:%d %b %Y} - "
    f"{prev_last:%d %b %Y}." + (" Chair figures are for the whole clinic." if provider else "")
)

kpis = {str(r["kpi"]): r for r in data.kpis.to_dict("records")}
columns = st.columns(3)
for index, key in enumerate(k for k in HEADLINE if k in kpis):
    row = kpis[key]
    unit = str(row["unit"])
    change = row["change"]
    delta = None
    if change is not None and change == change:
        delta = (f"{change * 100:+.1f} pp" if unit == "ratio"
                 else ("+" if change >= 0 else "") + kpi_value(change, unit, currency))  # fmt: skip
    columns[index % 3].metric(
        label(key),
        kpi_value(row["value"], unit, currency),
        delta=delta,
        delta_color="inverse" if key == "broken_appointment_rate" else "normal",
        help=str(row["description"]),
    )

with st.expander("All KPIs of the period"):
    units = data.kpis["unit"]
    shown = data.kpis.assign(
        value_text=[
            kpi_value(v, u, currency) for v, u in zip(data.kpis["value"], units, strict=True)
        ],
        previous_text=[
            kpi_value(v, u, currency) for v, u in zip(data.kpis["previous"], units, strict=True)
        ],
        currency=currency,
    )
    table(shown, name="KPIs", key="kpis")

st.subheader("Trends")
choices = list(dict.fromkeys(data.trend["kpi"])) if len(data.trend) else []
if choices:
    chosen = st.selectbox("KPI", choices, index=0, format_func=label, key="manager_trend_kpi")
    st.altair_chart(
        charts.kpi_trend(data.trend, chosen, f"{label(chosen)} by week", currency),
        width="stretch",
    )
    table(data.trend, name="weekly KPIs", key="kpi-trend")

st.subheader("Accounts receivable")
st.caption(
    f"Open balances as of {data.ar_as_of or '-'}; "
    f"total {money(int(data.ar_ageing['open_cents'].sum()), currency)}."
)
st.altair_chart(charts.ar_ageing(data.ar_ageing), width="stretch")
table(
    data.ar_ageing.assign(currency=currency), name="AR ageing", key="ar-ageing", currency=currency
)

st.subheader("Demand: forecast against actual bookings (80 % interval)")
categories = sorted(set(data.forecast["category"].dropna()))
if categories:
    category = st.selectbox("Category", categories, key="manager_category")
    one = data.forecast[data.forecast["category"] == category]
    st.altair_chart(charts.forecast(one, f"{category}: bookings per day"), width="stretch")
    table(data.forecast, name="demand and forecast", key="demand-forecast")
else:
    st.info("No demand data for this period.")

st.subheader("No-show model health")
if len(data.auc):
    left, right = st.columns(2)
    left.altair_chart(charts.calibration(data.calibration), width="stretch")
    right.altair_chart(charts.auc_over_time(data.auc), width="stretch")
    flagged = int(data.flags["high_risk_flags"].sum())
    missed = int(data.flags["high_risk_no_shows"].sum())
    st.metric("High-risk flags followed by a no-show", f"{missed} of {flagged}")
    table(data.flags, name="high-risk flags", key="high-risk-flags")
    table(data.calibration, name="calibration", key="calibration")
else:
    st.info(
        "No scored appointment has an outcome yet: the model's health shows once scored "
        "visits have happened."
    )
