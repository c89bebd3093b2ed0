"""ISO 10002 conformance evidence: each guiding principle and each clause 7 and 8 item,
what Plaint does for it, live figures for a period, and the tests that check it.

The figures come from the reporting facts (case_report), the case history and the system
log; nothing reads a workflow. Every test named here must exist: a test
(tests/test_iso10002.py) fails if one is renamed or removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..access import READ_CASES, TABLE
from ..extensions import db
from ..models import Case, CaseEvent, CaseReport, SystemEvent
from . import system_log
from .report_period import Period

PRINCIPLE, OPERATION, IMPROVEMENT = "principles", "operation", "improvement"
GROUPS = {PRINCIPLE: _l("Guiding principles (clause 4)"),
          OPERATION: _l("Operation of the process (clause 7)"),
          IMPROVEMENT: _l("Maintenance and improvement (clause 8)")}
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


def _counts(values: list[str | None]) -> str:
    """Counts of each value, most frequent first: 'web 4, phone 2'."""
    found = Counter(value or str(_("not recorded")) for value in values)
    return ", ".join(f"{name} {count}" for name, count in found.most_common()) or "—"


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
    remedies = [r for r in f.closed if r.remedy_type]
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
    return [(_("Decisions given in the period"), str(sum(
        1 for r in f.touched if r.responded_at is not None
        and f.period.start <= r.responded_at < f.period.end))),
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
    return [(_("Top causes"), ", ".join(f"{c} {n}" for c, n in causes.most_common(3)) or "—")]


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
    return [(_("Distinct root causes found"), str(len(causes))),
            (_("Closed cases with a root cause recorded"),
             shown(percent([r.cause is not None for r in f.closed])))]


@dataclass(frozen=True)
class Item:
    """A principle or clause item: what Plaint does, its figures and the tests behind it."""

    group: str
    ref: str  # "7.4", or the principle's name for principles
    title: Any
    provides: Any
    figures: Callable[[Facts], list[Figure]]
    tests: tuple[str, ...]




def _t(module: str, name: str) -> str:
    """A test's path::name: _t("portal", "test_x") is tests/test_portal.py::test_x."""
    return f"tests/test_{module}.py::{name}"


ITEMS: tuple[Item, ...] = (
    Item(PRINCIPLE, "commitment", _l("Commitment and capability"),
         _l("Dashboards and these reports; workload per handler; named case owners."),
         commitment, (
             _t("ownership",
        "test_the_handler_who_claims_the_first_task_owns_the_case"),)),
    Item(PRINCIPLE, "transparency", _l("Transparency"),
         _l("Public page with how to complain and target times; a private tracking link."),
         transparency, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(PRINCIPLE, "accessibility", _l("Accessibility"),
         _l("Public form, staff intake for phone, walk-in and letter, Arabic and English."),
         accessibility, (
             _t("portal", "test_staff_record_a_phone_complaint"),
             _t("notifications",
        "test_a_complainant_who_chose_arabic_gets_the_arabic_email"))),
    Item(PRINCIPLE, "responsiveness", _l("Responsiveness"),
         _l("Automatic acknowledgement with the reference; deadlines from the escalation policy."),
         responsiveness, (
             _t("notifications",
        "test_a_complaint_filed_on_the_portal_is_acknowledged_by_email"),)),
    Item(PRINCIPLE, "objectivity", _l("Objectivity"),
         _l("The diagram's notPerformedBy property: nobody reviews or approves their own work."),
         objectivity, (
             _t("objectivity",
        "test_the_first_handler_is_refused_the_internal_review_with_the_reason"),)),
    Item(PRINCIPLE, "charges", _l("Charges"),
         _l("Complaining is free and needs no account: the public form."),
         charges, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(PRINCIPLE, "integrity", _l("Information integrity"),
         _l("Validated forms; a hash-chained history the database cannot rewrite unseen."),
         integrity, (
             _t("cases",
        "test_a_tampered_or_truncated_history_is_detected"),
             _t("audit_integrity",
        "test_a_rewritten_system_log_row_is_detected"))),
    Item(PRINCIPLE, "confidentiality", _l("Confidentiality"),
         _l("Capabilities per role (server/access.py) and record-level checks."),
         confidentiality, (
             _t("access",
        "test_every_route_answers_every_role_as_the_access_table_says"),)),
    Item(PRINCIPLE, "customer_focus", _l("Customer-focused approach"),
         _l("Remedy sought, preferred language and channel recorded and used."),
         customer_focus, (
             _t("notifications",
        "test_a_complainant_who_chose_arabic_gets_the_arabic_email"),)),
    Item(PRINCIPLE, "accountability", _l("Accountability"),
         _l("A named owner for every case and task; reassignment is logged."),
         accountability, (
             _t("staff_pages",
        "test_a_supervisor_reassigns_a_task_and_it_is_logged"),)),
    Item(PRINCIPLE, "improvement", _l("Improvement"),
         _l("Root causes recorded on closing (reportAs cause), reported by cause."),
         improvement, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),)),
    Item(PRINCIPLE, "competence", _l("Competence"),
         _l("Roles and lanes: the diagram routes each task to a role."),
         competence, (
             _t("access",
        "test_a_role_only_a_diagram_routes_to_may_work_its_tasks_and_no_others"),)),
    Item(PRINCIPLE, "timeliness", _l("Timeliness"),
         _l("Business-day deadlines, reminders before a breach, escalation at the breach."),
         timeliness, (
             _t("escalation",
        "test_the_acknowledgement_chain_runs_in_business_time_across_the_weekend"),)),
    Item(OPERATION, "7.1", _l("Communication"),
         _l("The public page: how to complain and the target times."),
         transparency, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(OPERATION, "7.2", _l("Receipt of complaint"),
         _l("A unique reference; channel, complainant, product, description, remedy, documents."),
         receipt, (
             _t("cases",
        "test_a_complaint_is_registered_with_a_reference_and_a_first_task"),)),
    Item(OPERATION, "7.3", _l("Tracking of complaint"),
         _l("Status labels from the diagram (statusLabel) on the tracking page."),
         tracking, (
             _t("portal",
        "test_the_complainant_answers_the_decision_on_the_tracking_page"),)),
    Item(OPERATION, "7.4", _l("Acknowledgement of complaint"),
         _l("The acknowledgement e-mail and its deadline kind (acknowledgement)."),
         acknowledgement, (
             _t("iso10002",
        "test_acknowledged_on_target_is_the_evidence_for_7_4"),)),
    Item(OPERATION, "7.5", _l("Initial assessment of complaint"),
         _l("Triage decision table sets the priority; out-of-scope path."),
         assessment, (
             _t("process_paths",
        "test_triage_sets_the_priority_from_the_assessment"),)),
    Item(OPERATION, "7.6", _l("Investigation of complaints"),
         _l("Investigation tasks, consultations, escalation timers."),
         investigation, (
             _t("process_paths",
        "test_reminders_escalations_and_overdue_steps_fire_on_time"),)),
    Item(OPERATION, "7.7", _l("Response to complaint"),
         _l("Decision with remedy; approval above the authority limit (decision table)."),
         response, (
             _t("process_paths",
        "test_the_authority_limit_table_picks_the_approver"),)),
    Item(OPERATION, "7.8", _l("Communicating the decision"),
         _l("The decision letter with reasons and the next route (review, then ISO 10003)."),
         decision, (
             _t("letters",
        "test_the_complainant_reads_the_decision_with_its_reasons_and_next_route"),)),
    Item(OPERATION, "7.9", _l("Closing the complaint"),
         _l("The closed milestone; the survey; the reopen window."),
         closing, (
             _t("process_paths",
        "test_after_the_survey_the_reopen_window_still_ends_the_case"),)),
    Item(IMPROVEMENT, "8.1", _l("Collection of information"),
         _l("Typed reporting facts per case (reportAs), coded lists."),
         collection, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),)),
    Item(IMPROVEMENT, "8.2", _l("Analysis and evaluation of complaints"),
         _l("Returns by product and cause; top causes."),
         analysis, (
             _t("returns",
        "test_the_complaints_return_matches_the_rows_by_product_and_cause"),)),
    Item(IMPROVEMENT, "8.3", _l("Satisfaction with the complaints-handling process"),
         _l("The survey after closure (a message event in the closing diagram)."),
         satisfaction, (
             _t("iso10002",
        "test_survey_response_rate_and_mean_score_are_the_evidence_for_8_3"),)),
    Item(IMPROVEMENT, "8.4", _l("Monitoring of the complaints-handling process"),
         _l("KPIs on target per deadline kind; the SLA compliance return."),
         monitoring, (
             _t("returns",
        "test_sla_compliance_matches_the_rows_month_by_month"),)),
    Item(IMPROVEMENT, "8.5", _l("Auditing of the complaints-handling process"),
         _l("Audit trail, case bundles, exports of every list and return."),
         audit, (
             _t("returns", "test_the_idr_csv_has_one_row_per_complaint"),)),
    Item(IMPROVEMENT, "8.6", _l("Management review"),
         _l("The management-review pack (PDF and XLSX, English and Arabic)."),
         management_review, (
             _t("review_pack",
        "test_the_pack_is_a_pdf_in_english_and_in_arabic"),)),
    Item(IMPROVEMENT, "8.7", _l("Continual improvement"),
         _l("Root causes linked to complaints; corrective actions register."),
         continual_improvement, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),)),
)


@dataclass(frozen=True)
class Evidence:
    """An item with its figures for a period."""

    item: Item
    figures: list[Figure]


def evidence(period: Period) -> list[Evidence]:
    """Every item with its live figures for the period."""
    facts = Facts.load(period)
    return [Evidence(item, item.figures(facts)) for item in ITEMS]


def named_tests() -> set[str]:
    """Every test path::name the items name."""
    return {test for item in ITEMS for test in item.tests}
