"""The task page: the task's form, with the case beside it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..errors import Conflict, Forbidden
from ..formkit import render_fields
from ..models import utcnow
from ..services import audit, cases, inbox, objectivity, processes
from .access import CASE_WRITERS, actor, roles_required
from .forms import Submission, submit

bp = Blueprint("tasks", __name__)
# CommonMark with raw HTML off: instructions from a diagram cannot inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def instructions_html(text: str | None) -> Markup | None:
    """Render a task's documentation (Markdown) safely."""
    return Markup(_markdown.render(text)) if text else None  # noqa: S704 - html disabled


def _open_task(reference: str, task_id: str) -> tuple[Any, Any, Any]:
    case = cases.get_case(reference)
    task = next((t for t in cases.ready_tasks(case) if t.task_id == task_id), None)
    if task is None:
        raise Conflict(_("This task is no longer open: it was completed or the case moved on."))
    # A plain copy: completing the task deletes its row, and the page still names it.
    row = SimpleNamespace(**{c: getattr(task, c) for c in (
        "task_id", "bpmn_id", "title", "role", "form", "assignee_id", "due_at")})
    return case, row, cases.task_details(case, task)


@bp.route("/cases/<reference>/tasks/<task_id>", methods=["GET", "POST"])
@roles_required(*CASE_WRITERS)
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """Show a task's form; on POST validate it, complete the task or show what to fix."""
    case, row, details = _open_task(reference, task_id)
    me = actor()
    if row.role is None or not me.has_role(row.role):
        raise Forbidden(_("Only people with the role '%(role)s' can work on this task.",
                          role=row.role))
    objectivity.check(case, row, me.name)
    schema = processes.form_schema(case.process_version_id, row.form) if row.form else \
        {"type": "object", "properties": {}}
    ui = processes.form_schema(case.process_version_id, details.ui_form) \
        if details.ui_form else None
    sent = Submission()
    if request.method == "POST":
        seen = request.form.get("case_version", type=int)
        sent = submit(schema, ui, request.form, lambda values: cases.complete_task(
            reference, task_id, values, me, expected_version=seen))
        if sent.ok:
            flash(_("%(task)s is done.", task=row.title), "success")
            return redirect(url_for("inbox.index"))
        case = cases.get_case(reference)
    return render_template(
        "tasks/task.html", case=case, task=row, status=sent.status,
        fields=render_fields(schema, ui, sent.values, sent.errors),
        instructions=instructions_html(details.instructions),
        history=audit.history(case), candidates=inbox.candidates(row.role),
        sla=inbox.sla_state(row.due_at, utcnow()), form_title=schema.get("title"),
    ), sent.status
