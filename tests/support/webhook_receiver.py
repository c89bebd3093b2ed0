"""A webhook receiver on loopback for the tests: it verifies each request's signature with
standardwebhooks' Webhook.verify, as a subscriber would, and answers as told.

`answers` lists the HTTP statuses to give, in order (200 once they run out); `received`
keeps every request: its headers, body, and the verified payload or the verification error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    payload: Any = None
    error: str | None = None


@dataclass
class Receiver:
    """A running receiver: its URL, the secret it verifies with, what it got."""

    url: str
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    @property
    def verified(self) -> list[Any]:
        """The payloads of the requests whose signature verified."""
        return [r.payload for r in self.received if r.error is None]


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """Run a receiver on 127.0.0.1 until the block ends."""
    receiver = Receiver("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            """Verify the signed event, keep it, answer the next status."""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            got = Received(headers, body)
            try:
                got.payload = Webhook(receiver.secret).verify(body, headers)
            except (WebhookVerificationError, ValueError) as exc:
                got.error = f"{type(exc).__name__}: {exc}"
            with lock:
                receiver.received.append(got)
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/plaint"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
