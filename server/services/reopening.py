"""Staff reopen a closed case, with a reason, through the diagram.

The diagram says when staff may reopen a case: a message catch event with the property
`staffAction` = `reopen` that the case waits for (closing.bpmn waits for one during the
complainant's reopen window and for a while after it). The reason goes into the case as
that message's payload and into the history.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..access import REOPEN_CASES, require
from ..database import begin_write
from ..engine import EngineError, MessageNotExpected
from ..errors import Conflict, InvalidInput, ProcessFailed
from ..models import Case, utcnow
from .actors import Actor
from .processes import runtime_for
from .recording import load_case, record_step
from .records import CaseRecord

ACTION = "reopen"  # the staffAction value this service sends
MIN_REASON, MAX_REASON = 10, 5000
FIELD = "reopen_reason"  # the payload's name, as the complainant's reopen form has it


def clean_reason(text: str | None) -> str:
    """The reason as stored, or InvalidInput that says what to write."""
    reason = (text or "").strip().replace("\r\n", "\n")
    if len(reason) < MIN_REASON:
        message = _("Say why the case is reopened, in at least %(num)d characters.",
                    num=MIN_REASON)
        raise InvalidInput(message, {FIELD: [message]})
    if len(reason) > MAX_REASON:
        message = _("Shorten the reason to %(num)d characters.", num=MAX_REASON)
        raise InvalidInput(message, {FIELD: [message]})
    return reason


def can_reopen(case: Case | CaseRecord) -> bool:
    """Whether the case is closed and its diagram lets staff reopen it now."""
    if case.is_open:
        return False
    runtime = runtime_for(case.process_version_id)
    return ACTION in runtime.staff_actions(runtime.load(case.workflow_state))


def reopen(reference: str, reason: str | None, actor: Actor) -> CaseRecord:
    """Reopen a closed case with a reason; the diagram starts its new round of handling."""
    require(actor, REOPEN_CASES)
    text = clean_reason(reason)
    begin_write()
    case = load_case(reference)
    if case.is_open:
        raise Conflict(_("Case %(reference)s is open: only a closed case can be reopened.",
                         reference=reference))
    runtime = runtime_for(case.process_version_id)
    workflow = runtime.load(case.workflow_state)
    message = runtime.staff_actions(workflow).get(ACTION)
    if message is None:
        raise Conflict(_("Case %(reference)s can no longer be reopened: its process has "
                         "ended. Record a new complaint that refers to it instead.",
                         reference=reference))
    payload = {FIELD: text, "reopened_by": actor.name}
    try:
        snapshot = runtime.message(workflow, message, payload)
    except MessageNotExpected:
        raise Conflict(_("Case %(reference)s changed meanwhile: reload it.",
                         reference=reference)) from None
    except EngineError as exc:
        raise ProcessFailed(_("The case could not be reopened: %(reason)s",
                               reason=exc)) from None
    return record_step(case, runtime.dump(workflow), snapshot, actor, "case.reopened",
                       "Reopened by staff", {"message": message, "payload": {FIELD: text}},
                       utcnow())
