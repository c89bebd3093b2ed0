"""E-mail notifications: who a diagram's notice goes to, and the message rendered for them.

`enqueue` runs inside the step's transaction (recording._write_rest) and never commits:
it writes one outbox row per recipient, so an e-mail exists exactly when its step does
(DESIGN decision 12). Messages are rendered now, so the outbox shows what was said even
after the templates change; services/outbox.py delivers them.

Templates live in server/templates/email as `<event>.<language>.txt`: a "Subject:" line,
a blank line, then the text. The HTML part is that text set in `_layout.html` (escaped,
links made clickable, right to left for Arabic), so each message is written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from jinja2 import ChainableUndefined, FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, select

from ..engine import Notice, ReadyTask
from ..extensions import db
from ..models import HumanTask, OutboxMessage, User
from ..models.outbox import HELD, PENDING
from ..models.user import user_roles
from . import calendar, deferred, labels, links, localtime, lookups, money, process_texts
from .processes import role_resolver, runtime_for
from .records import CaseRecord

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
DEFAULT_LANGUAGE = "en"
RTL = frozenset({"ar", "fa", "he", "ur"})
# The stored bodies carry this where the secret link goes; delivery puts the token in.
TOKEN_PLACEHOLDER = "~tracking-token~"  # noqa: S105 - a marker, not a secret
NO_ADDRESS = ("The complainant gave no e-mail address: contact them by phone or letter "
              "instead.")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_LINK = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_ANCHOR = '<a href="{}" dir="ltr" style="color:#0b5ed7;word-break:break-all;">{}</a>'

# The assignees of a batch's tasks, read ahead (assignees_known): (case, task id) -> user.
_ASSIGNEES: ContextVar[dict[tuple[int, str], int | None] | None] = ContextVar(
    "plaint_known_assignees", default=None)


class TemplateProblem(Exception):
    """An e-mail template is missing or broken; the message says which and how to fix it."""


@dataclass(frozen=True)
class Recipient:
    """Someone a notice goes to, or why nobody can receive it (`problem`)."""

    address: str | None
    name: str | None
    staff: bool
    problem: str | None = None


class TaskRow(NamedTuple):
    """What a message uses of its task's projection row."""

    assignee_id: int | None
    due_at: datetime | None


@dataclass(frozen=True)
class Rendered:
    """A message ready for the outbox."""

    subject: str
    text: str
    html: str


@cache
def _statements() -> dict[str, Any]:
    """Prebuilt statements: timer sweeps run enqueue for thousands of cases at a time."""
    tasks, users, outbox = HumanTask.__table__, User.__table__, OutboxMessage.__table__
    person = (users.c.email, users.c.display_name)
    insert = outbox.insert()
    deferred.combine(insert, deferred.inserting(outbox))  # a sweep's batch: one statement
    return {
        "insert": insert,
        "task": select(tasks.c.assignee_id, tasks.c.due_at).where(
            tasks.c.case_id == bindparam("case_id"), tasks.c.task_id == bindparam("task_id")),
        "assignees": select(tasks.c.case_id, tasks.c.task_id, tasks.c.assignee_id).where(
            tasks.c.case_id.in_(bindparam("case_ids", expanding=True))),
        "user": select(*person).where(users.c.id == bindparam("user_id"), users.c.active),
        "holders": select(*person).join(user_roles, user_roles.c.user_id == users.c.id).where(
            user_roles.c.role_name == bindparam("role"), users.c.active).order_by(users.c.id),
    }


def _run(name: str, **params: Any) -> list[Any]:
    statement: Select[Any] = _statements()[name]
    return list(db.session.connection().execute(statement, params))


def enqueue(case: CaseRecord, notices: Sequence[Notice], now: datetime,
            link_seed: str | None = None, ready: Sequence[ReadyTask] | None = None) -> None:
    """Write one outbox row per recipient of each notice, in the caller's transaction.

    `ready` are the case's ready tasks as the step left them (its snapshot's): a notice
    that is not for the task's assignee needs only the task's due time, which they carry,
    so a sweep asks the database only for assignees.
    """
    rows: list[dict[str, Any]] = []
    zone = _zone()
    due = {t.task_id: t.due_at for t in ready} if ready is not None else None
    for notice in notices:
        task = None
        if notice.recipient != "complainant":
            task = _task(case, notice, due)
        for recipient in _recipients(case, notice, task):
            rows.append(_row(case, notice, recipient, task, now, link_seed, zone))
    if rows:
        # Read by nobody before the commit: a sweep's batch inserts them all at its end.
        deferred.write(_statements()["insert"], rows)


def _task(case: CaseRecord, notice: Notice, due: dict[str, datetime | None] | None
          ) -> TaskRow | None:
    """The notice's task as its projection row holds it (None: the task is not ready)."""
    if due is None:
        found = _run("task", case_id=case.id, task_id=notice.task_id)
        return TaskRow(found[0].assignee_id, found[0].due_at) if found else None
    if notice.task_id not in due:  # the step's projection rows hold only ready tasks
        return None
    at = due[notice.task_id]
    at = at.astimezone(UTC) if at is not None else None  # as the row gives it back
    if notice.recipient != "assignee":
        return TaskRow(None, at)
    return TaskRow(_assignee(case.id, notice.task_id), at)


def _assignee(case_id: int, task_id: str) -> int | None:
    """Who a ready task is assigned to: read ahead for a sweep's batch, else asked now."""
    ahead = _ASSIGNEES.get()
    if ahead is not None and (case_id, task_id) in ahead:
        return ahead[case_id, task_id]
    # A task the step made (not read ahead) may have been routed to the owner just now.
    found = _run("task", case_id=case_id, task_id=task_id)
    return found[0].assignee_id if found else None


@contextmanager
def assignees_known(case_ids: Collection[int]) -> Iterator[None]:
    """Read the assignees of these cases' tasks in one query, for a batch recording them.

    A step changes the assignee only of the tasks it makes (routing), which were not
    there to be read ahead, so a task read ahead keeps its assignee through the batch.
    """
    ahead = {(row.case_id, row.task_id): row.assignee_id for row in _run(
        "assignees", case_ids=list(case_ids))}
    token = _ASSIGNEES.set(ahead)
    try:
        yield
    finally:
        _ASSIGNEES.reset(token)


def _zone() -> tzinfo:
    """The organisation's time zone, for the dates in e-mails."""
    name = localtime.setting()[0]
    try:
        return ZoneInfo(name if name is not None else calendar.DEFAULT_ZONE)
    except (ValueError, LookupError):
        return UTC


def _recipients(case: CaseRecord, notice: Notice, task: TaskRow | None) -> list[Recipient]:
    """Resolve notifyTo: the complainant, the task's assignee (else its role), or a role."""
    if notice.recipient == "complainant":
        address = (case.complainant_email or "").strip() or None
        return [Recipient(address, case.complainant_name, False,
                          None if address else NO_ADDRESS)]
    if notice.recipient == "assignee":
        if task is not None and task.assignee_id is not None:
            assignee = task.assignee_id
            return _staff(lookups.once(("notifications.user", assignee),
                                       lambda: _run("user", user_id=assignee)),
                          f"the person assigned to '{notice.title}'")
        if notice.role is None:
            return [Recipient(None, None, True, f"'{notice.title}' has no assignee and no "
                              "role, so nobody can be told.")]
        return _staff(_holders(notice.role), f"the role {notice.role}")
    role = _role_named(case.process_version_id, notice.recipient)
    if role is None:
        return [Recipient(None, None, True, f"notifyTo '{notice.recipient}' on "
                          f"{notice.element} is neither a role nor a lane mapped to one: "
                          "fix the diagram or map the lane on the roles page.")]
    return _staff(_holders(role), f"the role {role}")


def _holders(role: str) -> list[Any]:
    """The active holders of a role (once per role within a sweep: every reminder asks)."""
    return lookups.once(("notifications.holders", role), lambda: _run("holders", role=role))


def _staff(people: list[Any], who: str) -> list[Recipient]:
    found = [Recipient(u.email.strip(), u.display_name, True) for u in people
             if u.email and u.email.strip()]
    return found or [Recipient(None, None, True, f"Nobody to send to: {who} has no active "
                               "account with an e-mail address.")]


def _role_named(version_id: int, name: str) -> str | None:
    """The role a notifyTo names: a lane of the case's diagram, a mapped lane, or a role."""
    return runtime_for(version_id).role_map.get(name) or \
        lookups.once("notifications.roles", role_resolver)(name)


def _row(case: CaseRecord, notice: Notice, recipient: Recipient, task: TaskRow | None,
         now: datetime, seed: str | None, zone: tzinfo) -> dict[str, Any]:
    """The outbox row of one message: pending, or held with the reason."""
    config = current_app.config
    language = _language(notice.template, config.get("PLAINT_STAFF_LANGUAGE")
                         if recipient.staff else case.preferred_language)
    # Every e-mail to the complainant carries a working link: the step that made the token
    # passes its seed, every later one a signed link to the case (services/links.py).
    tracking = not recipient.staff
    problem = recipient.problem
    try:
        context = _context(case, notice, recipient, task, language, zone, tracking)
        rendered = render(notice.template, language, context)
    except TemplateProblem as exc:
        problem = problem or str(exc)
        rendered = Rendered(f"({notice.template}: not rendered)", str(exc), "")
    domain = config["PLAINT_MAIL_SENDER"].rpartition("@")[2] or "plaint.invalid"
    held = problem is not None
    return {"case_id": case.id, "event": notice.template[:64], "element": notice.element[:255],
            "language": language, "recipient_kind": notice.recipient[:64],
            "recipient_name": _one_line(recipient.name)[:200] or None,
            "recipient": recipient.address[:254] if recipient.address else None,
            "subject": rendered.subject[:500], "body_text": rendered.text,
            "body_html": rendered.html, "message_id": make_msgid("plaint", domain=domain),
            "link_seed": (seed or links.case_seed(case.id))
            if tracking and TOKEN_PLACEHOLDER in rendered.text else None,
            "status": HELD if held else PENDING, "attempts": 0,
            "next_attempt_at": None if held else now, "claimed_by": None,
            "claimed_until": None, "last_error": problem, "created_at": now, "sent_at": None}


def _language(event: str, wanted: str | None) -> str:
    """The language wanted when a template exists in it, else the default."""
    for language in (wanted, DEFAULT_LANGUAGE):
        if language and _LANGUAGE.fullmatch(language) and _exists(f"{event}.{language}.txt"):
            return language
    return DEFAULT_LANGUAGE


def _context(case: CaseRecord, notice: Notice, recipient: Recipient, task: TaskRow | None,
             language: str, zone: tzinfo, tracking: bool) -> dict[str, Any]:
    """What a template may use. Complainant mails see only what the complainant may."""
    config = current_app.config
    public_url = config["PLAINT_PUBLIC_URL"].rstrip("/")
    hijri = localtime.shows_hijri()
    shown = SimpleNamespace(reference=case.reference, complainant_name=case.complainant_name,
                            product_service=case.product_service, received_at=case.received_at)
    context: dict[str, Any] = {
        "case": shown, "data": notice.data, "language": language,
        "recipient": SimpleNamespace(name=recipient.name or "", kind=notice.recipient),
        "organisation": config["PLAINT_ORGANISATION_NAME"],
        "external_body": config["PLAINT_EXTERNAL_BODY"], "public_url": public_url,
        "tracking_url": f"{public_url}/track/{TOKEN_PLACEHOLDER}" if tracking else None,
        "date": _formatter(language, zone, with_time=False, hijri=hijri),
        "datetime": _formatter(language, zone, with_time=True, hijri=hijri),
        "money": lambda value: money.format_amount(value, language),
    }
    if recipient.staff:
        # The priority's name in the e-mail's language, as pages name it (a code is stored).
        priority = notice.data.get("priority") or case.priority
        shown.priority = labels.code(priority, language) if priority else None
        shown.category = notice.data.get("category") or case.category
        context["case_url"] = f"{public_url}/cases/{case.reference}"
        # The task as the diagram names it, in the e-mail's language (stored in English).
        title = process_texts.text(case.process_version_id, notice.title, language)
        context["task"] = SimpleNamespace(title=title, element=notice.element,
                                          due_at=task.due_at if task is not None else None)
    return context


def _formatter(language: str, zone: tzinfo, with_time: bool,
               hijri: bool = False) -> Callable[[Any], str]:
    """A template helper showing a timestamp (or ISO text) as a local date (and time)."""

    def show(value: Any) -> str:
        moment = _moment(value)
        if moment is None:
            return ""
        return localtime.long_text(moment, zone, language, with_time=with_time, hijri=hijri)

    return show


def _moment(value: Any) -> datetime | date | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if len(value.strip()) == 10:  # a date without a time
        return parsed.date()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def render(event: str, language: str, context: dict[str, Any]) -> Rendered:
    """Render `<event>.<language>.txt` into subject, text and HTML; TemplateProblem if broken."""
    if not _NAME.fullmatch(event):
        raise TemplateProblem(f"'{event}' is not a template name: use lowercase letters, "
                              "digits and underscores (notify property of the diagram).")
    name = f"{event}.{language}.txt"
    env = _environment()
    if not _exists(name):
        raise TemplateProblem(f"There is no e-mail template {name}: add "
                              f"server/templates/email/{name}.")
    try:
        source = env.get_template(name).render(context)
    except Exception as exc:  # a broken template must never stop the step that sends it
        raise TemplateProblem(f"The e-mail template {name} could not be rendered: "
                              f"{type(exc).__name__}: {exc}") from None
    head, _, body = source.strip().partition("\n\n")
    if not head.lower().startswith("subject:"):
        raise TemplateProblem(f"The e-mail template {name} must start with a line "
                              "'Subject: ...' followed by a blank line.")
    subject = _one_line(head[len("subject:"):])
    text = body.strip("\n") + "\n"
    html = env.get_template("_layout.html").render(
        language=language, direction="rtl" if language in RTL else "ltr", subject=subject,
        paragraphs=_paragraphs(text), organisation=context.get("organisation", ""))
    return Rendered(subject, text, html)


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _paragraphs(text: str) -> list[Markup]:
    """The text's paragraphs as HTML for the layout: escaped, lines broken, links made
    clickable. Built here rather than by the layout's loops: a sweep renders thousands of
    messages, and the sandbox checks every attribute a template touches."""
    paragraphs = []
    for block in _PARAGRAPH_BREAK.split(text.strip()):
        lines = []
        for line in block.splitlines():
            last = 0
            html = []
            for match in _LINK.finditer(line):
                html.append(str(escape(line[last:match.start()])))
                link = str(escape(match.group(0)))
                html.append(_ANCHOR.format(link, link))
                last = match.end()
            html.append(str(escape(line[last:])))
            lines.append("".join(html))
        paragraphs.append(Markup("<br>".join(lines)))  # noqa: S704 - every piece escaped above
    return paragraphs


def _environment() -> SandboxedEnvironment:
    """The e-mail templates' own environment: sandboxed, lenient about missing data.

    Compiled templates are kept for the process, as the app's page templates are: files
    are checked for changes only where those are (debug, TEMPLATES_AUTO_RELOAD), since a
    sweep renders thousands of messages and each check is a stat of the file.
    """
    env: SandboxedEnvironment | None = current_app.extensions.get("plaint.mail_templates")
    if env is None:
        env = SandboxedEnvironment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
            undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True, auto_reload=bool(current_app.jinja_env.auto_reload))
        current_app.extensions["plaint.mail_templates"] = env
    return env


def _exists(name: str) -> bool:
    """Whether the template file exists (listed once per process unless templates reload)."""
    if _environment().auto_reload:
        return (TEMPLATES / name).is_file()
    names: frozenset[str] | None = current_app.extensions.get("plaint.mail_template_names")
    if names is None:
        names = frozenset(path.name for path in TEMPLATES.iterdir() if path.is_file())
        current_app.extensions["plaint.mail_template_names"] = names
    return name in names
