"""`dentops user totp-enrol` and `dentops api`: a real server on 127.0.0.1 that an admin signs
in to with password and TOTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp
from typer.testing import CliRunner

from core_app.cli.main import app as cli

PASSWORD = "cli-admin-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_admin_enrols_by_cli_and_signs_in_to_the_served_api(tmp_path: Path) -> None:
    env = {"DENTOPS_DATA_DIR": str(tmp_path), "DENTOPS_ACTOR": "admin"}
    runner = CliRunner()
    init = runner.invoke(
        cli,
        ["init", "--admin-username", "admin", "--admin-password", PASSWORD, "--json"],
        env=env,
    )
    assert init.exit_code == 0, init.output
    enrolled = runner.invoke(cli, ["user", "totp-enrol", "admin", "--json"], env=env)
    assert enrolled.exit_code == 0, enrolled.output
    secret = json.loads(enrolled.stdout)["secret"]
    unknown = runner.invoke(cli, ["user", "totp-enrol", "nobody-here", "--json"], env=env)
    assert unknown.exit_code != 0 and unknown.stderr.startswith("error:")

    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("dentops")), "api", "--port", str(port)],
            env=os.environ | env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/openapi.json").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the API did not start")
        signed = httpx.post(
            f"{base}/v1/auth/sign-in",
            json={"username": "admin", "password": PASSWORD, "totp_code": pyotp.TOTP(secret).now()},
        )
        assert signed.status_code == 201, signed.text
        token = signed.json()["token"]
        clinics = httpx.get(f"{base}/v1/clinics", headers={"Authorization": f"Bearer {token}"})
        assert clinics.status_code == 200 and clinics.json()["items"] == []
        assert "x-request-id" in clinics.headers
    finally:
        server.terminate()
        server.wait(timeout=30)
