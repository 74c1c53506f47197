"""Scheduler: the week by chair and provider, the optimizer's pending suggestions with their
reasons (accept or reject them here, through the core's services), and the open requests."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from core_app.domain.exceptions import DomainError
from core_app.service_layer import suggestions
from dashboards import charts, session
from dashboards.loaders.scheduler import load_scheduler, monday_of
from dashboards.widgets import table

DONE = "scheduler_done"

actor = session.require_page("scheduler")
clinic = session.choose_clinic(actor)
app = session.app()

st.title(f"Scheduler · {clinic.name}")
if DONE in st.session_state:
    st.success(st.session_state.pop(DONE))
picked = st.date_input("Week of", value=clinic.today(), key="scheduler_week")
week_start = monday_of(picked)
try:
    data = load_scheduler(app, actor, clinic, week_start)
except DomainError as error:
    st.error(str(error))
    st.stop()

st.subheader(f"Week of {week_start:%d %b %Y} ({len(data.schedule)} appointments)")
if len(data.schedule):
    by = st.radio("One line per", ["chair", "provider"], horizontal=True, key="scheduler_by")
    st.altair_chart(charts.week_grid(data.schedule, by), width="stretch")
    table(data.schedule.drop(columns=["start_at", "end_at"]), name="week", key="week")
else:
    st.info("No appointments this week.")

st.subheader(f"Pending suggestions ({len(data.suggestions)})")
if len(data.suggestions):
    table(data.suggestions, name="suggestions", key="suggestions")
    labels = {
        int(r["suggestion_id"]): f"#{r['suggestion_id']} {r['local_start']:%a %d %b %H:%M} · "
        f"{r['patient']} · {r['procedures']} · {r['provider']}, {r['chair']}"
        for r in data.suggestions.to_dict("records")
    }
    chosen = st.selectbox(
        "Suggestion", list(labels), format_func=labels.__getitem__, key="scheduler_suggestion"
    )
    reasons = str(data.suggestions.set_index("suggestion_id").loc[chosen, "reasons"])
    st.caption(f"Why: {reasons}")
    accept, reject = st.columns(2)
    if accept.button("Accept and book", key="accept", type="primary"):
        try:
            appointment_id = suggestions.accept_suggestion(app.uow(), actor, chosen)
        except DomainError as error:
            st.error(str(error))
        else:
            st.session_state[DONE] = (
                f"Suggestion {chosen} accepted: appointment {appointment_id} booked."
            )
            st.rerun()
    reason = reject.text_input("Reason for rejecting", key="reject_reason")
    if reject.button("Reject", key="reject"):
        try:
            suggestions.reject_suggestion(app.uow(), actor, chosen, reason=reason)
        except DomainError as error:
            st.error(str(error))
        else:
            st.session_state[DONE] = f"Suggestion {chosen} rejected."
            st.rerun()
else:
    st.info("No pending suggestions.")

st.subheader("Waitlist and recall due")
requests = data.requests
if len(requests):
    counts = requests["kind"].value_counts()
    st.caption(
        ", ".join(f"{n} {str(kind).replace('_', ' ')}" for kind, n in counts.items())
        + f" (the {len(requests)} most urgent of {data.open_requests} open requests)"
    )
    table(requests, name="open requests", key="requests")
else:
    st.info("No open requests.")
st.caption(
    f"Times in clinic local time ({clinic.timezone}). "
    f"Next week starts {week_start + timedelta(days=7):%d %b}."
)
