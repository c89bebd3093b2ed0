"""ISO 10002 conformance evidence: each guiding principle and each clause 7 and 8 item,
what Plaint does for it, live figures for a period, and the tests that check it.

The figures come from the reporting facts (case_report), the case history and the system
log; nothing reads a workflow. Every test named here must exist: a test
(tests/test_iso10002.py) fails if one is renamed or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from . import conformance_figures as figures_of
from .conformance_figures import Facts, Figure
from .report_period import Period

PRINCIPLE, OPERATION, IMPROVEMENT = "principles", "operation", "improvement"
GROUPS = {PRINCIPLE: _l("Guiding principles (clause 4)"),
          OPERATION: _l("Operation of the process (clause 7)"),
          IMPROVEMENT: _l("Maintenance and improvement (clause 8)")}


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
         figures_of.commitment, (
             _t("ownership",
        "test_the_handler_who_claims_the_first_task_owns_the_case"),)),
    Item(PRINCIPLE, "transparency", _l("Transparency"),
         _l("Public page with how to complain and target times; a private tracking link."),
         figures_of.transparency, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(PRINCIPLE, "accessibility", _l("Accessibility"),
         _l("Public form, staff intake for phone, walk-in and letter, Arabic and English."),
         figures_of.accessibility, (
             _t("portal", "test_staff_record_a_phone_complaint"),
             _t("notifications",
        "test_a_complainant_who_chose_arabic_gets_the_arabic_email"))),
    Item(PRINCIPLE, "responsiveness", _l("Responsiveness"),
         _l("Automatic acknowledgement with the reference; deadlines from the escalation policy."),
         figures_of.responsiveness, (
             _t("notifications",
        "test_a_complaint_filed_on_the_portal_is_acknowledged_by_email"),)),
    Item(PRINCIPLE, "objectivity", _l("Objectivity"),
         _l("The diagram's notPerformedBy property: nobody reviews or approves their own work."),
         figures_of.objectivity, (
             _t("objectivity",
        "test_the_first_handler_is_refused_the_internal_review_with_the_reason"),)),
    Item(PRINCIPLE, "charges", _l("Charges"),
         _l("Complaining is free and needs no account: the public form."),
         figures_of.charges, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(PRINCIPLE, "integrity", _l("Information integrity"),
         _l("Validated forms; a hash-chained history the database cannot rewrite unseen."),
         figures_of.integrity, (
             _t("cases",
        "test_a_tampered_or_truncated_history_is_detected"),
             _t("audit_integrity",
        "test_a_rewritten_system_log_row_is_detected"))),
    Item(PRINCIPLE, "confidentiality", _l("Confidentiality"),
         _l("Capabilities per role (server/access.py) and record-level checks."),
         figures_of.confidentiality, (
             _t("access",
        "test_every_route_answers_every_role_as_the_access_table_says"),)),
    Item(PRINCIPLE, "customer_focus", _l("Customer-focused approach"),
         _l("Remedy sought, preferred language and channel recorded and used."),
         figures_of.customer_focus, (
             _t("notifications",
        "test_a_complainant_who_chose_arabic_gets_the_arabic_email"),)),
    Item(PRINCIPLE, "accountability", _l("Accountability"),
         _l("A named owner for every case and task; reassignment is logged."),
         figures_of.accountability, (
             _t("staff_pages",
        "test_a_supervisor_reassigns_a_task_and_it_is_logged"),)),
    Item(PRINCIPLE, "improvement", _l("Improvement"),
         _l("Root causes recorded on closing (reportAs cause), reported by cause."),
         figures_of.improvement, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),)),
    Item(PRINCIPLE, "competence", _l("Competence"),
         _l("Roles and lanes: the diagram routes each task to a role."),
         figures_of.competence, (
             _t("access",
        "test_a_role_only_a_diagram_routes_to_may_work_its_tasks_and_no_others"),)),
    Item(PRINCIPLE, "timeliness", _l("Timeliness"),
         _l("Business-day deadlines, reminders before a breach, escalation at the breach."),
         figures_of.timeliness, (
             _t("escalation",
        "test_the_acknowledgement_chain_runs_in_business_time_across_the_weekend"),)),
    Item(OPERATION, "7.1", _l("Communication"),
         _l("The public page: how to complain and the target times."),
         figures_of.transparency, (
             _t("portal",
        "test_a_complainant_files_a_complaint_and_gets_a_reference_and_a_private_link"),)),
    Item(OPERATION, "7.2", _l("Receipt of complaint"),
         _l("A unique reference; channel, complainant, product, description, remedy, documents."),
         figures_of.receipt, (
             _t("cases",
        "test_a_complaint_is_registered_with_a_reference_and_a_first_task"),)),
    Item(OPERATION, "7.3", _l("Tracking of complaint"),
         _l("Status labels from the diagram (statusLabel) on the tracking page."),
         figures_of.tracking, (
             _t("portal",
        "test_the_complainant_answers_the_decision_on_the_tracking_page"),)),
    Item(OPERATION, "7.4", _l("Acknowledgement of complaint"),
         _l("The acknowledgement e-mail and its deadline kind (acknowledgement)."),
         figures_of.acknowledgement, (
             _t("iso10002",
        "test_acknowledged_on_target_is_the_evidence_for_7_4"),)),
    Item(OPERATION, "7.5", _l("Initial assessment of complaint"),
         _l("Triage decision table sets the priority; out-of-scope path."),
         figures_of.assessment, (
             _t("process_paths",
        "test_triage_sets_the_priority_from_the_assessment"),)),
    Item(OPERATION, "7.6", _l("Investigation of complaints"),
         _l("Investigation tasks, consultations, escalation timers."),
         figures_of.investigation, (
             _t("process_paths",
        "test_reminders_escalations_and_overdue_steps_fire_on_time"),)),
    Item(OPERATION, "7.7", _l("Response to complaint"),
         _l("Decision with remedy; approval above the authority limit (decision table)."),
         figures_of.response, (
             _t("process_paths",
        "test_the_authority_limit_table_picks_the_approver"),)),
    Item(OPERATION, "7.8", _l("Communicating the decision"),
         _l("The decision letter with reasons and the next route (review, then ISO 10003)."),
         figures_of.decision, (
             _t("letters",
        "test_the_complainant_reads_the_decision_with_its_reasons_and_next_route"),)),
    Item(OPERATION, "7.9", _l("Closing the complaint"),
         _l("The closed milestone; the survey; the reopen window."),
         figures_of.closing, (
             _t("process_paths",
        "test_after_the_survey_the_reopen_window_still_ends_the_case"),)),
    Item(IMPROVEMENT, "8.1", _l("Collection of information"),
         _l("Typed reporting facts per case (reportAs), coded lists."),
         figures_of.collection, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),)),
    Item(IMPROVEMENT, "8.2", _l("Analysis and evaluation of complaints"),
         _l("Returns by product and cause; top causes."),
         figures_of.analysis, (
             _t("returns",
        "test_the_complaints_return_matches_the_rows_by_product_and_cause"),)),
    Item(IMPROVEMENT, "8.3", _l("Satisfaction with the complaints-handling process"),
         _l("The survey after closure (a message event in the closing diagram)."),
         figures_of.satisfaction, (
             _t("iso10002",
        "test_survey_response_rate_and_mean_score_are_the_evidence_for_8_3"),)),
    Item(IMPROVEMENT, "8.4", _l("Monitoring of the complaints-handling process"),
         _l("KPIs on target per deadline kind; the SLA compliance return."),
         figures_of.monitoring, (
             _t("returns",
        "test_sla_compliance_matches_the_rows_month_by_month"),)),
    Item(IMPROVEMENT, "8.5", _l("Auditing of the complaints-handling process"),
         _l("Audit trail, case bundles, exports of every list and return."),
         figures_of.audit, (
             _t("returns", "test_the_idr_csv_has_one_row_per_complaint"),)),
    Item(IMPROVEMENT, "8.6", _l("Management review"),
         _l("The management-review pack (PDF and XLSX, English and Arabic)."),
         figures_of.management_review, (
             _t("review_pack",
        "test_the_pack_is_a_pdf_in_english_and_in_arabic"),)),
    Item(IMPROVEMENT, "8.7", _l("Continual improvement"),
         _l("Root causes linked to complaints; the corrective-action register (/actions): each "
            "action runs its own diagram with deadlines, and its effectiveness is checked "
            "against the complaints with its cause received after it was implemented."),
         figures_of.continual_improvement, (
             _t("iso10002",
        "test_the_page_lists_every_principle_and_clause_with_evidence"),
             _t("actions", "test_an_action_is_planned_chased_when_late_checked_for_recurrence"
                "_and_closed"))),
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
