"""Databases for the recipe test and the soak: empty ones, and cases made in the past."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import time_machine
from flask import Flask
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models import Case, CaseEvent, utcnow
from server.services import cases

from . import pg
from .app import app_config
from .data import HANDLER, INTAKE

# A case received 30 days ago waits on the acknowledgement's reminder and breach, both due
# long ago; firing the breach starts the next level, due too: three timers fire in all.
CHAIN = Counter({"acknowledgement_reminder": 1, "acknowledgement_overdue": 1,
                 "acknowledgement_still_overdue": 1})


@contextmanager
def empty_database(server: pg.PostgresServer) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run (what an operator creates); its URL."""
    name = "r_" + uuid.uuid4().hex[:12]
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)


def side_app(database_url: str, audit_key: str) -> Flask:
    """An app in the test's own process on the stack's database, signing with its audit key."""
    return create_app({**app_config(database_url), "PLAINT_AUDIT_KEY": audit_key})


def overdue_case(app: Flask) -> str:
    """Start a case 30 days back through the services: its timers are due now; its reference."""
    with app.app_context():
        with time_machine.travel(utcnow() - timedelta(days=30), tick=True):
            reference = cases.start_case(dict(INTAKE), "web", HANDLER).case.reference
        db.session.remove()
    return reference


def fired(app: Flask, references: list[str]) -> dict[str, Counter[str]]:
    """How often each timer of these cases fired, from their histories as committed now."""
    counts: dict[str, Counter[str]] = {reference: Counter() for reference in references}
    with app.app_context():
        for reference, data in db.session.execute(
                select(Case.reference, CaseEvent.data).join(Case, Case.id == CaseEvent.case_id)
                .where(CaseEvent.kind == "timer.fired", Case.reference.in_(references))):
            counts[reference].update(json.loads(data)["timers"])
        db.session.remove()
    return counts
