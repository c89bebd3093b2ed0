"""For the e-mail tests: a real SMTP server on loopback, a process that sends e-mails, staff.

A pytest plugin (listed in tests/conftest.py): tests ask for the `mail_server` and `mailing`
fixtures by name.
"""

from __future__ import annotations

import asyncio
import email.policy
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import OutboxMessage
from server.services.actors import Actor
from server.services.processes import deploy, read_folders

from .web import make_user

REPO = Path(__file__).resolve().parents[2]
DIAGRAM = REPO / "tests" / "diagrams" / "notifications.bpmn"


class MailServer:
    """An aiosmtpd handler that keeps what it accepts; replies can be set to refuse."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user"
        self.data_reply: str | None = None  # e.g. "451 4.3.0 Try again later"
        self.delay = 0.0
        self.port = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        with self._lock:
            self.received.append(parsed)  # type: ignore[arg-type]
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1 for one test."""
    server = MailServer()
    server.port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def mailing(app: Flask, app_ctx: None, mail_server: MailServer) -> None:
    """The small notifying test process is active and the app sends to `mail_server`."""
    deploy_notifying_process()
    use_smtp(app, mail_server.port)


def use_smtp(app: Flask, port: int, **settings: Any) -> None:
    """Point the app at an SMTP server on loopback."""
    app.config.update({"PLAINT_SMTP_HOST": "127.0.0.1", "PLAINT_SMTP_PORT": port,
                       "PLAINT_SMTP_TIMEOUT": 5.0, "PLAINT_MAIL_SENDER": "complaints@bank.example",
                       "PLAINT_ORGANISATION_NAME": "Gulf Bank", **settings})


def deploy_notifying_process(**changes: str) -> None:
    """Make the small test process (every notify/notifyTo) the active one.

    `changes` replace property values in the diagram: closed="farewell" makes the
    element notifying "closed" notify "farewell" instead.
    """
    files = read_folders(REPO / "forms")
    text = DIAGRAM.read_text()
    for old, new in changes.items():
        text = text.replace(f'value="{old}"', f'value="{new}"')
    files[DIAGRAM.name] = text.encode()
    deploy(files, Actor.system("test"), note="notification test")


def staff(username: str, *roles: str, email: bool = True) -> None:
    """A member of staff, with an e-mail address unless told otherwise."""
    make_user(username, *roles, email=f"{username}@bank.example" if email else None)


def messages(**where: Any) -> list[OutboxMessage]:
    """Outbox rows as committed now, oldest first, filtered by column values."""
    db.session.rollback()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    found = list(db.session.scalars(query))
    db.session.expunge_all()  # keep what was read; the next read sees new commits
    db.session.rollback()
    return found


def parts(message: EmailMessage) -> dict[str, str]:
    """The text and HTML alternatives of a received e-mail, decoded."""
    found = {}
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            found[part.get_content_type()] = part.get_content()
    return found
