"""End to end in a real browser: `dentops dashboard` on a copy of the demo practice, headless
Chromium (Debian's package, driven by Playwright; never `playwright install`) signs in as each
role, performs one action per page, and saves a screenshot of each page under
artifacts/screenshots/. Skipped only when Chromium is absent outside CI; under CI=true it runs
(the Makefile installs Chromium before pytest)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards.conftest import REPO, copy_of
from tests.dashboards.practice import PASSWORDS, Practice

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 120_000  # the shared machine can be slow; a timeout, not a budget


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but /usr/bin/chromium is missing: `make test` installs it (apt-get)")
    pytest.skip("Chromium is not installed (as root: apt-get install -y chromium); CI runs this")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(practice: Practice, tmp_path: Path) -> Iterator[str]:
    _require_chromium()
    mine = copy_of(practice, tmp_path)
    port = _free_port()  # a fresh port per server: Streamlit frees its port slowly
    env = {**os.environ, **mine.env(), "DENTOPS_DASHBOARD_IDLE_MINUTES": "15"}
    dentops = str(Path(sys.executable).parent / "dentops")
    process = subprocess.Popen(
        [dentops, "dashboard", "--port", str(port), "--data-dir", str(mine.data_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dashboard did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username, timeout=WAIT_MS)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {username}").wait_for(timeout=WAIT_MS)


def _settle(page) -> None:
    """Wait until Streamlit has finished the script run (no 'Running...' status widget), then
    show the top of the page (the title and the action's outcome)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS
    )
    page.locator("h1").first.scroll_into_view_if_needed()
    page.wait_for_timeout(800)


def test_each_role_signs_in_acts_and_is_photographed(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "chromium-profile"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.goto(server)
            page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT_MS)
            page.screenshot(path=str(SCREENSHOTS / "sign-in.png"))

            # manager: narrow the KPIs to one provider
            _sign_in(page, server, "manager")
            page.get_by_text("Manager ·").wait_for(timeout=WAIT_MS)
            page.get_by_test_id("stMetric").first.wait_for(timeout=WAIT_MS)
            page.get_by_test_id("stSelectbox").filter(has_text="Provider").click()
            page.get_by_role("option").nth(1).click()
            page.get_by_text("Chair figures are for the whole clinic.").wait_for(timeout=WAIT_MS)
            page.get_by_test_id("stVegaLiteChart").first.wait_for(timeout=WAIT_MS)
            _settle(page)
            page.screenshot(path=str(SCREENSHOTS / "manager.png"), full_page=True)

            # scheduler: reject the first pending suggestion with a reason
            page.get_by_role("button", name="Sign out").click()
            _sign_in(page, server, "scheduler")
            page.get_by_text("Scheduler ·").wait_for(timeout=WAIT_MS)
            page.get_by_label("Reason for rejecting").fill("patient asked for a later week")
            page.get_by_label("Reason for rejecting").press("Enter")
            _settle(page)
            page.get_by_role("button", name="Reject").click()
            page.get_by_text("rejected.").wait_for(timeout=WAIT_MS)
            _settle(page)
            page.screenshot(path=str(SCREENSHOTS / "scheduler.png"), full_page=True)

            # front desk: take a payment for the selected appointment
            page.get_by_role("button", name="Sign out").click()
            _sign_in(page, server, "frontdesk")
            page.get_by_text("Front desk ·").wait_for(timeout=WAIT_MS)
            page.get_by_label("Amount").fill("20.00")
            page.get_by_role("button", name="Record payment").click()
            page.get_by_text("Payment of $20.00 recorded.").wait_for(timeout=WAIT_MS)
            _settle(page)
            page.screenshot(path=str(SCREENSHOTS / "front-desk.png"), full_page=True)
        finally:
            browser.close()
    for name in ("sign-in", "manager", "scheduler", "front-desk"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
    shutil.rmtree(profile, ignore_errors=True)
