"""`dentops user totp-enrol` and `dentops api`: a real server on 127.0.0.1 that an admin signs
in to with password and TOTP."""

from __future__ import annotations

import http.client
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


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _connected_sockets(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds (from /proc)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
            established.add(fields[9])
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in established:
            count += 1
    return count


def test_the_workers_share_the_connections_and_stop_with_the_server(tmp_path: Path) -> None:
    env = {"DENTOPS_DATA_DIR": str(tmp_path)}
    init = CliRunner().invoke(
        cli, ["init", "--admin-username", "admin", "--admin-password", PASSWORD], env=env
    )
    assert init.exit_code == 0, init.output
    port = free_port()
    dentops = str(Path(sys.executable).with_name("dentops"))
    server = subprocess.Popen(
        [dentops, "api", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=os.environ | env,
    )
    clients = []
    try:
        for _ in range(600):
            assert server.poll() is None
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        workers = _children(server.pid)
        workers = [w for w in workers if "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()]
        assert len(workers) == 2
        for _ in range(24):  # keep-alive connections, each answered (so accepted) once
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("GET", "/v1/clinics")
            response = connection.getresponse()
            response.read()
            assert response.status == 401
            clients.append(connection)
        held = [_connected_sockets(w, port) for w in workers]
        assert sum(held) == 24 and min(held) > 0, held  # the kernel spread them over both
    finally:
        for connection in clients:
            connection.close()
        server.terminate()
        assert server.wait(timeout=60) == 0
    for worker in workers:  # every worker stopped with the server
        assert not Path(f"/proc/{worker}").exists()
