"""Real servers on 127.0.0.1 for outbound messages: SMTP (aiosmtpd) and an HTTP webhook sink."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from app.config import Settings

SECRET = "s3cret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class WebhookSink:
    """A real HTTP server that records POSTs; answers 500 to the next `fail_next` of them."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.refused = 0
        self.fail_next = 0
        self.delay = 0.0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(sink.delay)
                with sink._lock:
                    failing = sink.fail_next > 0
                    if failing:
                        sink.fail_next -= 1
                        sink.refused += 1
                    else:
                        sink.received.append((dict(self.headers.items()), body))
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/corpflow"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def outbox_settings(app: Flask, smtp: SmtpSink, webhook: WebhookSink) -> Iterator[Settings]:
    """Point the jobs' settings at the two servers; the app's own settings stay frozen."""
    services = app.extensions["corpflow"]
    saved = services.settings
    services.settings = dataclasses.replace(
        saved,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        webhook_secret=SECRET,
        smtp_timeout_seconds=5.0,
        webhook_timeout_seconds=5.0,
    )
    yield services.settings
    services.settings = saved
