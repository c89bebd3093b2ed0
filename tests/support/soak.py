"""The soak: the production recipe worked by clients while its processes are killed.

PostgreSQL, gunicorn with several workers, two schedulers and the mail deliverer
(tests/support/stack.py). Bounded clients file complaints on the public page and work them
as signed-in handlers over HTTP; every KILL_EVERY seconds a web worker, a scheduler or the
deliverer, in turn, is killed with SIGKILL (gunicorn starts a new worker; a new scheduler or
deliverer is started, as systemd would). Every TIMER_EVERY seconds a case received 30 days
ago is started in this process, so its three timers are due at once and a scheduler must
fire them. At the end:

* no lost step: every step a client got a 2xx/3xx for is in the case's history;
* every timer fired once; every e-mail sent once (by its Message-ID) or held. Delivery is
  at least once (services/outbox.py): a message the killed deliverer had claimed may have
  been accepted by the SMTP server just before the kill, so it goes out again after the
  lease; such repeats are counted apart, and any other repeat is a failure;
* no 5xx; connections the killed workers dropped are counted apart.

`make soak` runs it for PLAINT_SOAK_SECONDS (default 180); tests/test_recipe.py runs it
for two minutes. Run alone: `TZ=UTC .venv/bin/python -m tests.support.soak`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Case, CaseEvent, OutboxMessage, utcnow

from . import pg
from .browse import STEPS, Browser
from .mail import MailServer, free_port
from .recipe_db import CHAIN, empty_database, fired, overdue_case, side_app
from .stack import Stack, running

SHORT_SECONDS = 120
KILL_EVERY = 30.0
TIMER_EVERY = 10.0
CLIENTS = 3
WORKERS = 3
VICTIMS = ("worker", "scheduler", "deliverer")
BUSY_WAIT = 10.0  # seconds to wait for the deliverer to hold claimed messages before its kill
SETTLE_SECONDS = 90.0  # after the clients stop: for leases to expire and the outbox to drain


@dataclass
class Report:
    """What the soak did and what it found."""

    seconds: float = 0.0
    cases: int = 0
    steps: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    dropped: int = 0  # connections a killed worker dropped
    server_errors: int = 0  # 5xx answers
    refused: int = 0  # other answers a browser would not expect (4xx)
    lost_steps: list[str] = field(default_factory=list)
    timer_cases: int = 0
    timers_fired: int = 0
    timers_wrong: list[str] = field(default_factory=list)
    mails_sent: int = 0
    mails_held: int = 0
    mails_pending: int = 0
    mails_twice: int = 0
    mails_twice_after_kill: int = 0  # claimed by a deliverer when it was killed
    in_flight: set[str] = field(default_factory=set)  # their Message-IDs
    dead: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What broke a promise; empty when the soak passed."""
        found = [f"lost step {step}" for step in self.lost_steps]
        found += [f"timers of {case} fired wrongly" for case in self.timers_wrong]
        if self.server_errors:
            found.append(f"{self.server_errors} answer(s) with a 5xx status")
        if self.mails_twice:
            found.append(f"{self.mails_twice} e-mail(s) received more than once")
        if self.mails_pending:
            found.append(f"{self.mails_pending} e-mail(s) neither sent nor held")
        found += [f"{name} exited by itself" for name in self.dead]
        return found

    def figures(self) -> dict[str, object]:
        """The figures as one JSON-able dict."""
        return {"soak_seconds": round(self.seconds, 1), "cases": self.cases,
                "steps": self.steps, "kills": sum(self.kills.values()),
                "kills_by_process": dict(self.kills), "dropped_connections": self.dropped,
                "http_5xx": self.server_errors, "http_4xx": self.refused,
                "lost_steps": len(self.lost_steps), "timer_cases": self.timer_cases,
                "timers_fired": self.timers_fired, "timers_wrong": len(self.timers_wrong),
                "emails_sent": self.mails_sent, "emails_held": self.mails_held,
                "emails_pending": self.mails_pending, "emails_twice": self.mails_twice,
                "emails_in_flight_at_kills": len(self.in_flight),
                "emails_twice_after_kill": self.mails_twice_after_kill}

    def lines(self) -> list[str]:
        """A short table, then the figures as one JSON line."""
        table = [f"{key:<28}{value}" for key, value in self.figures().items()]
        return [*table, *[f"PROBLEM: {p}" for p in self.problems()],
                json.dumps(self.figures(), sort_keys=True)]


class Client(threading.Thread):
    """One complainant and one handler, filing and working cases until the deadline."""

    def __init__(self, stack: Stack, username: str, deadline: float) -> None:
        super().__init__(name=f"soak-{username}", daemon=True)
        self.stack, self.username, self.deadline = stack, username, deadline
        self.done: list[tuple[str, str]] = []  # (reference, task id or "case.received")
        self.answers: Counter[str] = Counter()

    def run(self) -> None:
        handler = None
        while time.monotonic() < self.deadline:
            try:
                if handler is None:
                    handler = Browser(self.stack.url)
                    handler.sign_in(self.username)
                self._one_case(handler)
            except requests.ConnectionError:
                self.answers["dropped"] += 1  # a killed worker's connection
                handler = None  # start afresh: a new case, signed in again
            except Refused as exc:
                self.answers[exc.kind] += 1
                handler = None
            except AssertionError:  # a page that was not what a browser expects
                self.answers["refused"] += 1
                handler = None

    def _one_case(self, handler: Browser) -> None:
        reference, _tracking = Browser(self.stack.url).file_complaint()
        self.done.append((reference, "case.received"))
        for _name, values in STEPS:
            if time.monotonic() >= self.deadline:
                return
            path = handler.task_path(reference)
            if path is None:
                raise Refused("refused")
            answer = handler.work(path, values)
            if answer.status_code >= 500:
                raise Refused("5xx")
            if answer.status_code != 302:
                raise Refused("refused")
            self.done.append((reference, path.rsplit("/", 1)[1]))


class Refused(Exception):
    """An answer that ends a client's case: `kind` is "5xx" or "refused"."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def run(folder: Path, database_url: str, mail: MailServer, seconds: float) -> Report:
    """Start the recipe, soak it for `seconds`, stop it; what it found."""
    report = Report()
    accounts = [(f"soak{n}", "handler") for n in range(CLIENTS)]
    with running(folder, database_url, mail.port, accounts, workers=WORKERS,
                 accounts_by_command=False) as stack:
        app = side_app(database_url, stack.env["PLAINT_AUDIT_KEY"])
        began = time.monotonic()
        deadline = began + seconds
        clients = [Client(stack, username, deadline) for username, _ in accounts]
        for client in clients:
            client.start()
        late: list[str] = []
        next_kill, next_timer, turn = began + KILL_EVERY, began, 0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_timer:
                late.append(overdue_case(app))
                next_timer += TIMER_EVERY
            if time.monotonic() >= next_kill:
                victim = VICTIMS[turn % len(VICTIMS)]
                if victim == "worker":
                    stack.kill_worker()
                elif victim == "scheduler":
                    stack.kill_scheduler()
                else:
                    report.in_flight |= _kill_deliverer_busy(app, stack)
                report.kills[victim] += 1
                next_kill += KILL_EVERY
                turn += 1
            time.sleep(0.2)
        for client in clients:
            client.join(timeout=60)
        report.seconds = time.monotonic() - began
        _settle(app, late)
        report.dead = stack.alive()
    _count(app, clients, late, mail, report)
    with app.app_context():
        db.engine.dispose()
    return report


def _kill_deliverer_busy(app: Flask, stack: Stack) -> set[str]:
    """Kill the deliverer while it holds claimed messages if it does so within a few
    seconds (else anyway); the Message-IDs it held."""
    assert stack.deliverer is not None
    pid, end = stack.deliverer.pid, time.monotonic() + BUSY_WAIT
    while time.monotonic() < end and not _in_flight(app, pid):
        time.sleep(0.005)
    return _in_flight(app, stack.kill_deliverer())


def _in_flight(app: Flask, pid: int) -> set[str]:
    """The Message-IDs a killed deliverer had claimed and not marked sent (claims.py names
    a claim host:pid:run)."""
    with app.app_context():
        found = set(db.session.scalars(
            select(OutboxMessage.message_id)
            .where(OutboxMessage.claimed_by.like(f"%:{pid}:%"),
                   OutboxMessage.claimed_until > utcnow(),
                   OutboxMessage.status.not_in(("sent", "held")))))
        db.session.remove()
    return {m.strip("<>") for m in found if m}


def _settle(app: Flask, late: list[str]) -> None:
    """Wait (bounded) for every timer to fire and the outbox to be sent or held."""
    end = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < end:
        timers_done = all(c == CHAIN for c in fired(app, late).values())
        with app.app_context():
            pending = db.session.scalar(select(db.func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.status.not_in(("sent", "held"))))
            db.session.remove()
        if timers_done and not pending:
            return
        time.sleep(1)


def _count(app: Flask, clients: list[Client], late: list[str], mail: MailServer,
           report: Report) -> None:
    """Compare what the clients were told with what the database and the SMTP server hold."""
    done = [step for client in clients for step in client.done]
    for client in clients:
        report.dropped += client.answers["dropped"]
        report.server_errors += client.answers["5xx"]
        report.refused += client.answers["refused"]
    report.cases = sum(1 for _ref, step in done if step == "case.received")
    report.steps = len(done)
    references = sorted({ref for ref, _step in done})
    with app.app_context():
        recorded: set[tuple[str, str]] = set()
        for reference, kind, data in db.session.execute(
                select(Case.reference, CaseEvent.kind, CaseEvent.data)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(Case.reference.in_(references),
                       CaseEvent.kind.in_(("case.received", "task.completed")))):
            recorded.add((reference, kind if kind == "case.received"
                          else str(json.loads(data).get("task_id"))))
        statuses = Counter(db.session.scalars(select(OutboxMessage.status)))
        sent_ids = list(db.session.scalars(select(OutboxMessage.message_id)
                                           .where(OutboxMessage.status == "sent")))
        db.session.remove()
    report.lost_steps = [f"{ref} {step}" for ref, step in done if (ref, step) not in recorded]
    counts = fired(app, late)
    report.timer_cases = len(late)
    report.timers_fired = sum(sum(c.values()) for c in counts.values())
    report.timers_wrong = [ref for ref, c in counts.items() if c != CHAIN]
    report.mails_sent, report.mails_held = statuses["sent"], statuses["held"]
    report.mails_pending = sum(statuses.values()) - report.mails_sent - report.mails_held
    received = Counter(str(m["Message-ID"]).strip("<>") for m in mail.received)
    twice = {m for m, n in received.items() if n > 1}
    report.mails_twice_after_kill = len(twice & report.in_flight)
    report.mails_twice = len(twice - report.in_flight)
    missing = [m for m in sent_ids if received[m.strip("<>")] == 0]
    report.mails_pending += len(missing)  # marked sent but never arrived


def main() -> None:
    """`make soak`: a PostgreSQL server, an SMTP server and the soak, for PLAINT_SOAK_SECONDS."""
    seconds = float(os.environ.get("PLAINT_SOAK_SECONDS", "180"))
    bindir = pg.find_bindir()
    if bindir is None:
        raise SystemExit("The soak needs PostgreSQL server binaries: apt-get install postgresql")
    server = pg.start(bindir)
    mail = MailServer()
    mail.port = free_port()
    controller = Controller(mail, hostname="127.0.0.1", port=mail.port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="plaint-soak-") as folder, \
                empty_database(server) as url:
            report = run(Path(folder), url, mail, seconds)
    finally:
        controller.stop()
        server.stop()
    print("\n".join(report.lines()))
    if report.problems():
        raise SystemExit(1)


if __name__ == "__main__":
    main()
