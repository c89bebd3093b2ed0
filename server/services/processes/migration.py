"""Moving running cases from one process version to another: the dry run and the move.

A process owner (studio) or an administrator (CLI) chooses the cases of a version (one,
a list, those at a step, or all open ones) and a target version. The dry run plans each
move in memory (engine/migration.py) and lists what it changes; it refuses a case whose
move is unsafe, saying why: the step it is at is gone, a running subprocess changed shape,
or a form of a step it already passed now requires data the case lacks (the case could
never supply it). The move plans each case again inside its own write transaction (the
case may have moved on since the dry run) and saves it through the write path
(recording.record_migration): one history entry naming both versions, the projections,
deadlines and timers rebuilt. Moving back is the same operation towards the old version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import distinct, func, select

from ...database import begin_write
from ...engine.migration import Move, TimerChange, plan_move
from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...models import Case, HumanTask, ProcessVersion, utcnow
from .. import process_texts
from ..actors import Actor
from ..recording import load_case, record_migration
from ..records import CaseRecord
from .versions import form_schema, runtime_for

MAX_CASES = 5000  # one request plans at most this many cases


@dataclass
class CaseMove:
    """One case in a dry run or a move: what changes, or why it cannot move."""

    reference: str
    status: str | None
    refusals: list[str] = field(default_factory=list)
    at_before: list[str] = field(default_factory=list)
    at_after: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    timers: list[TimerChange] = field(default_factory=list)
    asks: list[tuple[str, list[str]]] = field(default_factory=list)  # ready step -> new fields
    moved: bool = False


@dataclass
class MoveReport:
    """A dry run or a move of a set of cases from one version to another."""

    source: ProcessVersion
    target: ProcessVersion
    cases: list[CaseMove]
    done: bool  # True: the cases that could move were moved

    @property
    def movable(self) -> list[CaseMove]:
        """The cases that can move (or moved)."""
        return [c for c in self.cases if not c.refusals]

    @property
    def refused(self) -> list[CaseMove]:
        """The cases that cannot move, each with its reasons."""
        return [c for c in self.cases if c.refusals]


def version_by_id(version_id: int) -> ProcessVersion:
    """A process version, or NotFound."""
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_("There is no such process version."))
    return version


def version_by_number(number: int) -> ProcessVersion:
    """A process version by the number people see, or NotFound."""
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.number == number))
    if version is None:
        raise NotFound(_("There is no version %(number)s.", number=number))
    return version


def steps_with_cases(version_id: int) -> list[tuple[str, str, int]]:
    """The steps open cases of a version are at: (BPMN id, title, how many cases)."""
    rows = db.session.execute(
        select(HumanTask.bpmn_id, HumanTask.title, func.count(distinct(Case.id)))
        .join(Case, Case.id == HumanTask.case_id)
        .where(Case.process_version_id == version_id, Case.is_open)
        .group_by(HumanTask.bpmn_id, HumanTask.title).order_by(HumanTask.title))
    return [(str(b), str(t), int(n)) for b, t, n in rows]


def select_cases(version_id: int, references: list[str] | None = None,
                 at_step: str | None = None) -> list[str]:
    """The references of the version's cases to move: those named, else those open (at a step).

    A named case must run on the version; an unknown or other version's case is an error
    that names it, so a typing mistake is never silently skipped.
    """
    query = select(Case.reference).where(Case.process_version_id == version_id)
    if references:
        wanted = list(dict.fromkeys(r.strip() for r in references if r.strip()))
        found = set(db.session.scalars(query.where(Case.reference.in_(wanted))))
        missing = [r for r in wanted if r not in found]
        if missing:
            raise InvalidInput(
                _("Not cases of this version: %(references)s. Check the references.",
                  references=", ".join(missing[:20])),
                {"references": [_("Not cases of this version: %(references)s.",
                                  references=", ".join(missing[:20]))]})
        return wanted
    query = query.where(Case.is_open)
    if at_step:
        query = query.where(Case.id.in_(select(HumanTask.case_id)
                                        .where(HumanTask.bpmn_id == at_step)))
    return list(db.session.scalars(query.order_by(Case.id).limit(MAX_CASES)))


def dry_run(source_id: int, target_id: int, references: list[str]) -> MoveReport:
    """Plan moving these cases of `source_id` to `target_id`; change nothing."""
    source, target = _versions(source_id, target_id)
    planned = []
    for reference in references:
        case = load_case(reference)
        planned.append(_plan(case, target)[0])
    db.session.rollback()
    return MoveReport(source, target, planned, done=False)


def move(source_id: int, target_id: int, references: list[str], actor: Actor) -> MoveReport:
    """Move these cases of `source_id` to `target_id`, each in its own transaction.

    Each case is planned again as it is now; a case that cannot move (any more) is left
    as it is and listed with the reason, and the others still move.
    """
    source, target = _versions(source_id, target_id)
    numbers = (source.number, target.number)
    done = []
    for reference in references:
        begin_write()
        case = load_case(reference)
        if case.process_version_id != source.id:
            db.session.rollback()
            done.append(CaseMove(reference, case.status_label, [
                _("the case is not on version %(number)s any more", number=numbers[0])]))
            continue
        planned, plan = _plan(case, target)
        if planned.refusals or plan.state is None or plan.snapshot is None:
            db.session.rollback()
            done.append(planned)
            continue
        try:
            record_migration(case, target.id, plan.state, plan.snapshot, actor,
                             f"Moved from version {numbers[0]} to version {numbers[1]}",
                             _entry(planned, source, target), utcnow())
        except Conflict:  # a step of the case saved meanwhile: the others still move
            planned.refusals.append(_("the case changed while it was being moved; nothing "
                                      "of it changed: run the move again"))
        else:
            planned.moved = True
        done.append(planned)
    db.session.expire_all()
    return MoveReport(version_by_id(source_id), version_by_id(target_id), done, done=True)


def _versions(source_id: int, target_id: int) -> tuple[ProcessVersion, ProcessVersion]:
    """The two versions of a move; refuse moving a version onto itself."""
    source, target = version_by_id(source_id), version_by_id(target_id)
    if source.id == target.id:
        raise InvalidInput(_("Choose another version to move the cases to."),
                           {"target": [_("Choose another version to move the cases to.")]})
    return source, target


def _plan(case: CaseRecord, target: ProcessVersion) -> tuple[CaseMove, Move]:
    """Plan one case's move and judge the data the target's forms require.

    The reasons a case cannot move are read by the person asking, so the step and field
    names in them are in that person's language; what is recorded stays as drawn.
    """
    reader = process_texts.reading()
    old_text = process_texts.translator(case.process_version_id, reader)
    new_text = process_texts.translator(target.id, reader)
    plan = plan_move(runtime_for(case.process_version_id), case.workflow_state,
                     runtime_for(target.id), old_text)
    planned = CaseMove(case.reference, case.status_label, list(plan.refusals), plan.at_before,
                       plan.at_after, plan.removed, plan.added, plan.timers)
    for step in plan.forms:
        fields = _new_required(case.process_version_id, target.id, step.old_form,
                               step.new_form, plan.data)
        if not fields:
            continue
        if step.done:
            planned.refusals.append(_(
                "required data missing: the form of '%(step)s', which the case has passed, "
                "now requires %(fields)s, and the case has no value for it",
                step=old_text(step.title), fields=", ".join(new_text(f) for f in fields)))
        else:
            planned.asks.append((step.title, fields))
    return planned, plan


def _new_required(old_id: int, new_id: int, old_form: str | None, new_form: str | None,
                  data: dict[str, Any]) -> list[str]:
    """The fields the new form requires, the old one did not, and the data lacks (titled)."""
    if not new_form:
        return []
    schema = form_schema(new_id, new_form)
    before = set(form_schema(old_id, old_form).get("required", [])) if old_form else set()
    properties = schema.get("properties", {})
    return [str(properties.get(name, {}).get("title") or name)
            for name in schema.get("required", [])
            if name not in before and data.get(name) is None]


def _entry(planned: CaseMove, source: ProcessVersion, target: ProcessVersion) -> dict[str, Any]:
    """What the history entry of a move records."""
    return {"from_version": source.number, "to_version": target.number,
            "from_version_id": source.id, "to_version_id": target.id,
            "at_before": planned.at_before, "at_after": planned.at_after,
            "removed": planned.removed, "added": planned.added,
            "timers": [{"title": t.title, "before": _iso(t.before), "after": _iso(t.after)}
                       for t in planned.timers],
            "asks": [{"step": step, "fields": fields} for step, fields in planned.asks]}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
