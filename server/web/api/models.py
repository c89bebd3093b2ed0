"""The API's request and response models: the one source of its validation and its document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Field(max_length=255)


class Strict(BaseModel):
    """A request model that refuses fields it does not declare."""

    model_config = ConfigDict(extra="forbid")


class ComplaintIn(Strict):
    """A complaint: the fields of the active process's intake form, by name."""

    fields: dict[str, Any] = Field(
        description="The intake form's fields by name (see the intake form of the active "
                    "process version); validated as the web form's are.")


class ComplaintForm(BaseModel):
    """A complaint with documents, as multipart/form-data."""

    fields: str = Field(max_length=1_000_000,
                        description="The intake form's fields as a JSON object.")
    documents: Any = Field(None, json_schema_extra={
        "type": "array", "items": {"type": "string", "format": "binary"}},
        description="The documents, each a file part named 'documents'.")


class DocumentOut(BaseModel):
    """A document kept with a case."""

    id: int
    filename: str
    content_type: str
    size: int


class ComplaintOut(BaseModel):
    """A complaint that was filed: its reference and the complainant's tracking link."""

    reference: str
    tracking_token: str = Field(description="Shown once: the complainant follows the case "
                                            "with it; only its hash is kept.")
    tracking_url: str
    received_at: datetime
    documents: list[DocumentOut]


class CaseQuery(Strict):
    """Filters and paging of the case list."""

    open: bool | None = Field(None, description="Only open (true) or closed (false) cases.")
    status: str | None = Field(None, max_length=255, description="Only cases with this "
                                                                 "status label.")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the "
                                                                 "previous page.")
    limit: int = Field(25, ge=1, le=100, description="Cases per page.")


class CaseSummary(BaseModel):
    """A case as the list shows it."""

    reference: str
    kind: str
    channel: str
    status: str | None
    open: bool
    priority: str | None
    category: str | None
    received_at: datetime
    closed_at: datetime | None
    version: int


class CaseList(BaseModel):
    """A page of cases, oldest first; next_cursor is null on the last page."""

    items: list[CaseSummary]
    next_cursor: str | None


class CaseOut(CaseSummary):
    """A case and its fields; `version` is also its ETag, for If-Match."""

    complainant_name: str
    complainant_email: str | None
    complainant_phone: str | None
    preferred_language: str | None
    product_service: str | None
    description: str
    remedy_sought: str | None
    representative_name: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    updated_at: datetime
    owner: str | None
    waiting_for: list[str] = Field(description="The messages the case accepts now.")
    tasks: list[TaskOut] = Field(description="The tasks that wait for a person.")


class HistoryEntry(BaseModel):
    """One entry of a case's history."""

    seq: int
    at: datetime
    actor: str
    kind: str
    summary: str
    data: dict[str, Any]


class HistoryOut(BaseModel):
    """A case's history, oldest first."""

    reference: str
    items: list[HistoryEntry]


class StatusChange(BaseModel):
    """A moment the public status changed."""

    at: datetime
    status: str


class Question(BaseModel):
    """Something the process asks the complainant now."""

    message: str
    title: str


class TrackingOut(BaseModel):
    """What the complainant's tracking page shows."""

    reference: str
    status: str | None
    open: bool
    received_at: datetime
    expected_by: datetime | None
    history: list[StatusChange]
    questions: list[Question]


class TaskQuery(Strict):
    """Which tasks of the acting user's inbox, a page at a time."""

    view: Literal["mine", "unclaimed", "team"] = "mine"
    cursor: str | None = Field(None, max_length=200)


class TaskOut(BaseModel):
    """A ready task; complete it with its form's fields."""

    task_id: str
    reference: str
    title: str
    role: str | None
    assignee: str | None
    due_at: datetime | None
    case_version: int = Field(description="Send it as If-Match when claiming or completing.")
    form: dict[str, Any] | None = Field(description="The task form's JSON Schema, if it has "
                                                    "one.")


class TaskList(BaseModel):
    """A page of the inbox; next_cursor is null on the last page."""

    items: list[TaskOut]
    next_cursor: str | None


class CompleteIn(Strict):
    """A task's form fields."""

    values: dict[str, Any] = Field(default_factory=dict, description="The task form's fields.")


class MessageIn(Strict):
    """A message the case is waiting for, with its fields."""

    message: str = Field(min_length=1, max_length=255)
    values: dict[str, Any] = Field(default_factory=dict)


class StepOut(BaseModel):
    """Where the case stands after a step."""

    reference: str
    version: int
    status: str | None
    open: bool
    tasks: list[TaskOut]


CaseOut.model_rebuild()


class EventQuery(Strict):
    """Where the events feed goes on from."""

    cursor: str | None = Field(None, max_length=200, description="next_cursor of the "
                                                                 "previous call; none: "
                                                                 "from the first event.")
    limit: int = Field(100, ge=1, le=500, description="Events at most (a step's events "
                                                      "come whole).")


class EventOut(BaseModel):
    """One event: the same id, type and payload as the webhook of it."""

    id: str
    type: str
    timestamp: str
    data: dict[str, Any]


class EventList(BaseModel):
    """Events oldest first; ask again with next_cursor for the ones after them."""

    items: list[EventOut]
    next_cursor: str


class WebhookIn(Strict):
    """A subscription to add."""

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000, description="The http:// or https:// "
                                                                "address that receives "
                                                                "the events.")
    event_types: list[str] = Field(min_length=1, max_length=20, description=(
        "Among: case.created, task.ready, task.completed, deadline.reminder, "
        "deadline.breached, case.closed, case.reopened, incident.opened."))
    personal_data: bool = Field(False, description="Send the complainant's details and "
                                                   "form values (needs the read scope).")


class WebhookOut(BaseModel):
    """A subscription; `secret` only in the answer that made it."""

    id: int
    name: str
    url: str
    event_types: list[str]
    personal_data: bool
    active: bool
    created_at: datetime
    secret: str | None = None


class WebhookList(BaseModel):
    """This client's subscriptions."""

    items: list[WebhookOut]
