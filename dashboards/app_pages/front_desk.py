"""Front desk: today and the next two days by time, each appointment with its no-show risk and
the reasons in plain words; confirm, check in, complete, mark a no-show, take a payment (all
through the core's services), and each appointment's confirmation history."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import streamlit as st

from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import DomainError
from core_app.service_layer import appointments, billing, reminders
from dashboards import charts, session
from dashboards.format import money, percent
from dashboards.loaders.front_desk import confirmation_history, load_front_desk, reminder_history
from dashboards.widgets import table

DONE = "front_desk_done"
BADGE = {"high": "HIGH", "medium": "medium", "low": "low", "": "-"}
SHADE = {"HIGH": "background-color: #f5c6cb", "medium": "background-color: #ffe8a1"}

actor = session.require_page("front_desk")
clinic = session.choose_clinic(actor)
app = session.app()
today = clinic.today()

st.title(f"Front desk · {clinic.name}")
if DONE in st.session_state:
    st.success(st.session_state.pop(DONE))
try:
    data = load_front_desk(app, actor, clinic, today)
except DomainError as error:
    st.error(str(error))
    st.stop()
frame = data.appointments
st.caption(f"Times in clinic local time ({clinic.timezone}).")
if not len(frame):
    st.info("No appointments today or in the next two days.")
    st.stop()

st.altair_chart(charts.risk_by_hour(frame), width="stretch")
shown = frame.assign(
    risk=frame["risk_band"].map(BADGE),
    chance=frame["probability"].map(lambda p: percent(p) if p == p and p is not None else "-"),
)
for day, rows in shown.groupby("day", sort=True):
    label = "Today" if day == today else f"{day:%A}"
    st.subheader(f"{label}, {day:%d %b %Y} ({len(rows)})")
    columns = ["time", "patient", "procedures", "provider", "chair", "status", "risk", "chance",
               "factors"]  # fmt: skip
    styled = rows[columns].style.map(lambda v: SHADE.get(str(v), ""), subset=["risk"])
    st.dataframe(styled, hide_index=True, width="stretch")
table(frame, name="the three days", key="front-desk", show=False)

st.subheader("Act on an appointment")
labels = {
    int(r["appointment_id"]): f"{r['day']:%a} {r['time']} · {r['patient']} · "
    f"{BADGE[r['risk_band']]} · {r['status']}"
    for r in frame.to_dict("records")
}
chosen = st.selectbox("Appointment", list(labels), format_func=labels.__getitem__, key="fd_pick")
row = next(r for r in frame.to_dict("records") if r["appointment_id"] == chosen)
if row["factors"]:
    st.caption(f"Why this risk: {row['factors']}")


def act(name: str, call, done: str) -> None:  # type: ignore[no-untyped-def]
    try:
        call(app.uow(), actor, chosen)
    except DomainError as error:
        st.error(f"{name}: {error}")
    else:
        st.session_state[DONE] = done
        st.rerun()


buttons = st.columns(5)
if buttons[0].button("Confirm", key="fd_confirm"):
    act("Confirm", appointments.confirm_appointment, f"Appointment {chosen} confirmed.")
if buttons[1].button("Check in", key="fd_check_in"):
    act("Check in", appointments.check_in_appointment, f"Appointment {chosen} checked in.")
if buttons[2].button("Complete", key="fd_complete"):
    act("Complete", appointments.complete_appointment, f"Appointment {chosen} completed.")
if buttons[3].button("Mark no-show", key="fd_no_show"):
    act("Mark no-show", appointments.mark_no_show, f"Appointment {chosen} marked as a no-show.")
if buttons[4].button("Send an extra reminder", key="fd_remind"):
    act(
        "Extra reminder",
        reminders.send_extra_reminder,
        f"Extra reminder for appointment {chosen} queued: it goes out on the next dispatch.",
    )

with st.form("payment", clear_on_submit=True):
    st.markdown(f"**Take a payment** ({clinic.currency}) for {row['patient']}")
    amount_text = st.text_input("Amount", placeholder="e.g. 85.00", key="fd_amount")
    method = st.selectbox("Method", [m.value for m in PaymentMethod], key="fd_method")
    paid = st.form_submit_button("Record payment")
if paid:
    try:
        amount = Decimal(amount_text.strip())
        cents = int((amount * 100).to_integral_value())
        if amount <= 0 or cents != amount * 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        st.error("Amount: write a positive amount with at most two decimals, e.g. 85.00")
    else:
        try:
            billing.record_payment(
                app.uow(),
                actor,
                patient_id=int(row["patient_id"]),
                amount_cents=cents,
                currency=clinic.currency,
                method=PaymentMethod(method),
                appointment_id=chosen,
                idempotency_key=f"dashboard-{uuid.uuid4()}",
            )
        except DomainError as error:
            st.error(f"Payment: {error}")
        else:
            st.session_state[DONE] = f"Payment of {money(cents, clinic.currency)} recorded."
            st.rerun()

left, right = st.columns(2)
with left:
    st.markdown("**Confirmation history**")
    table(confirmation_history(app, actor, chosen), name="history", key=f"history-{chosen}")
with right:
    st.markdown("**Reminders**")
    table(reminder_history(app, actor, clinic, chosen), name="reminders", key=f"reminders-{chosen}")
