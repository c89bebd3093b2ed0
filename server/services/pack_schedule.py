"""The management-review pack by e-mail, each month, to the people a complaints manager names.

Recipients are members of staff (their address at the time of sending) or typed e-mail
addresses, each with a language (en, ar) and the formats attached (PDF, XLSX). The
scheduler calls `run` every hour; from the first working day of a month (the business
calendar's, in the organisation's time zone) it sends the pack of the previous calendar
month once: a `pack_run` row with a unique month is written in the same transaction as
the outbox messages, so several schedulers or restarts never send a month twice, and a
scheduler that was down on that day catches up the next time it runs in the month.
With no recipients nothing is sent and the month stays open. `send_now` sends the last
full month's pack at once, to try the schedule; it is not the month's sending.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import make_msgid
from typing import Any, NoReturn

from babel.dates import format_date
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import OutboxMessage, PackRecipient, PackRun, User, utcnow
from ..models.outbox import HELD, PENDING
from ..models.pack_schedule import FORMATS
from . import calendar, localtime, notifications, outbox, review_pack, system_log
from .actors import Actor
from .conformance_figures import PACK_EVENT
from .report_period import Period, last_full_month
from .tables import XLSX_TYPE, xlsx_bytes

log = logging.getLogger(__name__)
EVENT = "review_pack"  # the e-mail template
RECIPIENT_KIND = "pack_recipient"
SCHEDULER = "scheduler"  # who the system log names for the monthly sending
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": XLSX_TYPE}


@dataclass
class RecipientForm:
    """What the add form sends, kept as typed when refused."""

    username: str = ""
    email: str = ""
    language: str = "en"
    formats: list[str] = field(default_factory=lambda: ["pdf"])

    @classmethod
    def from_values(cls, values: Any) -> RecipientForm:
        """The form from posted values (a MultiDict: formats may repeat)."""
        chosen = values.getlist("formats") if hasattr(values, "getlist") else \
            list(values.get("formats") or [])
        return cls(str(values.get("username") or "").strip()[:64],
                   str(values.get("email") or "").strip()[:300],
                   str(values.get("language") or "").strip()[:8], [str(f) for f in chosen])


@dataclass(frozen=True)
class Listed:
    """A recipient as the page shows it: who, where the mail goes (or why it cannot)."""

    id: int
    name: str
    address: str | None
    problem: str | None
    language: str
    formats: tuple[str, ...]
    added_by: str
    added_at: datetime


def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def staff_choices() -> list[User]:
    """Active members of staff with an e-mail address, who may be named as recipients."""
    return [u for u in db.session.scalars(select(User).where(User.active)
                                          .order_by(User.display_name, User.username))
            if u.email and u.email.strip()]


def _listed(row: PackRecipient, user: User | None) -> Listed:
    """A recipient with their address now (plain values: they outlive the transaction)."""
    kept = (row.language, tuple(row.format_list), row.added_by, row.added_at)
    if user is None:
        return Listed(row.id, row.email or "", row.email, None, *kept)
    address = (user.email or "").strip() or None
    problem = None if user.active and address else (
        f"{user.username} has no e-mail address any more." if user.active
        else f"{user.username}'s account is switched off.")
    return Listed(row.id, user.display_name or user.username,
                  address if not problem else None, problem, *kept)


def recipients() -> list[Listed]:
    """Everyone the pack goes to, in the order they were added."""
    rows = db.session.execute(select(PackRecipient, User).outerjoin(
        User, User.id == PackRecipient.user_id).order_by(PackRecipient.id)).all()
    return [_listed(row, user) for row, user in rows]


def add(form: RecipientForm, by: Actor) -> PackRecipient:
    """Name someone to receive the pack; InvalidInput says what to fix."""
    errors: dict[str, list[str]] = {}
    if form.language not in review_pack.LANGUAGES:
        errors["language"] = [_("Choose English or Arabic.")]
    formats = [name for name in FORMATS if name in form.formats]
    if not formats or set(form.formats) - set(FORMATS):
        errors["formats"] = [_("Choose PDF, XLSX or both.")]
    user = None
    if bool(form.username) == bool(form.email):
        errors["_who"] = [_("Choose a member of staff or type an e-mail address (one of the "
                            "two).")]
    elif form.username:
        user = db.session.scalar(select(User).where(User.username == form.username))
        if user is None or not user.active:
            errors["username"] = [_("There is no active member of staff “%(name)s”.",
                                    name=form.username)]
        elif not (user.email or "").strip():
            errors["username"] = [_("%(name)s has no e-mail address: add one to their "
                                    "account, or type an address instead.", name=user.username)]
    elif len(form.email) > 254 or not _EMAIL.match(form.email):
        errors["email"] = [_("“%(value)s” is not an e-mail address: type one like "
                             "name@example.com.", value=form.email)]
    if errors:
        _refuse(errors)
    begin_write()
    taken = select(PackRecipient.id).where(PackRecipient.user_id == user.id) if user else \
        select(PackRecipient.id).where(func.lower(PackRecipient.email) == form.email.lower())
    if db.session.scalar(taken) is not None:
        who = user.username if user else form.email
        _refuse({"username" if user else "email": [_("%(who)s already receives the pack.",
                                                     who=who)]})
    row = PackRecipient(user_id=user.id if user else None, email=None if user else form.email,
                        language=form.language, formats=",".join(formats),
                        added_by=by.name, added_at=utcnow())
    db.session.add(row)
    who = user.username if user else form.email
    system_log.record(by, "pack_schedule.added", f"Review pack recipient added: {who} "
                      f"({form.language}, {', '.join(formats)})",
                      {"user": user.username if user else None, "email": row.email,
                       "language": form.language, "formats": formats})
    db.session.commit()
    return row


def remove(recipient_id: int, by: Actor) -> str:
    """Stop sending the pack to a recipient; returns who it was."""
    begin_write()
    found = db.session.execute(select(PackRecipient, User).outerjoin(
        User, User.id == PackRecipient.user_id).where(PackRecipient.id == recipient_id)).first()
    if found is None:
        db.session.rollback()
        raise NotFound(_("That recipient is no longer on the list."))
    row, user = found
    who = user.username if user else (row.email or "")
    db.session.delete(row)
    system_log.record(by, "pack_schedule.removed", f"Review pack recipient removed: {who}",
                      {"user": user.username if user else None, "email": row.email})
    db.session.commit()
    return who


def first_working_day(year: int, month: int) -> date:
    """The first working day of a month in the business calendar (the 1st if none is)."""
    cal = calendar.load()
    first = date(year, month, 1)
    day = first
    while day.month == month:
        if cal.hours_on(day) is not None:
            return day
        day += timedelta(days=1)
    return first


def due(now: datetime) -> Period | None:
    """The month whose pack is due to be sent at `now`, or None before its day has come."""
    zone = localtime.organisation_zone()
    today = now.astimezone(zone).date()
    if today < first_working_day(today.year, today.month):
        return None
    return last_full_month(today, zone)


def runs(limit: int = 12) -> list[PackRun]:
    """The months the schedule has sent, newest first."""
    return list(db.session.scalars(select(PackRun).order_by(PackRun.month.desc()).limit(limit)))


def run(now: datetime | None = None) -> PackRun | None:
    """The scheduler's call: send the previous month's pack once it is due and not yet sent."""
    now = now or utcnow()
    period = due(now)
    if period is None:
        return None
    month = period.first.strftime("%Y-%m")
    if db.session.scalar(select(PackRun.id).where(PackRun.month == month)) is not None:
        db.session.rollback()
        return None
    people = recipients()
    if not people:
        db.session.rollback()
        return None
    files = _files(period, people)
    begin_write()
    if db.session.scalar(select(PackRun.id).where(PackRun.month == month)) is not None:
        db.session.rollback()  # another scheduler sent it while this one built the files
        return None
    sent = PackRun(month=month, first_day=period.first, last_day=period.last,
                   messages=len(people), ran_at=now, ran_by=SCHEDULER)
    db.session.add(sent)
    try:
        db.session.flush()  # the unique month: a concurrent scheduler stops here
        _enqueue(period, people, files, now, SCHEDULER, f"sent for {month}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    log.info("management-review pack for %s sent to %d recipients", month, len(people))
    return sent


def send_now(by: Actor, now: datetime | None = None) -> int:
    """Send the last full month's pack to every recipient at once; how many e-mails."""
    now = now or utcnow()
    zone = localtime.organisation_zone()
    period = last_full_month(now.astimezone(zone).date(), zone)
    people = recipients()
    if not people:
        db.session.rollback()
        raise InvalidInput(_("Nobody receives the pack yet: add a recipient first."))
    files = _files(period, people)
    begin_write()
    _enqueue(period, people, files, now, by, "sent now to try the schedule")
    db.session.commit()
    return len(people)


def _files(period: Period, people: list[Listed]) -> dict[tuple[str, str], review_pack.Made]:
    """Each (language, format) the recipients need, made once."""
    made: dict[tuple[str, str], review_pack.Made] = {}
    sections: dict[str, list[Any]] = {}
    for person in people:
        lang = person.language
        for fmt in person.formats:
            if (lang, fmt) in made:
                continue
            tables = sections.setdefault(lang, review_pack.tables_for(period, lang))
            content = review_pack.pdf_bytes(period, lang, tables) if fmt == "pdf" \
                else xlsx_bytes(tables, rtl=lang == "ar")
            made[(lang, fmt)] = review_pack.Made(
                content, f"management-review-{period.label()}-{lang}.{fmt}", CONTENT_TYPES[fmt])
    return made


def _enqueue(period: Period, people: list[Listed], files: Mapping[tuple[str, str], Any],
             now: datetime, by: Actor | str, how: str) -> None:
    """One outbox message per recipient with their files, and the system log's note."""
    config = current_app.config
    domain = config["PLAINT_MAIL_SENDER"].rpartition("@")[2] or "plaint.invalid"
    public_url = config["PLAINT_PUBLIC_URL"].rstrip("/")
    for person in people:
        lang = person.language
        attached = [(files[(lang, f)].filename, files[(lang, f)].content_type,
                     files[(lang, f)].content) for f in person.formats]
        rendered = notifications.render(EVENT, lang, {
            "recipient": {"name": person.name}, "language": lang,
            "organisation": config["PLAINT_ORGANISATION_NAME"],
            "month": _month_name(period.first, lang),
            "first_day": period.first.isoformat(), "last_day": period.last.isoformat(),
            "files": [name for name, _type, _content in attached],
            "pack_url": f"{public_url}/reports/pack?from={period.first.isoformat()}"
                        f"&to={period.last.isoformat()}"})
        problem = person.problem or outbox.attachment_problem(attached)
        message = OutboxMessage(
            case_id=None, event=EVENT, element=None, language=lang,
            recipient_kind=RECIPIENT_KIND, recipient_name=person.name[:200] or None,
            recipient=person.address, subject=rendered.subject[:500], body_text=rendered.text,
            body_html=rendered.html, message_id=make_msgid("plaint", domain=domain),
            status=HELD if problem else PENDING, attempts=0,
            next_attempt_at=None if problem else now, last_error=problem, created_at=now)
        db.session.add(message)
        if not problem:
            outbox.attach(message, attached)
    system_log.record(by, PACK_EVENT, f"Management-review pack for {period.label()} {how} "
                      f"to {len(people)} recipients",
                      {"period": period.query_args(), "how": how,
                       "recipients": [p.address or p.name for p in people],
                       "formats": sorted({f for p in people for f in p.formats})})


def _month_name(day: date, lang: str) -> str:
    """The month in words in a language: "March 2026", "مارس 2026"."""
    try:
        return str(format_date(day, "LLLL y", locale=lang))
    except (ValueError, LookupError):
        return day.strftime("%Y-%m")
