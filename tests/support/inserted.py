"""Cases written straight into the tables (no workflow run), for tests of what reads them:
the systemic-issue check, audit samples. The caller holds an app context."""

from __future__ import annotations

import itertools
import json
import zlib
from datetime import datetime

from server.extensions import db
from server.models import Case, CaseReport
from server.services.processes import active_version_id

_NUMBERS = itertools.count(900000)
# A workflow state with no task taken: what reads saved states (flow coverage) finds nothing.
_EMPTY_STATE = zlib.compress(json.dumps({"tasks": {}, "subprocesses": {}}).encode())


def insert_case(received_at: datetime, *, category: str | None = None,
                product: str | None = None, closed_at: datetime | None = None,
                email: str | None = None) -> Case:
    """A case row and its reporting facts, received (and closed) at the given times."""
    number = next(_NUMBERS)
    case = Case(reference=f"CMP-{received_at.year}-{number}", channel="web",
                process_version_id=active_version_id(), complainant_name=f"Person {number}",
                complainant_email=email, description="Inserted for a test.",
                category=category, received_at=received_at, is_open=closed_at is None,
                closed_at=closed_at, workflow_state=_EMPTY_STATE, updated_at=received_at)
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseReport(case_id=case.id, received_at=received_at, closed_at=closed_at,
                              is_open=closed_at is None, category=category, product=product,
                              channel="web", updated_at=received_at))
    return case
