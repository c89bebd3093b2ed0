"""Writing a service task's call with the step that reached it (see service_calls.py)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from ..engine import ServiceCall as Waiting
from ..extensions import db
from ..models import ServiceCall
from ..models.service_call import PENDING
from .records import CaseRecord


def enqueue(case: CaseRecord, calls: list[Waiting], now: datetime) -> None:
    """Write a row for each newly waiting service task, in the step's transaction; no commit.

    A task that still waits from an earlier step already has its row.
    """
    known = set(db.session.scalars(select(ServiceCall.task_id).where(
        ServiceCall.case_id == case.id, ServiceCall.task_id.in_([c.task_id for c in calls]))))
    for call in calls:
        if call.task_id not in known:
            db.session.add(ServiceCall(
                case_id=case.id, task_id=call.task_id, bpmn_id=call.bpmn_id[:255],
                title=call.title[:255], operator=call.operator[:255],
                params=json.dumps(call.params, default=str), status=PENDING, attempts=0,
                next_attempt_at=now, created_at=now))
    db.session.flush()
