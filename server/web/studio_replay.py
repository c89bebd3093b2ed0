"""The studio's preview of a draft on recent cases: start a replay job, watch it, read it."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..access import STUDIO, current_actor, guard
from ..errors import Conflict, InvalidInput
from ..services import process_texts
from ..services.processes import replay
from ..services.processes.drafts import get_draft

bp = Blueprint("studio_replay", __name__, url_prefix="/studio/drafts")
guard(bp, STUDIO)  # process owners (and administrators), each on their own drafts


@bp.get("/<int:draft_id>/replay")
def page(draft_id: int) -> ResponseReturnValue:
    """Choose the cases to replay, and the draft's earlier previews."""
    return _form(draft_id)


def _form(draft_id: int, status: int = 200,
          problem: Exception | None = None) -> ResponseReturnValue:
    """The choice of cases, with a problem to show if the last try had one."""
    actor = current_actor()
    draft = get_draft(draft_id, actor)
    form = {key: request.form.get(key, "") for key in
            ("last", "since", "until", "whatif_kind", "whatif_amount", "whatif_unit",
             "whatif_closed", "whatif_opens", "whatif_closes")}
    return render_template("studio/replay.html", draft=draft, form=form, problem=problem,
                           jobs=replay.jobs_of_draft(draft.id, actor),
                           default=replay.DEFAULT_CASES, most=replay.MAX_CASES,
                           kinds=replay.policy.COMPLAINT_KINDS,
                           units=replay.policy.UNITS), status


@bp.post("/<int:draft_id>/replay")
def start(draft_id: int) -> ResponseReturnValue:
    """Start a preview in the background and go to its progress page."""
    try:
        form = request.form
        choice = replay.choice_from(form.get("last", ""), form.get("since", ""),
                                    form.get("until", ""), form.get("whatif_kind", ""),
                                    form.get("whatif_amount", ""), form.get("whatif_unit", ""),
                                    form.get("whatif_closed", ""), form.get("whatif_opens", ""),
                                    form.get("whatif_closes", ""))
        job = replay.start(draft_id, choice, current_actor())
    except InvalidInput as exc:
        return _form(draft_id, 422, exc)
    except Conflict as exc:
        return _form(draft_id, 409, exc)
    return redirect(url_for("studio_replay.job", job_id=job.id), 303)


@bp.get("/replays/<int:job_id>")
def job(job_id: int) -> ResponseReturnValue:
    """A preview's progress while it runs (polled by htmx), its report once done."""
    found = replay.get_job(job_id, current_actor())
    template = "studio/_replay_job.html" if request.headers.get("HX-Request") \
        else "studio/replay_job.html"
    return render_template(template, job=found,
                           report=replay.report_of(found, process_texts.reading()),
                           what_if=replay.what_if_of(found),
                           calendar_if=replay.calendar_if_of(found))
