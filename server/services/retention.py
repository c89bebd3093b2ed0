"""Retention rules: erase personal data, or only documents, some time after a case closed.

A rule names an outcome (as the reporting facts record how the case closed, or "any")
and an age after closure. `plan` lists exactly the cases each rule would touch now; `run`
works out the same plan and erases exactly those, so the dry run (the admin page, `flask
retention --dry-run`) and the real run (the daily scheduler job, `flask retention`) agree.
Open cases are never touched; cases on legal hold are listed as skipped. Rule changes and
each run are entries of the chained system log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import (
    Attachment,
    Case,
    CaseErasure,
    CaseReport,
    LegalHold,
    RetentionRule,
    utcnow,
)
from ..models.report import OUTCOMES
from ..models.retention import ACTIONS, ANONYMISE, ANY_OUTCOME, DOCUMENTS
from . import erasure_stores, system_log
from .actors import Actor
from .anonymisation import anonymise_case

UNITS = {"months": 1, "years": 12}
MAX_MONTHS = 1200


@dataclass
class RulePlan:
    """The cases one rule touches now, and those it would but for a legal hold."""

    rule: RetentionRule
    due: list[tuple[int, str]] = field(default_factory=list)  # (case id, reference)
    held: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """What a real run did, rule by rule."""

    plans: list[RulePlan]
    touched: list[tuple[int, str]] = field(default_factory=list)  # (rule id, reference)
    refused: list[str] = field(default_factory=list)  # "reference: why"


def rules() -> list[RetentionRule]:
    """Every rule, oldest first (a case due under two rules of one kind goes to the first)."""
    return list(db.session.scalars(select(RetentionRule).order_by(RetentionRule.id)))


def add_rule(outcome: str, action: str, amount: str, unit: str, actor: Actor) -> RetentionRule:
    """Add a rule after checking it; recorded in the system log; commit."""
    errors: dict[str, list[str]] = {}
    if outcome != ANY_OUTCOME and outcome not in OUTCOMES:
        errors["outcome"] = [_("Choose an outcome from the list.")]
    if action not in ACTIONS:
        errors["action"] = [_("Choose what the rule does.")]
    months = int(amount) * UNITS.get(unit, 0) if amount.strip().isdigit() else 0
    if unit not in UNITS:
        errors["unit"] = [_("Choose months or years.")]
    elif not 1 <= months <= MAX_MONTHS:
        errors["amount"] = [_("Give a whole number of months, from 1 to 1200.")
                            if unit == "months" else
                            _("Give a whole number of years, from 1 to 100.")]
    if errors:
        raise InvalidInput(_("The rule was not added: correct the fields marked."), errors)
    begin_write()
    rule = RetentionRule(outcome=outcome, action=action, after_months=months,
                         created_at=utcnow(), created_by=actor.name[:255])
    db.session.add(rule)
    db.session.flush()
    system_log.record(actor, "retention.rule_added",
                      f"Retention rule {rule.id} added: {action} cases closed {outcome} "
                      f"after {months} months",
                      {"rule": rule.id, "outcome": outcome, "action": action,
                       "after_months": months})
    db.session.commit()
    return rule


def remove_rule(rule_id: int, actor: Actor) -> None:
    """Remove a rule; recorded in the system log; commit."""
    begin_write()
    rule = db.session.get(RetentionRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no such retention rule."))
    system_log.record(actor, "retention.rule_removed", f"Retention rule {rule.id} removed",
                      {"rule": rule.id, "outcome": rule.outcome, "action": rule.action,
                       "after_months": rule.after_months})
    db.session.delete(rule)
    db.session.commit()


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier (the month's last day if it is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    for day in range(moment.day, 0, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    raise ValueError(moment)  # pragma: no cover - day 1 always exists


def plan(now: datetime | None = None) -> list[RulePlan]:
    """The cases each rule would touch now (each case once per kind of rule)."""
    now = now or utcnow()
    taken: dict[str, set[int]] = {ANONYMISE: set(), DOCUMENTS: set()}
    plans = []
    for rule in rules():
        found = RulePlan(rule)
        for case_id, reference, held in _candidates(rule, now):
            if case_id in taken[rule.action]:
                continue
            taken[rule.action].add(case_id)
            if held:
                found.held.append(reference)
            else:
                found.due.append((case_id, reference))
        plans.append(found)
    return plans


def _candidates(rule: RetentionRule, now: datetime) -> list[tuple[int, str, bool]]:
    """Closed complaints of the rule's outcome and age that it has not dealt with yet."""
    erased = exists().where(CaseErasure.case_id == Case.id,
                            CaseErasure.documents_only.is_(False))
    query = (select(Case.id, Case.reference,
                    exists().where(LegalHold.case_id == Case.id).label("held"))
             .outerjoin(CaseReport, CaseReport.case_id == Case.id)
             .where(Case.kind == "complaint", Case.is_open.is_(False),
                    Case.closed_at.is_not(None),
                    Case.closed_at <= months_before(now, rule.after_months), ~erased)
             .order_by(Case.closed_at, Case.id))
    if rule.outcome != ANY_OUTCOME:
        query = query.where(CaseReport.outcome == rule.outcome)
    if rule.action == DOCUMENTS:
        query = query.where(exists().where(Attachment.case_id == Case.id))
    return [(row.id, row.reference, bool(row.held)) for row in db.session.execute(query)]


def run(actor: Actor, now: datetime | None = None) -> RunResult:
    """Apply every rule to exactly the cases `plan` lists now; log the run; commit."""
    result = RunResult(plan(now))
    db.session.rollback()  # each erasure is a write transaction of its own
    ordered = sorted(result.plans, key=lambda p: p.rule.action != DOCUMENTS)
    for rule_plan in ordered:
        rule_id, action = rule_plan.rule.id, rule_plan.rule.action
        for case_id, reference in rule_plan.due:
            done = anonymise_case(case_id, actor, f"retention rule {rule_id}",
                                  documents_only=action == DOCUMENTS, rule_id=rule_id,
                                  scrub=False)
            if done.refused:
                result.refused.append(f"{reference}: {done.refused}")
            else:
                result.touched.append((rule_id, reference))
    if result.touched:
        erasure_stores.scrub()  # once for the run, not once per case
    if not result.plans:
        return result  # no rules: nothing to log every day
    begin_write()
    system_log.record(actor, "retention.run",
                      f"Retention run: {len(result.touched)} erasure(s), "
                      f"{len(result.refused)} refused, "
                      f"{sum(len(p.held) for p in result.plans)} on legal hold",
                      {"touched": [f"{rule}:{ref}" for rule, ref in result.touched],
                       "refused": result.refused,
                       "held": sorted({ref for p in result.plans for ref in p.held})})
    db.session.commit()
    return result
