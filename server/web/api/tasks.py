"""Task work over the API, as the client's acting user: the inbox, claim, complete."""

from __future__ import annotations

from flask import g, request

from ...access import API_WORK, WORK_TASKS, require, requires_scope
from ...services import api_reads, api_work
from ...services.actors import Actor
from . import bp, spec
from .models import CompleteIn, StepOut, TaskList, TaskQuery
from .responses import Answer, accepts, answers, if_match, json_body


def _worker() -> Actor:
    """The acting user as the services see them; 403 unless they work tasks."""
    actor = g.api_caller.actor
    require(actor, WORK_TASKS)
    return actor


@bp.get("/v1/tasks")
@requires_scope(API_WORK)
@spec.validate(query=TaskQuery, resp=answers(200, TaskList, 401, 403, 422, 429),
               tags=["tasks"])
def list_tasks() -> Answer:
    """The acting user's inbox (mine, unclaimed, or the team's), a page at a time."""
    asked = TaskQuery.model_validate(request.args.to_dict())
    items, after = api_reads.task_page(_worker(), asked.view, asked.cursor)
    return TaskList.model_validate({"items": items, "next_cursor": after})


@bp.post("/v1/cases/<reference>/tasks/<task_id>/claim")
@requires_scope(API_WORK)
@spec.validate(resp=answers(200, StepOut, 401, 403, 404, 409, 422, 429), tags=["tasks"])
def claim(reference: str, task_id: str) -> Answer:
    """Take an unclaimed task for the acting user (If-Match: the case version)."""
    return StepOut.model_validate(api_work.claim(reference, task_id, _worker(), if_match()))


@bp.post("/v1/cases/<reference>/tasks/<task_id>/complete")
@requires_scope(API_WORK)
@accepts("application/json")
@spec.validate(json=CompleteIn,
               resp=answers(200, StepOut, 401, 403, 404, 409, 415, 422, 429), tags=["tasks"])
def complete(reference: str, task_id: str) -> Answer:
    """Complete a task with its form's fields (If-Match: the case version; stale is 409)."""
    values = CompleteIn.model_validate(json_body()).values
    return StepOut.model_validate(api_work.complete(reference, task_id, values, _worker(),
                                                    if_match()))
