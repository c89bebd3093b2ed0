"""Filing a complaint: an intake form's values and the documents staged with it become a case.

cases.start_case checks the values and starts the workflow; attachments kept the form's
documents while it was corrected and moves them onto the new case. Staff recording a
letter or a call later give the date and time it reached us, which deadlines count from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..errors import InvalidInput
from ..models import utcnow
from . import attachments, calendar, cases
from .actors import Actor
from .forms import validate
from .records import CaseRecord

RECEIVED = "received_at"  # the staff form's field: when the complaint reached us
OLDEST_RECEIVED = timedelta(days=365)
CLOCK_SKEW = timedelta(minutes=5)  # a browser clock a little ahead is not "the future"


def received_zone() -> ZoneInfo:
    """The organisation's time zone, in which staff give the received date and time."""
    return ZoneInfo(calendar.load().zone)


def parse_received(text: str | None, now: datetime | None = None) -> datetime | None:
    """When a complaint reached us, from the staff form (local time); None for "now".

    Refused, with what to fix: not a date and time, in the future, or over a year ago.
    """
    text = (text or "").strip()
    if not text:
        return None
    now = now or utcnow()
    try:
        local = datetime.fromisoformat(text[:32])
    except ValueError:
        raise _received_error(_("Enter the date and time the complaint reached us, like "
                                "2026-05-03 09:30.")) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=received_zone())
    received = local.astimezone(ZoneInfo("UTC"))
    if received > now + CLOCK_SKEW:
        raise _received_error(_("The date received cannot be in the future."))
    if received < now - OLDEST_RECEIVED:
        raise _received_error(_("The date received cannot be more than a year ago."))
    return received


def _received_error(message: str) -> InvalidInput:
    return InvalidInput(message, {RECEIVED: [message]})


def file_complaint(values: dict[str, Any], channel: str, actor: Actor,
                   staging: attachments.Staging, received: str | None = None,
                   also: Callable[[CaseRecord], None] | None = None) -> cases.NewCase:
    """Start a case from an intake form and attach the documents staged with it.

    While a chosen document or the received date is refused no case starts: the person
    fixes that first, and hears about every other field at the same time. `also` writes
    what commits with the case or not at all (the kept e-mail it was made from).
    """
    extra: dict[str, list[str]] = {}
    try:
        received_at = parse_received(received)
    except InvalidInput as exc:
        received_at, extra = None, exc.field_errors
    if staging.errors:
        extra[attachments.FIELD] = staging.errors
    if extra:
        schema, _ui = cases.intake_form()
        try:
            validate(schema, values)
            fields: dict[str, list[str]] = {}
        except InvalidInput as exc:
            fields = exc.field_errors
        if staging.errors and not fields:
            # the documents field is last: say at the top that it needs a look
            fields["_form"] = [_("A document could not be taken: see the documents field.")]
        raise InvalidInput(_("Check the documents.") if staging.errors
                           else _("Check the date received."), {**fields, **extra})
    started = cases.start_case(values, channel, actor, received_at, also)
    attachments.attach_staged(started.case, staging, actor)
    return started
