"""Reporting facts: each case's row holds what the diagram reported and its times, the golden
set's rows equal values computed independently, a renamed form field re-declared with
reportAs keeps the reports, and back-fill rebuilds rows of cases made before."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select

from server.errors import DeployRefused
from server.extensions import db
from server.models import Case, User
from server.models.report import CaseReport
from server.services.actors import Actor
from server.services.processes import deploy, read_folders

from .support.cases import complete, file_case
from .support.data import ACK, ASSESS, CLOSE, INVESTIGATE, RESPOND
from .support.golden import GoldenSet, answer, working_hours

REPO = Path(__file__).resolve().parent.parent


def _row(reference: str) -> CaseReport:
    db.session.rollback()
    case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
    row = db.session.get(CaseReport, case_id)
    assert row is not None, f"{reference} has no report row"
    return row


def _closed_case(**assess: object) -> str:
    reference, _ = file_case()
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", {**ASSESS, **assess})
    complete(reference, "investigate", INVESTIGATE)
    complete(reference, "respond", {**RESPOND, "compensation_amount": 150})
    answer(reference, "complainant_response", {"accepted": True})
    return reference


def test_a_closed_case_reports_what_its_steps_recorded(app_ctx: None) -> None:
    reference, _ = file_case()
    row = _row(reference)
    # The intake's product text is the complainant's words: no product code before Assess.
    assert row.is_open and row.channel == "web" and row.product is None
    assert row.outcome is None and row.acknowledged_at is None
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", {**ASSESS, "vulnerable_customer": True,
                                   "regulator_involved": True})
    row = _row(reference)
    assert (row.category, row.product, row.vulnerable, row.regulator) == \
        ("billing", "other", True, True)
    assert row.acknowledged_at is not None and row.responded_at is not None
    assert row.owner_id == db.session.get(Case, row.case_id).owner_id and row.priority
    complete(reference, "investigate", INVESTIGATE)
    complete(reference, "respond", {**RESPOND, "outcome": "partly_upheld",
                                    "compensation_amount": 150})
    row = _row(reference)
    assert row.outcome == "partly_upheld" and row.resolved_at is not None
    assert row.remedy_amount == Decimal("150.00") and row.remedy_currency == "SAR"
    answer(reference, "complainant_response", {"accepted": True})
    complete(reference, "close", {**CLOSE, "final_outcome": "upheld",
                                  "root_cause": "system"})
    row = _row(reference)
    assert (row.outcome, row.cause, row.is_open) == ("upheld", "system", False)
    assert row.closed_at is not None and row.close_hours is not None
    assert row.reopen_count == 0 and row.escalation_level == 0


def test_a_case_out_of_scope_reports_that_outcome(app_ctx: None) -> None:
    reference, _ = file_case()
    complete(reference, "acknowledge", ACK)
    complete(reference, "assess", {**ASSESS, "in_scope": False,
                                   "out_of_scope_reason": "Not ours."})
    row = _row(reference)
    assert (row.outcome, row.is_open) == ("out_of_scope", False)


def test_the_golden_set_reports_the_values_known_from_its_cases(golden_app: Flask,
                                                                  golden_set: GoldenSet) -> None:
    expected = golden_set.by_reference()
    rows = db.session.execute(select(Case.reference, CaseReport).join(
        CaseReport, CaseReport.case_id == Case.id)).all()
    assert len(rows) == len(expected) >= 200
    owners = dict(db.session.execute(select(User.id, User.username)).all())
    scenarios = set()
    for reference, row in rows:
        e = expected[reference]
        scenarios.add(e.scenario)
        assert (row.outcome, row.cause, row.satisfaction, row.category, row.channel) == \
            (e.outcome, e.cause, e.satisfaction, e.category, e.channel), reference
        assert (row.vulnerable, row.regulator, row.is_open) == \
            (e.vulnerable, e.regulator, e.is_open), reference
        assert (row.escalation_level, row.reopen_count) == \
            (e.escalation_level, e.reopen_count), reference
        assert row.remedy_amount == e.remedy_amount, reference
        assert owners.get(row.owner_id) == e.owner, reference
        assert row.paused_hours == e.paused_hours, reference
        for column in ("acknowledged_at", "responded_at", "resolved_at", "closed_at"):
            assert getattr(row, column) == getattr(e, column), (reference, column)
        assert row.acknowledge_hours == e.hours(e.acknowledged_at), reference
        assert row.response_hours == e.hours(e.responded_at), reference
        assert row.resolution_hours == e.hours(e.resolved_at, e.paused_hours), reference
        assert row.close_hours == e.hours(e.closed_at, e.paused_hours), reference
        fcr = None if e.resolved_at is None else (
            working_hours(e.received_at, e.resolved_at) <= 24 and e.paused_hours == 0
            and e.escalation_level == 0)
        assert row.first_contact_resolution == fcr, reference
        if e.resolution_due is not None:
            assert row.resolution_on_target == (e.resolved_at <= e.resolution_due), reference
        assert row.acknowledgement_on_target == (e.scenario != "escalated"), reference
    assert scenarios == {"accepted", "information", "out_of_scope", "withdrawn", "open",
                         "escalated"}


def test_the_golden_set_has_targets_met_and_missed(golden_app: Flask) -> None:
    counts = dict(db.session.execute(select(CaseReport.resolution_on_target, func.count())
                                     .group_by(CaseReport.resolution_on_target)).all())
    assert counts.get(True) and counts.get(False) and counts.get(None)


def _renamed_version() -> None:
    """The reference process with the Close form's outcome field renamed to `verdict`,
    holding the diagram's own values, re-declared with reportAs and reportValues."""
    files = read_folders(REPO / "workflows", REPO / "forms")
    form = files["close-schema.json"].decode()
    form = form.replace('"final_outcome"', '"verdict"').replace('"partly_upheld"', '"partly"')
    files["close-schema.json"] = form.encode()
    files["close-uischema.json"] = files["close-uischema.json"].replace(
        b'"final_outcome"', b'"verdict"')
    old = b'value="outcome=final_outcome, cause=root_cause" />'
    assert old in files["closing.bpmn"]
    files["closing.bpmn"] = files["closing.bpmn"].replace(
        old, b'value="outcome=verdict, cause=root_cause" />\n          '
             b'<spiffworkflow:property name="reportValues" value="outcome:partly=partly_upheld" />'
    ).replace(b"final_outcome=outcome", b"verdict=outcome")
    deploy(files, Actor.system("test"))


def test_a_renamed_form_field_redeclared_with_report_as_keeps_the_reports(app_ctx: None) -> None:
    try:
        _renamed_version()
    except DeployRefused as exc:
        raise AssertionError([str(i) for i in exc.issues]) from None
    reference = _closed_case()
    complete(reference, "close", {"closure_reason": "accepted", "verdict": "partly",
                                  "root_cause": "policy", "corrective_action_needed": False})
    row = _row(reference)
    assert (row.outcome, row.cause) == ("partly_upheld", "policy")


def test_an_unknown_report_field_is_refused_at_deploy(app_ctx: None) -> None:
    files = read_folders(REPO / "workflows", REPO / "forms")
    files["closing.bpmn"] = files["closing.bpmn"].replace(
        b"outcome=final_outcome, cause=root_cause", b"verdict=final_outcome")
    with pytest.raises(DeployRefused) as refused:
        deploy(files, Actor.system("test"))
    assert [(i.file, i.element_id) for i in refused.value.issues] == [("closing.bpmn", "close")]
    assert "'verdict' is not a report field" in str(refused.value.issues[0])


def test_back_fill_rebuilds_the_rows_of_cases_made_before(app: Flask, app_ctx: None) -> None:
    reference = _closed_case()
    complete(reference, "close", CLOSE)
    before = _row(reference)
    wanted = (before.outcome, before.cause, before.resolution_hours, before.acknowledged_at)
    db.session.execute(delete(CaseReport))
    db.session.commit()
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="0017")
    upgrade(directory=directory)
    after = _row(reference)
    assert (after.outcome, after.cause, after.resolution_hours, after.acknowledged_at) == wanted
    db.session.execute(delete(CaseReport))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild"])
    assert "Rebuilt the reporting facts of 1 cases" in result.output
    assert _row(reference).outcome == wanted[0]
