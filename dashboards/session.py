"""Signing in against the core's staff users, the idle timeout, and which role sees which page.

The signed-in actor lives in Streamlit's per-browser-session state on the server; nothing about
it is sent to the browser. Passwords are checked by core_app.service_layer.users.authenticate
(argon2id; every attempt audited, the same message for an unknown user and a wrong password)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from core_app.config import Settings
from core_app.domain.exceptions import AuthenticationFailed
from core_app.domain.staff import Actor, Role
from core_app.service_layer import bootstrap, users
from core_app.service_layer.bootstrap import App
from dashboards.loaders.core import Clinic, clinics
from dashboards.settings import DashboardSettings

ACTOR = "dentops_actor"
LAST_SEEN = "dentops_last_seen"
NOTICE = "dentops_notice"

#: page key -> roles that may open it (deny by default: a page not listed opens for nobody)
PAGE_ROLES: dict[str, frozenset[Role]] = {
    "manager": frozenset({Role.ADMIN, Role.MANAGER}),
    "scheduler": frozenset({Role.ADMIN, Role.MANAGER, Role.SCHEDULER}),
    "front_desk": frozenset({Role.ADMIN, Role.MANAGER, Role.FRONT_DESK}),
}


@st.cache_resource(show_spinner=False)
def _connect(database_url: str, key_file: str, data_dir: str) -> App:
    return bootstrap.connect(
        Settings(data_dir=data_dir, database_url=database_url, key_file=key_file)
    )


def app() -> App:
    """The core application for DENTOPS_* settings, one per server process."""
    settings = Settings()
    return _connect(settings.database_url, str(settings.key_file), str(settings.data_dir))


def warehouse_path() -> Any:
    return Settings().warehouse_path


def sign_in(username: str, password: str) -> Actor | None:
    try:
        actor = users.authenticate(app().uow(), username=username.strip(), password=password)
    except AuthenticationFailed:
        return None
    st.session_state[ACTOR] = actor
    st.session_state[LAST_SEEN] = time.time()
    return actor


def sign_out(notice: str | None = None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE] = notice


def current_actor() -> Actor | None:
    """The signed-in actor, or None (signed out after the idle timeout)."""
    actor: Actor | None = st.session_state.get(ACTOR)
    if actor is None:
        return None
    idle_minutes = DashboardSettings().idle_minutes
    now = time.time()
    if now - float(st.session_state.get(LAST_SEEN, 0.0)) > idle_minutes * 60:
        sign_out(f"Signed out after {idle_minutes:g} minutes without activity.")
        return None
    st.session_state[LAST_SEEN] = now
    return actor


def allowed_pages(actor: Actor) -> list[str]:
    return [page for page, roles in PAGE_ROLES.items() if actor.role in roles]


def require_page(page: str) -> Actor:
    """The actor if they may open this page; otherwise a refusal and the script stops."""
    actor = current_actor()
    if actor is None:
        st.error("Please sign in.")
        st.stop()
    if actor.role not in PAGE_ROLES.get(page, frozenset()):
        st.error(f"Access denied: the {actor.role} role may not open this page.")
        st.stop()
    return actor


def choose_clinic(actor: Actor) -> Clinic:
    """The clinic the page shows: the user's own, or one picked in the sidebar."""
    found = clinics(app(), actor)
    if not found:
        st.error("No clinic is set up yet.")
        st.stop()
    if len(found) == 1:
        st.sidebar.caption(f"Clinic: {found[0].name}")
        return found[0]
    return st.sidebar.selectbox("Clinic", found, format_func=lambda c: c.name, key="dentops_clinic")
