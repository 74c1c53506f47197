"""The dashboard in Streamlit's own test harness (AppTest), on the session's demo practice:
sign-in (and its failure), the idle timeout and sign-out, every page for every role that may
open it, access denied for every role that may not, and one action per page through the core."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from core_app.domain.request import SuggestionStatus
from core_app.service_layer import billing, queries, reminders, suggestions, users
from dashboards import session
from dashboards.loaders.manager import providers
from tests.dashboards.conftest import APP_FILE, PAGES
from tests.dashboards.practice import PASSWORDS, ROLES

TIMEOUT = 120  # seconds per script run: the shared CI machine can be slow; not a budget
PAGE_FILES = {"manager": "manager.py", "scheduler": "scheduler.py", "front_desk": "front_desk.py"}
TITLES = {"manager": "Manager", "scheduler": "Scheduler", "front_desk": "Front desk"}


def signed_in(core, username: str, script=APP_FILE) -> AppTest:
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
    at.session_state[session.ACTOR] = users.actor_for(core.uow(), username)
    at.session_state[session.LAST_SEEN] = time.time()
    return at


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


def test_sign_in_fails_for_a_wrong_password_and_an_unknown_user(practice_env):
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT).run()
    for username, password in [("manager", "not-the-password"), ("nobody", "whatever-pass")]:
        at.text_input[0].input(username)
        at.text_input[1].input(password)
        at.button[0].click().run()
        assert "Unknown user or wrong password." in texts(at.error)
        assert session.ACTOR not in at.session_state


@pytest.mark.parametrize("username", ["manager", "scheduler", "frontdesk"])
def test_sign_in_opens_the_roles_own_page(practice_env, username):
    at = AppTest.from_file(str(APP_FILE), default_timeout=TIMEOUT).run()
    at.text_input[0].input(username)
    at.text_input[1].input(PASSWORDS[username])
    at.button[0].click().run()
    assert not at.exception
    actor = at.session_state[session.ACTOR]
    assert actor.username == username
    first_page = session.allowed_pages(actor)[0]
    assert at.title[0].value.startswith(TITLES[first_page])
    assert f"Signed in as **{username}**" in at.sidebar.caption[0].value


def test_a_role_without_a_page_is_told_so(practice_env, core):
    at = signed_in(core, "dentist").run()
    assert any("no dashboard page" in w for w in texts(at.warning))


def test_idle_timeout_signs_out(practice_env, core, monkeypatch):
    monkeypatch.setenv("DENTOPS_DASHBOARD_IDLE_MINUTES", "5")
    at = signed_in(core, "manager")
    at.session_state[session.LAST_SEEN] = time.time() - 6 * 60
    at.run()
    assert session.ACTOR not in at.session_state
    assert any("5 minutes without activity" in i for i in texts(at.info))
    assert at.button[0].label == "Sign in"


def test_sign_out(practice_env, core):
    at = signed_in(core, "frontdesk").run()
    at.sidebar.button[0].click().run()
    assert session.ACTOR not in at.session_state
    assert "You are signed out." in texts(at.info)


ALLOWED = [
    (page, user) for page in PAGE_FILES for user in ROLES if ROLES[user] in session.PAGE_ROLES[page]
]
DENIED = [
    (page, user)
    for page in PAGE_FILES
    for user in ROLES
    if ROLES[user] not in session.PAGE_ROLES[page]
]


@pytest.mark.parametrize(("page", "username"), DENIED)
def test_access_denied_for_the_wrong_role(practice_env, core, page, username):
    at = signed_in(core, username, PAGES / PAGE_FILES[page]).run()
    assert any(e.startswith("Access denied") for e in texts(at.error))
    assert not at.title  # nothing of the page was shown


def test_a_page_refuses_without_sign_in(practice_env):
    at = AppTest.from_file(str(PAGES / "front_desk.py"), default_timeout=TIMEOUT).run()
    assert "Please sign in." in texts(at.error)
    assert not at.dataframe


@pytest.mark.parametrize(("page", "username"), ALLOWED)
def test_every_page_for_every_role_that_may_open_it(practice_env, core, page, username):
    at = signed_in(core, username)
    at.run()
    at.switch_page(f"app_pages/{PAGE_FILES[page]}").run()
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert at.title[0].value.startswith(TITLES[page])
    downloads = at.get("download_button")
    assert downloads, "every table can be downloaded"


def test_manager_page_shows_kpis_against_the_previous_period(practice_env, core):
    at = signed_in(core, "manager", PAGES / "manager.py").run()
    labels = [m.label for m in at.metric]
    assert {"Production", "Collections", "Collection rate", "Broken appointment rate"} <= set(
        labels
    )
    production = next(m for m in at.metric if m.label == "Production")
    assert production.value.startswith("$")
    assert at.get("download_button")
    # model health: the calibration chart and the flags that were followed by a no-show
    followed = next(m for m in at.metric if m.label == "High-risk flags followed by a no-show")
    missed, flagged = (int(x) for x in followed.value.split(" of "))
    assert 0 < missed <= flagged


def test_manager_filters_by_provider(practice_env, core, practice):
    at = signed_in(core, "manager", PAGES / "manager.py").run()
    before = next(m for m in at.metric if m.label == "Production").value
    box = at.selectbox(key="manager_provider")
    first_provider = int(
        providers(practice.settings.warehouse_path, practice.clinic_id)["provider_id"].iloc[0]
    )
    box.set_value(first_provider).run()
    assert not at.exception
    after = next(m for m in at.metric if m.label == "Production").value
    chair = next(m for m in at.metric if m.label == "Chair utilization").value
    assert chair == "-"  # chair figures have no provider
    assert after != before or before == "$0.00"


def test_scheduler_accepts_a_suggestion_through_the_core(practice_env, core, practice):
    pending = suggestions.list_suggestions(core.uow(), _admin(core), practice.clinic_id)
    assert pending
    at = signed_in(core, "scheduler", PAGES / "scheduler.py").run()
    chosen = at.selectbox(key="scheduler_suggestion").value
    at.button(key="accept").click().run()
    assert not at.error, texts(at.error)
    assert any(f"Suggestion {chosen} accepted" in s for s in texts(at.success))
    accepted = suggestions.list_suggestions(
        core.uow(), _admin(core), practice.clinic_id, status=SuggestionStatus.ACCEPTED
    )
    assert chosen in [s["suggestion_id"] for s in accepted]


def test_scheduler_rejection_needs_a_reason(practice_env, core):
    at = signed_in(core, "scheduler", PAGES / "scheduler.py").run()
    at.button(key="reject").click().run()
    assert any("needs a reason" in e for e in texts(at.error))


def test_front_desk_confirms_and_takes_a_payment(practice_env, core, practice):
    at = signed_in(core, "frontdesk", PAGES / "front_desk.py").run()
    box = at.selectbox(key="fd_pick")
    booked = [
        r for r in queries.clinic_schedule(
            core.uow(), _admin(core), clinic_id=practice.clinic_id,
            start_at=_start(practice), end_at=_start(practice, 3),
        ) if r.status == "booked"
    ]  # fmt: skip
    target = booked[-1]
    box.set_value(target.appointment_id).run()
    at.button(key="fd_confirm").click().run()
    assert any(f"Appointment {target.appointment_id} confirmed." in s for s in texts(at.success))
    history = [
        e.event_type
        for e in queries.appointment_history(core.uow(), _admin(core), target.appointment_id)
    ]
    assert history[-1] == "confirmed"

    before = billing.patient_account(core.uow(), _admin(core), target.patient_id).balance
    at.selectbox(key="fd_pick").set_value(target.appointment_id).run()
    at.text_input(key="fd_amount").input("12.34")
    form_submit = next(b for b in at.button if b.label == "Record payment")
    form_submit.click().run()
    assert any("Payment of $12.34 recorded." in s for s in texts(at.success)), texts(at.error)
    after = billing.patient_account(core.uow(), _admin(core), target.patient_id).balance
    assert before != after


def test_front_desk_sends_an_extra_reminder(practice_env, core, practice):
    upcoming = [
        r for r in queries.clinic_schedule(
            core.uow(), _admin(core), clinic_id=practice.clinic_id,
            start_at=_start(practice), end_at=_start(practice, 3),
        ) if r.status in ("booked", "confirmed") and r.start_at > _soon()
    ]  # fmt: skip
    target = upcoming[-1]
    before = reminders.reminder_history(core.uow(), _admin(core), target.appointment_id)
    at = signed_in(core, "frontdesk", PAGES / "front_desk.py").run()
    at.selectbox(key="fd_pick").set_value(target.appointment_id).run()
    at.button(key="fd_remind").click().run()
    assert not at.error, texts(at.error)
    assert any("Extra reminder for appointment" in s for s in texts(at.success))
    after = reminders.reminder_history(core.uow(), _admin(core), target.appointment_id)
    assert [r.kind for r in after if r not in before] == ["extra"]
    # the page lists it in the appointment's reminder history
    shown = at.dataframe[-1].value
    assert "extra" in set(shown["kind"])


def test_front_desk_refuses_a_bad_amount(practice_env, core):
    at = signed_in(core, "frontdesk", PAGES / "front_desk.py").run()
    at.text_input(key="fd_amount").input("12.345")
    next(b for b in at.button if b.label == "Record payment").click().run()
    assert any(e.startswith("Amount:") for e in texts(at.error))


def _soon():
    return datetime.now(UTC) + timedelta(hours=2)


def _admin(core):
    return users.actor_for(core.uow(), "admin")


def _start(practice, days=0):
    from dashboards.loaders.core import Clinic

    clinic = Clinic(practice.clinic_id, "", "America/New_York", "USD")
    return clinic.day_bounds(clinic.today(), 3)[0 if days == 0 else 1]
