"""The task page: the task's form, with the case beside it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..access import WORK_TASKS, current_actor, requires
from ..formkit import dynamic, render_fields, submit_options
from ..models import utcnow
from ..services import (
    attachments,
    audit,
    case_context,
    cases,
    code_lists,
    history,
    inbox,
    processes,
    tasks,
)
from .access_log import opened as case_opened
from .forms import Submission, submit
from .language import process_form, process_text
from .timefmt import page_zone

bp = Blueprint("tasks", __name__)
# CommonMark with raw HTML off: instructions from a diagram cannot inject markup.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def instructions_html(text: str | None) -> Markup | None:
    """Render a task's documentation (Markdown) safely."""
    return Markup(_markdown.render(text)) if text else None  # noqa: S704 - html disabled


def _button(ui: dict[str, Any] | None, has_form: bool) -> tuple[str | None, str | None]:
    """The submit button's text and class; a task without a form is simply "Done"."""
    text, css = submit_options(ui)
    return (text or (None if has_form else _("Done"))), css


@bp.context_processor
def _document_helpers() -> dict[str, Any]:
    return {"human_size": attachments.human_size}


@bp.route("/cases/<reference>/tasks/<task_id>", methods=["GET", "POST"])
@requires(WORK_TASKS)
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """Show a task's form; on POST validate it, complete the task or show what to fix."""
    me = current_actor()
    opened = tasks.open_task(reference, task_id, me, prefill=request.method == "GET",
                             attempt=request.method == "POST")
    row, version_id = opened.task, opened.case.process_version_id
    schema = processes.form_schema(version_id, row.form) if row.form else \
        {"type": "object", "properties": {}}
    ui = processes.form_schema(version_id, opened.ui_form) if opened.ui_form else None
    schema, ui = process_form(version_id, schema, ui)
    # Choices from the task's data; a variable that cannot give them says so on its field.
    schema, unusable = dynamic.expand(schema, opened.options)
    title = process_text(version_id, row.title)
    sent = Submission(values=opened.values)
    if request.method == "POST":
        seen = request.form.get("case_version", type=int)
        sent = submit(schema, ui, request.form, lambda values: cases.complete_task(
            reference, task_id, values, me, expected_version=seen,
            read=(opened.case, row), settings_stamp=opened.settings_stamp))
        if sent.ok:
            flash(_("%(task)s is done.", task=title), "success")
            return redirect(url_for("inbox.index"))
    # The page shows the case as it stands now (after a refused POST too), through the model.
    case = cases.get_case(reference)
    # The task page shows the case's record beside the form: a read, like the case page.
    case_opened(me, case.id, case.reference, "case", f"task: {row.title}")
    events = audit.history(case)
    beside = case_context.for_task(case, events, opened.shows)
    return render_template(
        "tasks/task.html", case=case, task=row, status=sent.status,
        contact=beside.contact, documents=beside.documents, recorded=beside.recorded,
        action=beside.action, recurrence=beside.recurrence,
        fields=render_fields(schema, ui, sent.values, {**unusable, **sent.errors},
                             lists=code_lists.for_form(schema), zone=page_zone()),
        instructions=instructions_html(process_text(case.process_version_id,
                                                    opened.instructions) or None),
        prompt=opened.prompt,
        history=history.for_case(case, events), candidates=inbox.candidates(row.role),
        sla=inbox.sla_state(row.due_at, utcnow()), form_title=schema.get("title"),
        button=_button(ui, bool(row.form)),
    ), sent.status
