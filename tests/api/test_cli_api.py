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


def _client_ports(pid: int, port: int) -> set[int]:
    """The client-side ports of the established TCP connections to `port` that process `pid`
    holds (from /proc): the connections that worker serves."""
    remote_port_of = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].split(":")[1], 16) == port:
            remote_port_of[fields[9]] = int(fields[2].split(":")[1], 16)
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in remote_port_of:
            found.add(remote_port_of[target[8:-1]])
    return found


def _connect(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection, answered (so dealt to a worker and served) once."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/v1/clinics")
    response = connection.getresponse()
    response.read()
    assert response.status == 401
    return connection


def _local_port(connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None
    return int(connection.sock.getsockname()[1])


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
    clients: list[http.client.HTTPConnection] = []
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
        time.sleep(0.5)  # the start-up probes' connections are closed and reported
        clients = [_connect(port) for _ in range(24)]
        held = [len(_client_ports(w, port)) for w in workers]
        assert held == [12, 12], held  # dealt evenly, whatever their addresses
        # 8 of the first worker's connections close: the next 8 all go to it
        first = _client_ports(workers[0], port)
        leaving = [c for c in clients if _local_port(c) in first][:8]
        for connection in leaving:
            connection.close()
            clients.remove(connection)
        for _ in range(100):
            if len(_client_ports(workers[0], port)) == 4:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the worker has reported them closed by now
        assert [len(_client_ports(w, port)) for w in workers] == [4, 12]
        clients += [_connect(port) for _ in range(8)]
        assert [len(_client_ports(w, port)) for w in workers] == [12, 12]
    finally:
        for connection in clients:
            connection.close()
        server.terminate()
        assert server.wait(timeout=60) == 0
    for worker in workers:  # every worker stopped with the server
        assert not Path(f"/proc/{worker}").exists()
