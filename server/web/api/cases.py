"""Reading cases over the API: the list, one case with its ETag, its history."""

from __future__ import annotations

from flask import g, request

from ...access import API_READ, API_WORK, WRITE_CASES, require, requires_scope
from ...services import api_reads, api_work
from ..access_log import opened
from . import bp, spec
from .models import CaseList, CaseOut, CaseQuery, HistoryOut, MessageIn, StepOut
from .responses import Answer, accepts, answers, json_body


@bp.get("/v1/cases")
@requires_scope(API_READ)
@spec.validate(query=CaseQuery, resp=answers(200, CaseList, 401, 403, 422, 429),
               tags=["cases"])
def list_cases() -> Answer:
    """Cases, oldest first, a page at a time (filters: open, status)."""
    asked = CaseQuery.model_validate(request.args.to_dict())
    found, after = api_reads.case_page(asked.open, asked.status, asked.cursor, asked.limit,
                                      g.api_caller.actor)
    return CaseList.model_validate({"items": [api_reads.summary(case) for case in found],
                                    "next_cursor": after})


@bp.get("/v1/cases/<reference>")
@requires_scope(API_READ)
@spec.validate(resp=answers(200, CaseOut, 401, 403, 404, 429), tags=["cases"])
def get_case(reference: str) -> Answer:
    """A case and its fields; the ETag is the case version, for If-Match."""
    case = CaseOut.model_validate(api_reads.case_detail(reference, g.api_caller.actor))
    opened(g.api_caller.actor, None, case.reference, "api", "case")
    return case, 200, {"ETag": f'"{case.version}"'}


@bp.get("/v1/cases/<reference>/history")
@requires_scope(API_READ)
@spec.validate(resp=answers(200, HistoryOut, 401, 403, 404, 429), tags=["cases"])
def case_history(reference: str) -> Answer:
    """A case's history, oldest first, as recorded."""
    history = HistoryOut.model_validate(api_reads.history(reference, g.api_caller.actor))
    opened(g.api_caller.actor, None, reference, "api", "history")
    return history


@bp.post("/v1/cases/<reference>/messages")
@requires_scope(API_WORK)
@accepts("application/json")
@spec.validate(json=MessageIn, resp=answers(200, StepOut, 401, 403, 404, 409, 415, 422, 429),
               tags=["tasks"])
def send_message(reference: str) -> Answer:
    """Send a message the case is waiting for (e.g. information from the complainant)."""
    actor = g.api_caller.actor
    require(actor, WRITE_CASES)
    body = MessageIn.model_validate(json_body())
    return StepOut.model_validate(api_work.send_message(reference, body.message, body.values,
                                                        actor))
