"""Real servers on loopback for the reminder channels: an SMTP server (aiosmtpd) that keeps
what arrived, and a Twilio-style SMS provider (http.server) that records requests, can fail or
stall on chosen requests, and, like a provider honouring idempotency keys, accepts a repeated
key without sending a second message."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class MailBox:
    """Messages received by the SMTP server. `hold_at`: the n-th message (1-based) is
    received and kept, but the server answers only once `release` is set."""

    messages: list[Message] = field(default_factory=list)
    hold_at: int | None = None
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
            count = len(self.messages)
        if self.hold_at is not None and count == self.hold_at:
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["X-Dentops-Reminder"]) for m in self.messages)


@contextmanager
def smtp_server() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    with socket.socket() as probe:  # a free port (aiosmtpd's readiness check needs it known)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        box.release.set()
        controller.stop()


@dataclass
class SmsProvider:
    """`script`: what to do with the n-th request (1-based): an HTTP status to fail with, or
    "stall" to answer after `stall_s` (longer than the client's timeout)."""

    script: dict[int, int | str] = field(default_factory=dict)
    stall_s: float = 1.5
    requests: list[dict[str, Any]] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)  # per idempotency key
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(provider: SmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            record = {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "key": self.headers.get("Idempotency-Key"),
                "form": dict(urllib.parse.parse_qsl(body)),
            }
            with provider.lock:
                provider.requests.append(record)
                action = provider.script.get(len(provider.requests))
            if action == "stall":
                time.sleep(provider.stall_s)
                return
            if isinstance(action, int):
                self.send_response(action)
                self.end_headers()
                return
            with provider.lock:
                provider.delivered[str(record["key"])] += (
                    0 if record["key"] in provider.delivered else 1
                )
            answer = json.dumps({"sid": f"SM{len(provider.requests):06d}", "status": "queued"})
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

    return Handler


@contextmanager
def sms_provider(provider: SmsProvider) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
