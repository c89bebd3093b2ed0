"""The live figures of the ISO 10002 conformance evidence (services/conformance.py).

Each function takes the period's reporting rows (`Facts`) and returns the figures that
evidence one principle or clause item; they read the reporting facts (case_report), the
case history and the system log, never a workflow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..access import READ_CASES, TABLE
from ..extensions import db
from ..models import ActionComplaint, Case, CaseEvent, CaseReport, CorrectiveAction, SystemEvent
from . import system_log
from .report_period import Period

PACK_EVENT = "review_pack.made"  # the system log kind of a management-review pack made


@dataclass
class Facts:
    """The period's reporting rows, read once for every evidence item."""

    period: Period
    received: list[CaseReport]  # received in the period
    closed: list[CaseReport]  # closed in the period
    open_now: list[CaseReport]  # open at the end of the period
    touched: list[CaseReport]  # open at some time in the period

    @staticmethod
    def load(period: Period) -> Facts:
        """Read the rows of a period."""
        rows = list(db.session.scalars(select(CaseReport).where(
            CaseReport.received_at < period.end,
            or_(CaseReport.closed_at.is_(None), CaseReport.closed_at >= period.start))))
        return Facts(period,
                     [r for r in rows if r.received_at >= period.start],
                     [r for r in rows if r.closed_at is not None and r.closed_at < period.end],
                     [r for r in rows if r.closed_at is None or r.closed_at >= period.end],
                     rows)


def percent(flags: Sequence[bool | None]) -> float | None:
    """The share of True among the flags that are known, in percent (None if none known)."""
    known = [flag for flag in flags if flag is not None]
    return round(100.0 * sum(known) / len(known), 1) if known else None


def shown(value: float | None, unit: str = "%") -> str:
    """A figure as text; '—' when there is nothing to measure."""
    return "—" if value is None else f"{value:.1f}{unit}"


Figure = tuple[str, str]


def _ranked(found: Counter[str]) -> list[tuple[str, int]]:
    """Counts most frequent first, ties by name (not by the order the rows were read)."""
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))


def _counts(values: list[str | None]) -> str:
    """Counts of each value, most frequent first: 'web 4, phone 2'."""
    found = Counter(value or str(_("not recorded")) for value in values)
    return ", ".join(f"{name} {count}" for name, count in _ranked(found)) or "—"


def _events(kind: str, period: Period) -> int:
    """Case history entries of a kind in the period."""
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.kind == kind, CaseEvent.at >= period.start, CaseEvent.at < period.end)) or 0


def _system_events(prefix: str, period: Period) -> int:
    """System log entries whose kind starts with a prefix, in the period."""
    return db.session.scalar(select(func.count()).select_from(SystemEvent).where(
        SystemEvent.kind.startswith(prefix, autoescape=True), SystemEvent.at >= period.start,
        SystemEvent.at < period.end)) or 0


# -- the figures, one function per item ---------------------------------------------------

def commitment(f: Facts) -> list[Figure]:
    """The figures that evidence commitment."""
    owners = Counter(r.owner_id for r in f.open_now if r.owner_id is not None)
    return [(_("Open cases at the end of the period"), str(len(f.open_now))),
            (_("Handlers owning open cases"), str(len(owners))),
            (_("Most open cases held by one handler"), str(max(owners.values(), default=0)))]


def transparency(f: Facts) -> list[Figure]:
    """The figures that evidence transparency."""
    web = sum(1 for r in f.received if r.channel == "web")
    return [(_("Complaints received"), str(len(f.received))),
            (_("Filed on the public form (tracking link given)"), str(web))]


def accessibility(f: Facts) -> list[Figure]:
    """The figures that evidence accessibility."""
    languages = list(db.session.scalars(
        select(Case.preferred_language).join(CaseReport, CaseReport.case_id == Case.id)
        .where(CaseReport.received_at >= f.period.start,
               CaseReport.received_at < f.period.end)))
    return [(_("Received by channel"), _counts([r.channel for r in f.received])),
            (_("Preferred language"), _counts(list(languages)))]


def responsiveness(f: Facts) -> list[Figure]:
    """The figures that evidence responsiveness."""
    return [(_("Acknowledged on target"),
             shown(percent([r.acknowledgement_on_target for r in f.received])))]


def objectivity(f: Facts) -> list[Figure]:
    """The figures that evidence objectivity."""
    refused = _events("task.refused", f.period) + _system_events("objectivity.", f.period)
    return [(_("Review attempts refused (recorded)"), str(refused)),
            (_("Cases escalated or reviewed"),
             str(sum(1 for r in f.received if r.escalation_level > 0)))]


def charges(f: Facts) -> list[Figure]:
    """The figures that evidence charges."""
    return [(_("Complaints filed without an account or a fee"),
             str(sum(1 for r in f.received if r.channel == "web")))]


def integrity(f: Facts) -> list[Figure]:
    """The figures that evidence integrity."""
    check = system_log.verify()
    return [(_("System log chain"), _("intact") if not check.problems else
             _("%(count)d problems", count=len(check.problems))),
            (_("History entries written in the period"),
             str(db.session.scalar(select(func.count()).select_from(CaseEvent).where(
                 CaseEvent.at >= f.period.start, CaseEvent.at < f.period.end)) or 0))]


def confidentiality(f: Facts) -> list[Figure]:
    """The figures that evidence confidentiality."""
    return [(_("Roles that may read cases"), ", ".join(sorted(TABLE[READ_CASES])))]


def customer_focus(f: Facts) -> list[Figure]:
    """The figures that evidence customer focus."""
    # A remedy is recorded as a type or as an amount paid (the reference process reports
    # only the amount).
    remedies = [r for r in f.closed if r.remedy_type or (r.remedy_amount or 0) > 0]
    return [(_("Closed cases with a remedy recorded"), str(len(remedies))),
            (_("Vulnerable customers among those received"),
             str(sum(1 for r in f.received if r.vulnerable)))]


def accountability(f: Facts) -> list[Figure]:
    """The figures that evidence accountability."""
    return [(_("Open cases with a named owner"),
             shown(percent([r.owner_id is not None for r in f.open_now]))),
            (_("Reassignments logged"), str(_events("task.reassigned", f.period)))]


def improvement(f: Facts) -> list[Figure]:
    """The figures that evidence improvement."""
    return [(_("Closed cases with a root cause recorded"),
             shown(percent([r.cause is not None for r in f.closed])))]


def competence(f: Facts) -> list[Figure]:
    """The figures that evidence competence."""
    return [(_("Roles that work tasks"), ", ".join(sorted(TABLE["work_tasks"])))]


def timeliness(f: Facts) -> list[Figure]:
    """The figures that evidence timeliness."""
    return [(_("Responded on target"), shown(percent([r.response_on_target for r in f.received]))),
            (_("Resolved on target"),
             shown(percent([r.resolution_on_target for r in f.received])))]


def receipt(f: Facts) -> list[Figure]:
    """The figures that evidence receipt."""
    return [(_("Complaints received"), str(len(f.received))),
            (_("With product or service recorded"),
             shown(percent([r.product is not None for r in f.received])))]


def tracking(f: Facts) -> list[Figure]:
    """The figures that evidence tracking."""
    return [(_("Open at the end of the period"), str(len(f.open_now)))]


def acknowledgement(f: Facts) -> list[Figure]:
    """The figures that evidence acknowledgement."""
    hours = [r.acknowledge_hours for r in f.received if r.acknowledge_hours is not None]
    return [(_("Acknowledged on target"),
             shown(percent([r.acknowledgement_on_target for r in f.received]))),
            (_("Median business hours to acknowledge"),
             shown(median(hours) if hours else None, " h"))]


def assessment(f: Facts) -> list[Figure]:
    """The figures that evidence assessment."""
    return [(_("Received by priority"), _counts([r.priority for r in f.received])),
            (_("Out of scope"), str(sum(1 for r in f.closed if r.outcome == "out_of_scope")))]


def investigation(f: Facts) -> list[Figure]:
    """The figures that evidence investigation."""
    return [(_("Escalation rate"),
             shown(percent([r.escalation_level > 0 for r in f.received])))]


def response(f: Facts) -> list[Figure]:
    """The figures that evidence response."""
    return [(_("Responded on target"), shown(percent([r.response_on_target for r in f.received]))),
            (_("Outcomes of closed cases"), _counts([r.outcome for r in f.closed]))]


def decision(f: Facts) -> list[Figure]:
    """The figures that evidence decision."""
    # The decision is the `resolved` milestone; `responded` is the first response.
    return [(_("Decisions given in the period"), str(sum(
        1 for r in f.touched if r.resolved_at is not None
        and f.period.start <= r.resolved_at < f.period.end))),
            (_("Regulator or external body involved"),
             str(sum(1 for r in f.closed if r.regulator)))]


def closing(f: Facts) -> list[Figure]:
    """The figures that evidence closing."""
    return [(_("Closed in the period"), str(len(f.closed))),
            (_("Reopen rate"), shown(percent([r.reopen_count > 0 for r in f.closed])))]


def collection(f: Facts) -> list[Figure]:
    """The figures that evidence collection."""
    coded = [all((r.category, r.product, r.cause, r.outcome)) for r in f.closed]
    return [(_("Closed cases with category, product, cause and outcome"), shown(percent(coded)))]


def analysis(f: Facts) -> list[Figure]:
    """The figures that evidence analysis."""
    causes = Counter(r.cause for r in f.closed if r.cause)
    return [(_("Top causes"), ", ".join(f"{c} {n}" for c, n in _ranked(causes)[:3]) or "—")]


def satisfaction(f: Facts) -> list[Figure]:
    """The figures that evidence satisfaction."""
    scores = [r.satisfaction for r in f.closed if r.satisfaction is not None]
    return [(_("Survey response rate"), shown(percent([r.satisfaction is not None
                                                       for r in f.closed]))),
            (_("Mean satisfaction score (1 to 5)"),
             shown(sum(scores) / len(scores) if scores else None, ""))]


def monitoring(f: Facts) -> list[Figure]:
    """The figures that evidence monitoring."""
    return [*acknowledgement(f)[:1], *timeliness(f)]


def audit(f: Facts) -> list[Figure]:
    """The figures that evidence audit."""
    return [(_("Case bundles exported"), str(_events("case.exported", f.period))),
            (_("Case lists exported"), str(_system_events("cases.exported", f.period)))]


def management_review(f: Facts) -> list[Figure]:
    """The figures that evidence management review."""
    return [(_("Review packs made in the period"), str(_system_events(PACK_EVENT, f.period)))]


def continual_improvement(f: Facts) -> list[Figure]:
    """The figures that evidence continual improvement."""
    causes = {r.cause for r in f.closed if r.cause}
    period = f.period
    opened = db.session.scalar(select(func.count()).select_from(CorrectiveAction).where(
        CorrectiveAction.opened_at >= period.start, CorrectiveAction.opened_at < period.end))
    completed = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.kind == "action", Case.closed_at >= period.start, Case.closed_at < period.end))
    linked = db.session.scalar(select(func.count(func.distinct(ActionComplaint.complaint_id)))
                               .where(ActionComplaint.linked_at >= period.start,
                                      ActionComplaint.linked_at < period.end))
    return [(_("Distinct root causes found"), str(len(causes))),
            (_("Closed cases with a root cause recorded"),
             shown(percent([r.cause is not None for r in f.closed]))),
            (_("Corrective actions opened"), str(opened or 0)),
            (_("Corrective actions completed (verified effective)"), str(completed or 0)),
            (_("Complaints linked to a corrective action"), str(linked or 0))]
