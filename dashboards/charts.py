"""Charts as pure functions of DataFrames (altair); pages only place them."""

from __future__ import annotations

import altair as alt
import pandas as pd

BAND_COLOURS = alt.Scale(domain=["high", "medium", "low", "unscored"],
                         range=["#c0392b", "#e67e22", "#27ae60", "#95a5a6"])  # fmt: skip


def kpi_trend(trend: pd.DataFrame, kpi: str, title: str, currency: str) -> alt.Chart:
    data = trend[trend["kpi"] == kpi]
    unit = str(data["unit"].iloc[0]) if len(data) else ""
    if unit.startswith("cents"):  # money on the axis in currency units, not cents
        data = data.assign(value=data["value"] / 100)
    fmt = ".0%" if unit == "ratio" else ",.0f"
    chart: alt.Chart = (
        alt.Chart(data, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("week_start:T", title="week"),
            y=alt.Y(
                "value:Q",
                title=currency if unit.startswith("cents") else None,
                axis=alt.Axis(format=fmt),
            ),
            tooltip=[alt.Tooltip("week_start:T", title="week"), alt.Tooltip("value:Q", format=fmt)],
        )
    )
    return chart


def ar_ageing(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(amount=frame["open_cents"] / 100)
    chart: alt.Chart = (
        alt.Chart(data, title="Accounts receivable by age")
        .mark_bar()
        .encode(
            x=alt.X("bucket:N", sort=list(frame["bucket"]), title=None),
            y=alt.Y("amount:Q", title="open balance"),
            tooltip=["bucket", alt.Tooltip("amount:Q", format=",.2f")],
        )
    )
    return chart


def forecast(frame: pd.DataFrame, title: str) -> alt.LayerChart:
    base = alt.Chart(frame).encode(x=alt.X("date_day:T", title="day"))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("yhat_lower:Q", title="appointments requested"), y2="yhat_upper:Q"
    )
    predicted = base.mark_line(strokeDash=[4, 3]).encode(y="yhat:Q")
    actual = base.mark_line(color="black").encode(y="actual:Q")
    layered: alt.LayerChart = alt.LayerChart(layer=[band, predicted, actual], title=title)
    return layered


def calibration(frame: pd.DataFrame) -> alt.LayerChart:
    diagonal = (
        alt.Chart(pd.DataFrame({"p": [0.0, 1.0]})).mark_line(color="grey").encode(x="p:Q", y="p:Q")
    )
    points = (
        alt.Chart(frame)
        .mark_circle()
        .encode(
            x=alt.X("mean_probability:Q", title="predicted no-show probability",
                    scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("no_show_rate:Q", title="observed no-show rate",
                    scale=alt.Scale(domain=[0, 1])),
            size=alt.Size("appointments:Q"),
            tooltip=["probability_bin", "appointments", "mean_probability", "no_show_rate"],
        )
    )  # fmt: skip
    layered: alt.LayerChart = alt.LayerChart(layer=[diagonal, points], title="Calibration")
    return layered


def auc_over_time(frame: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(frame, title="ROC AUC by month")
        .mark_line(point=True)
        .encode(
            x=alt.X("month_start:T", title="month"),
            y=alt.Y("roc_auc:Q", title="ROC AUC", scale=alt.Scale(domain=[0.4, 1])),
            tooltip=["month_start:T", "roc_auc:Q", "appointments:Q"],
        )
    )
    return chart


def week_grid(schedule: pd.DataFrame, row: str) -> alt.Chart:
    """The week as bars on a time axis, one line per chair or provider."""
    colour = "provider" if row == "chair" else "chair"
    chart: alt.Chart = (
        alt.Chart(schedule)
        .mark_bar()
        .encode(
            x=alt.X("local_start:T", title="clinic local time"),
            x2="local_end:T",
            y=alt.Y(f"{row}:N", title=None),
            color=alt.Color(f"{colour}:N"),
            tooltip=["local_start:T", "local_end:T", "patient", "procedures", "status"],
        )
        .properties(height=max(160, 60 * schedule[row].nunique()))
    )
    return chart


def risk_by_hour(appointments: pd.DataFrame) -> alt.Chart:
    data = appointments.assign(
        band=appointments["risk_band"].replace("", "unscored"),
        hour=appointments["time"].str.slice(0, 2),
        day=[f"{d:%a %d %b}" for d in appointments["day"]],
    )
    days = [f"{d:%a %d %b}" for d in sorted(set(appointments["day"]))]
    chart: alt.Chart = (
        alt.Chart(data, title="Appointments by hour and no-show risk")
        .mark_bar()
        .encode(
            x=alt.X("hour:O", title="hour"),
            y=alt.Y("count():Q", title="appointments", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("band:N", scale=BAND_COLOURS, title="risk"),
            column=alt.Column("day:N", title=None, sort=days),
        )
        .properties(height=200)
    )
    return chart
