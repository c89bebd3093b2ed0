"""The rows the write path works on, as plain typed values rather than ORM objects.

A step reads its case row with one Core select and hands the row around as a
`CaseRecord`; saving gives back a new record with the saved values. Its fields are the
columns of `Case`, in order and with the same types (tests/test_records.py fails when the
two drift apart). Pages and reports read cases through the `Case` model as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case row, read for writing: the columns of `Case`."""

    id: int
    reference: str
    process_version_id: int
    channel: str
    complainant_name: str
    complainant_email: str | None
    complainant_phone: str | None
    preferred_language: str | None
    product_service: str | None
    category: str | None
    description: str
    remedy_sought: str | None
    priority: str | None
    status_label: str | None
    is_open: bool
    received_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    workflow_state: bytes
    version: int
    audit_head: str | None
    event_count: int
    projection: str | None
    tracking_token_hash: str | None
    representative_name: str | None = None
    representative_relationship: str | None = None
    representative_email: str | None = None
    representative_phone: str | None = None
    owner_id: int | None = None  # None for a new case: nobody has taken it yet
    kind: str = "complaint"  # or "action" (a corrective action)
    team_id: int | None = None  # the owning team (services/teams.py), None: none
    confidential: bool = False


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A ready task of a case, with the columns of `HumanTask` that its page and completing it
    need (a copy: completing the task deletes its row)."""

    task_id: str
    bpmn_id: str
    title: str
    role: str | None
    form: str | None
    assignee_id: int | None
    due_at: datetime | None


TASK_COLUMNS = tuple(f.name for f in fields(TaskRecord))
