"""A preview's report worded in its reader's language.

The job runs outside any request, so its report (replay_report.py) keeps data, not
sentences: steps as [English title, "draft" or "own"], priorities as codes, and each
reason a case cannot be replayed as a kind with its parameters. This module words them
when the report is shown: titles through the draft's translations (while the draft is
kept) or the case's version's (process_texts), reasons through the catalog. Reports
stored before that kept English text, shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from ...extensions import db
from ...models import ProcessDraft, ReplayJob
from .. import process_texts
from .replay_report import DRAFT

Words = Callable[[Any], str]  # a stored step (or older text) -> its title for the reader


def worded(report: dict[str, Any], job: ReplayJob, language: str) -> dict[str, Any]:
    """The report with its steps and reasons in `language` (its codes stay codes)."""
    draft = _draft_texts(job, language)
    for case in report.get("cases", []):
        words = _words(case.get("version"), draft, language)
        case["added"] = [words(s) for s in case.get("added", [])]
        case["skipped"] = [words(s) for s in case.get("skipped", [])]
        case["deadlines"] = [[words(step), *times] for step, *times in case.get("deadlines", [])]
        case["stopped"] = words(case["stopped"]) if case.get("stopped") else None
    for case in report.get("unreplayable", []):
        reason = case.get("reason")
        if isinstance(reason, dict):
            words = _words(case.get("version"), draft, language, reason.get("side"))
            case["reason"] = reason_text(reason, words, language)
    return report


def _draft_texts(job: ReplayJob, language: str) -> dict[str, str]:
    """The draft's own translations into `language` ({} once it is deployed or discarded)."""
    draft = db.session.get(ProcessDraft, job.draft_id) if job.draft_id else None
    return process_texts.translations_in(draft.contents(), language) if draft else {}


def _words(version: int | None, draft: dict[str, str], language: str,
           side: str | None = None) -> Words:
    """How the steps of one case read: each by the translations of the side it comes from."""

    def title(step: Any) -> str:
        if not isinstance(step, list | tuple):
            return str(step)  # a report stored before steps were kept as data
        text, whose = str(step[0]), step[1] if len(step) > 1 else side
        if whose == DRAFT:
            return draft.get(text.strip()) or process_texts.text(version, text, language)
        return process_texts.text(version, text, language)

    return title


def reason_text(reason: dict[str, Any], words: Words, language: str) -> str:
    """Why a case cannot be replayed, as a sentence in the reader's language."""
    why = reason.get("why")
    side = reason.get("side")
    if why == "timers":
        said = _("its timers fire more often than a replay follows")
    elif why == "form":
        said = _form_text(reason, words, language)
    else:  # "engine": the engine's or the draft's own message, as the engine gave it
        said = _("the process stopped: %(detail)s", detail=reason.get("detail") or "")
    return _("on its own version: %(reason)s", reason=said) if side != DRAFT else said


def _form_text(reason: dict[str, Any], words: Words, language: str) -> str:
    """A form's refusal: the step, then each field with what it lacks."""
    step = words([reason.get("step") or "", reason.get("side")])
    problem = reason.get("problem")
    if not isinstance(problem, dict):
        return f"{step}: {problem}"
    if "missing" in problem:
        return _("%(step)s: the form %(name)s is missing", step=step, name=problem["missing"])
    parts = []
    for entry in problem.get("fields") or []:
        if not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[2], dict):
            continue
        _field, title, messages = entry
        said = messages.get(language) or messages.get("en") or []
        parts.append(f"{words([title, reason.get('side')])}: {' '.join(said)}")
    return f"{step}: {'; '.join(parts) or problem.get('detail', '')}"
