"""The dashboard's one entry point: sign-in, then the pages the signed-in role may open.

dentops dashboard [--port N] [--data-dir DIR]     (serves this file on 127.0.0.1)
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import session

PAGES_DIR = Path(__file__).parent / "app_pages"
PAGES = {
    "manager": ("manager.py", "Manager", ":material/monitoring:"),
    "scheduler": ("scheduler.py", "Scheduler", ":material/calendar_month:"),
    "front_desk": ("front_desk.py", "Front desk", ":material/how_to_reg:"),
}


def sign_in_view() -> None:
    st.title("dentops")
    notice = st.session_state.pop(session.NOTICE, None)
    if notice:
        st.info(notice)
    with st.form("sign-in"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        if session.sign_in(username, password) is None:
            st.error("Unknown user or wrong password.")
        else:
            st.rerun()


def no_page_view() -> None:
    st.title("dentops")
    st.warning("Your role has no dashboard page. Ask an administrator if this is wrong.")


def main() -> None:
    st.set_page_config(page_title="dentops", layout="wide")
    actor = session.current_actor()
    if actor is None:
        st.navigation([st.Page(sign_in_view, title="Sign in", url_path="sign-in")]).run()
        return
    pages = [
        st.Page(PAGES_DIR / PAGES[key][0], title=PAGES[key][1], icon=PAGES[key][2])
        for key in session.allowed_pages(actor)
    ] or [st.Page(no_page_view, title="dentops")]
    with st.sidebar:
        st.caption(f"Signed in as **{actor.username}** ({actor.role})")
        if st.button("Sign out"):
            session.sign_out("You are signed out.")
            st.rerun()
    st.navigation(pages).run()


main()
