"""What a preview replays: the recorded inputs of cases, and a draft as a runtime.

Every input a case received is in its history (services/cases.py and friends record
them): the intake values with `received_at` ("case.received"), each task's submitted
values ("task.completed"), each message with its payload ("message.received",
"case.reopened"), each timer firing with the time it fired ("timer.fired") and each
service call's result ("service.done"; rows written before results were kept have none,
and a replay stops at that service task). Times are the history rows' own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ...engine import BundleError, ProcessRuntime, SpecCache, load_bundle
from ...engine.replay import Input
from ...errors import InvalidInput
from ...extensions import db
from ...formkit.refs import inline
from ...models import Case, CaseEvent, ProcessDraft
from .. import languages, policy
from ..forms import validate
from . import default_intake, form_schema
from .versions import role_resolver

INPUT_KINDS = {"task.completed": "task", "message.received": "message",
               "case.reopened": "message", "timer.fired": "timer", "service.done": "service"}


class DraftRuntime:
    """A draft parsed and checked as a deploy would, ready to run in memory (never stored)."""

    def __init__(self, draft: ProcessDraft) -> None:
        try:
            bundle = load_bundle(draft.contents(), role_resolver(),
                                 max_file_bytes=current_app.config["PLAINT_MAX_DIAGRAM_BYTES"],
                                 clock_kinds=policy.KINDS,
                                 min_timer_period=current_app.config["PLAINT_MIN_TIMER_PERIOD"],
                                 default_role=draft.default_role,
                                 fallback_role=current_app.config["PLAINT_DEFAULT_TASK_ROLE"])
        except BundleError as exc:
            raise InvalidInput(_("The draft has problems to fix before a preview: %(problems)s",
                                 problems=exc)) from None
        default_intake.apply(bundle)
        cache: SpecCache = current_app.extensions["plaint.specs"]
        self.runtime: ProcessRuntime = cache.build(bundle.spec, bundle.subprocess_specs,
                                                   bundle.role_map)
        self.forms = {name: inline(form) for name, form in bundle.forms.items()}

    def validator(self, name: str, values: dict[str, Any],
                  data: dict[str, Any]) -> dict[str, Any]:
        """Check values against one of the draft's forms (ValueError says what is wrong)."""
        return checked(self.forms.get(name), name, values, data)


def version_validator(version_id: int) -> Any:
    """A validator for the forms of a deployed version."""

    def check(name: str, values: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        return checked(form_schema(version_id, name), name, values, data)

    return check


def checked(schema: dict[str, Any] | None, name: str, values: dict[str, Any],
            data: dict[str, Any]) -> dict[str, Any]:
    """Values as the live form would keep them; else ValueError with what the data lacks.

    The ValueError's argument is data for the report: {"missing": form} or {"form": form,
    "fields": [[field, title, {language: messages}]]}. The form checks word their messages
    as they go, so those are kept in every language Plaint speaks (a refusal is rare).
    """
    if schema is None:
        raise ValueError({"missing": name})
    try:
        return validate(schema, values, data)
    except InvalidInput as exc:
        declared = schema.get("properties") or {}
        worded = {language: _field_errors(schema, values, data, language)
                  for language in languages.LANGUAGES}
        fields = [[field, _title(declared.get(field), field),
                   {language: found.get(field, []) for language, found in worded.items()}]
                  for field in sorted(exc.field_errors)]
        raise ValueError({"form": name, "fields": fields, "detail": str(exc)}) from None


def _field_errors(schema: dict[str, Any], values: dict[str, Any], data: dict[str, Any],
                  language: str) -> dict[str, list[str]]:
    """The form checks' messages per field, worded in `language`."""
    with force_locale(language):
        try:
            validate(schema, values, data)
        except InvalidInput as exc:
            return {field: [str(m) for m in messages]
                    for field, messages in exc.field_errors.items()}
    return {}


def _title(spec: Any, name: str) -> str:
    """What the form calls a field."""
    title = spec.get("title") if isinstance(spec, dict) else None
    return title if isinstance(title, str) and title else name


def recorded(case: Case, events: Sequence[CaseEvent]) -> tuple[dict[str, Any], list[Input]]:
    """The case's intake data (with channel and received_at) and its inputs, oldest first."""
    intake: dict[str, Any] = {"channel": case.channel}
    inputs: list[Input] = []
    for event in events:
        data = json.loads(event.data)
        if event.kind == "case.received":
            intake.update(_fields(data.get("values")))
            intake["channel"] = data.get("channel") or case.channel
            received = _time(data.get("received_at"))
            intake["received_at"] = received.isoformat() if received else None
            continue
        kind = INPUT_KINDS.get(event.kind)
        if kind is None:
            continue
        inputs.append(_input(kind, event, data))
    if not intake.get("received_at"):  # recorded before the history kept it
        intake["received_at"] = _aware(case.received_at).isoformat()
    return intake, inputs


def _input(kind: str, event: CaseEvent, data: dict[str, Any]) -> Input:
    """One history row as the replay's input."""
    at = _aware(event.at)
    if kind == "task":
        return Input(kind, at, str(data.get("task", "")), _fields(data.get("values")))
    if kind == "message":
        payload = _fields(data.get("payload"))
        if event.kind == "case.reopened":
            payload["reopened_by"] = event.actor
        return Input(kind, at, str(data.get("message", "")), payload)
    if kind == "timer":
        return Input(kind, _time(data.get("fired_at")) or at,
                     ",".join(str(t) for t in data.get("timers") or []))
    result = data.get("result")
    return Input(kind, at, str(data.get("element", "")),
                 result if isinstance(result, dict) else {}, has_result="result" in data)


def _fields(value: Any) -> dict[str, Any]:
    """Recorded named values (nothing if the row holds none)."""
    return dict(value) if isinstance(value, dict) else {}


def _time(value: Any) -> datetime | None:
    """A recorded ISO time, aware; None if missing or unreadable (erased by anonymising)."""
    try:
        return _aware(datetime.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _aware(at: datetime) -> datetime:
    """A stored time as an aware UTC time."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def chosen_cases(last: int | None, since: datetime | None,
                 until: datetime | None) -> list[int]:
    """Ids of the complaints a preview replays: the last N received, or those of a period."""
    query = select(Case.id).where(Case.kind == "complaint")
    if since is not None:
        query = query.where(Case.received_at >= since)
    if until is not None:
        query = query.where(Case.received_at < until)
    query = query.order_by(Case.received_at.desc(), Case.id.desc())
    if last is not None:
        query = query.limit(last)
    return list(db.session.scalars(query))
