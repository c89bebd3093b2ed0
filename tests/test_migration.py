"""A process owner moves running cases to a new version of the process.

Olga, the process owner, adds a required field to the Assess form and deploys version 2.
Fifty cases run on version 1 at different steps. The dry run on the version's page moves
nothing, lists every case, and refuses, with the reason, the cases that already passed
Assess (they can never supply the new field); the others move, each in its own step
recorded in its history with both versions, and go on on the new diagram. The audit trail
still verifies; a case can be moved back; an administrator does the same from the CLI.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from server.extensions import db
from server.models import Case, CaseEvent, HumanTask, OutboxMessage, Timer, User
from server.services import action_register, audit, cases, processes
from server.services.actors import Actor
from server.services.processes import migration

from .support.cases import complete, file_case
from .support.data import ACK, ASSESS, INVESTIGATE
from .support.process import reference_bpmn, reference_files
from .support.web import AuthActions, make_user, post, submit

OWNER = Actor("olga.owner", None, frozenset({"process_owner"}))
NEW_FIELD = "customer_reference"
STEPS: list[tuple[str, dict[str, Any]]] = [("acknowledge", ACK), ("assess", ASSESS),
                                           ("investigate", INVESTIGATE)]
ROW = re.compile(r'<tr id="case-(CMP-\d{4}-\d{6})"[^>]*>(.*?)</tr>', re.S)


def with_required_field(files: dict[str, bytes]) -> dict[str, bytes]:
    """The bundle with Assess asking for a required customer reference."""
    schema = json.loads(files["assess-schema.json"])
    schema["required"].append(NEW_FIELD)
    schema["properties"][NEW_FIELD] = {"type": "string", "title": "Customer reference",
                                       "minLength": 1}
    ui = json.loads(files["assess-uischema.json"])
    ui["ui:order"].append(NEW_FIELD)
    return {**files, "assess-schema.json": json.dumps(schema).encode(),
            "assess-uischema.json": json.dumps(ui).encode()}


def cases_at(done: int, count: int) -> list[str]:
    """`count` new cases, each with the first `done` steps completed."""
    references = []
    for _ in range(count):
        reference = file_case()[0]
        for bpmn_id, values in STEPS[:done]:
            complete(reference, bpmn_id, values)
        references.append(reference)
    return references


def rows(page: str) -> dict[str, str]:
    """The report's rows: case reference -> the row's text."""
    return {ref: flat(row) for ref, row in ROW.findall(page)}


def flat(page: str) -> str:
    """A page's text as read: no tags, entities resolved, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def hidden(page: str, name: str) -> str:
    """The value of a hidden field of the move form."""
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} on the page"
    return found.group(1)


def versions_of(references: list[str]) -> set[int]:
    """The process versions these cases are on now."""
    db.session.rollback()
    return set(db.session.scalars(select(Case.process_version_id)
                                  .where(Case.reference.in_(references))))


def task_path(reference: str, bpmn_id: str) -> str:
    """The task page of a ready task of a case."""
    db.session.rollback()
    task_id = db.session.scalar(select(HumanTask.task_id).join(Case).where(
        Case.reference == reference, HumanTask.bpmn_id == bpmn_id))
    assert task_id, f"{bpmn_id} is not ready in {reference}"
    return f"/cases/{reference}/tasks/{task_id}"


def audit_ok(runner: FlaskCliRunner) -> None:
    """`flask verify-audit` passes."""
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output
    assert "Every case history and the system log are intact." in result.output


def test_fifty_cases_move_except_those_that_cannot_and_the_audit_still_verifies(
        app: Flask, app_ctx: None, client: FlaskClient, auth: AuthActions,
        runner: FlaskCliRunner) -> None:
    v1 = processes.active_version_id()
    acknowledging, assessing = cases_at(0, 15), cases_at(1, 15)
    investigating, responding = cases_at(2, 10), cases_at(3, 10)
    v2 = processes.deploy(with_required_field(reference_files()), OWNER,
                          "Assess asks for the customer reference").id
    auth.login("olga", "process_owner")

    listed = client.get("/studio/").get_data(as_text=True)
    assert f"/studio/versions/{v1}/cases" in listed
    page = client.get(f"/studio/versions/{v1}/cases").get_data(as_text=True)
    assert f'<option value="{v2}"' in page

    events = db.session.scalar(select(func.sum(Case.event_count)))
    db.session.rollback()
    dry = post(client, f"/studio/versions/{v1}/cases/dry-run", {"target": str(v2)})
    assert dry.status_code == 200
    report = dry.get_data(as_text=True)
    found = rows(report)
    assert len(found) == 50
    assert "30 cases can move; 20 cases cannot move." in flat(report)
    for reference in investigating + responding:
        assert "Cannot move" in found[reference]
        assert "required data missing: the form of 'Assess complaint', which the case has " \
            "passed, now requires Customer reference" in found[reference]
    for reference in assessing:
        assert "Can move" in found[reference]
        assert "now asks for: Customer reference" in found[reference]
    for reference in acknowledging:
        assert "Can move" in found[reference]
    # The dry run wrote nothing.
    assert versions_of(list(found)) == {v1}
    assert db.session.scalar(select(func.sum(Case.event_count))) == events

    chosen = hidden(report, "references").split()
    assert sorted(chosen) == sorted(acknowledging + assessing)
    moved = post(client, f"/studio/versions/{v1}/cases/move",
                 {"target": hidden(report, "target"), "references": " ".join(chosen)})
    assert moved.status_code == 200
    assert "30 cases moved; 0 cases cannot move." in flat(moved.get_data(as_text=True))
    assert versions_of(acknowledging + assessing) == {v2}
    assert versions_of(investigating + responding) == {v1}

    # Each move is one history entry naming both versions, by the process owner.
    db.session.rollback()
    entry = db.session.scalars(select(CaseEvent).join(Case).where(
        Case.reference == assessing[0]).order_by(CaseEvent.seq.desc())).first()
    assert entry is not None and entry.kind == "case.migrated" and entry.actor == "olga"
    assert entry.summary == "Moved from version 1 to version 2"
    assert json.loads(entry.data)["from_version"] == 1
    assert json.loads(entry.data)["to_version"] == 2
    audit_ok(runner)

    # The moved cases go on on the new diagram: Assess now asks for the new field.
    auth.login("hana", "handler")
    path = task_path(assessing[0], "assess")
    form = client.get(path).get_data(as_text=True)
    assert f'name="{NEW_FIELD}"' in form
    values = {"in_scope": "true", "category": "billing", "product": "other",
              "severity": "serious", "complexity": "simple", "vulnerable_customer": "false",
              "regulator_involved": "false", "immediate_action_needed": "false"}
    refused = submit(client, path, values)
    assert refused.status_code == 422
    done = submit(client, path, {**values, NEW_FIELD: "ACC-1234"})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    task_path(assessing[0], "investigate")
    # A refused case was left as it was and goes on on version 1.
    complete(investigating[0], "investigate", INVESTIGATE)
    audit_ok(runner)


def test_a_case_is_moved_back_from_the_command_line_and_refusals_fail_the_command(
        app_ctx: None, runner: FlaskCliRunner) -> None:
    [waiting], [investigating] = cases_at(1, 1), cases_at(2, 1)
    processes.deploy(with_required_field(reference_files()), OWNER, "new field")

    dry = runner.invoke(args=["migrate-cases", "--from", "1", "--to", "2", "--all",
                              "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert f"{waiting}: can move (at Assess complaint); Assess complaint now asks for " \
        "Customer reference" in dry.output
    assert f"{investigating}: cannot move: required data missing" in dry.output
    assert "1 of 2 case(s) can move from version 1 to 2; 1 cannot." in dry.output

    there = runner.invoke(args=["migrate-cases", "--from", "1", "--to", "2",
                                "--case", waiting])
    assert there.exit_code == 0, there.output
    assert f"{waiting}: moved (at Assess complaint)" in there.output
    back = runner.invoke(args=["migrate-cases", "--from", "2", "--to", "1",
                               "--case", waiting])
    assert back.exit_code == 0, back.output
    assert versions_of([waiting]) == {1}
    db.session.rollback()
    kinds = list(db.session.scalars(select(CaseEvent.summary).join(Case).where(
        Case.reference == waiting, CaseEvent.kind == "case.migrated").order_by(CaseEvent.seq)))
    assert kinds == ["Moved from version 1 to version 2", "Moved from version 2 to version 1"]
    complete(waiting, "assess", ASSESS)  # back on version 1: Assess as it was
    audit_ok(runner)

    unknown = runner.invoke(args=["migrate-cases", "--from", "1", "--to", "2",
                                  "--case", "CMP-1999-000001"])
    assert unknown.exit_code == 1
    assert "Not cases of this version: CMP-1999-000001" in unknown.output
    nothing = runner.invoke(args=["migrate-cases", "--from", "1", "--to", "2"])
    assert nothing.exit_code == 2 and "choose the cases" in nothing.output


def test_timers_and_deadlines_are_rebuilt_and_the_assignee_kept(
        app_ctx: None, runner: FlaskCliRunner) -> None:
    [reference] = cases_at(0, 1)
    make_user("hana", "handler")
    hana = db.session.scalar(select(User.id).where(User.username == "hana"))
    case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
    db.session.execute(HumanTask.__table__.update().where(HumanTask.case_id == case_id)
                       .values(assignee_id=hana))
    before = {b: d for b, d in db.session.execute(select(Timer.bpmn_id, Timer.due_at)
                                                  .where(Timer.case_id == case_id))}
    db.session.commit()
    later = reference_bpmn().replace(
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">deadline("acknowledge")',
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">next_level("acknowledge")')
    v2 = processes.deploy({**reference_files(), "complaint.bpmn": later.encode()}, OWNER,
                          "later escalation").id
    planned = migration.dry_run(1, v2, [reference])
    [case] = planned.cases
    [change] = case.timers
    assert change.title == "Acknowledgement overdue" and change.before is not None
    assert change.after is not None and change.after > change.before
    migration.move(1, v2, [reference], OWNER)
    db.session.rollback()
    after = {b: d for b, d in db.session.execute(select(Timer.bpmn_id, Timer.due_at)
                                                 .where(Timer.case_id == case_id))}
    assert after["acknowledgement_overdue"] == change.after
    assert after["acknowledgement_reminder"] == before["acknowledgement_reminder"]
    task = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case_id)).one()
    assert task.assignee_id == hana and task.due_at == change.after  # the task's deadline
    audit_ok(runner)


@pytest.mark.parametrize("values, problem", [
    ({}, "Choose the version to move the cases to."),
    ({"target": "2", "references": "CMP-1999-000001"}, "Not cases of this version"),
    ({"target": "1"}, "Choose another version to move the cases to."),
])
def test_a_dry_run_without_a_target_or_with_a_wrong_case_says_what_to_fix(
        app_ctx: None, client: FlaskClient, auth: AuthActions, values: dict[str, str],
        problem: str) -> None:
    processes.deploy(with_required_field(reference_files()), OWNER, "new field")
    auth.login("olga", "process_owner")
    answer = post(client, "/studio/versions/1/cases/dry-run", values)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert problem in page
    if "references" in values:
        assert values["references"] in page  # the input is kept


def test_a_process_owner_reading_arabic_reads_why_a_case_cannot_move_in_arabic(
        app_ctx: None, client: FlaskClient, auth: AuthActions) -> None:
    investigating = cases_at(2, 1)[0]
    v2 = processes.deploy(with_required_field(reference_files()), OWNER, "new field").id
    auth.login("olga", "process_owner")
    post(client, "/language", {"language": "ar", "next": "/studio/"})
    dry = post(client, "/studio/versions/1/cases/dry-run", {"target": str(v2)})
    reasons = flat(" ".join(re.findall(r'<li class="refusal">(.*?)</li>', dry.get_data(
        as_text=True), re.S)))
    assert investigating in rows(dry.get_data(as_text=True))
    # The step is named as the version's Arabic translation names it, not as drawn.
    assert "تقييم الشكوى" in reasons
    assert "Assess complaint" not in reasons


def test_only_process_owners_and_administrators_move_cases(
        client: FlaskClient, auth: AuthActions) -> None:
    auth.login("hana", "handler")
    assert client.get("/studio/versions/1/cases").status_code == 403
    assert post(client, "/studio/versions/1/cases/move", {"target": "1"}).status_code == 403


def test_a_case_saved_by_someone_else_during_the_move_is_left_as_it_is_and_said(
        app_ctx: None, monkeypatch: pytest.MonkeyPatch, runner: FlaskCliRunner) -> None:
    first, second = cases_at(1, 2)
    v2 = processes.deploy(with_required_field(reference_files()), OWNER, "new field").id
    real = migration.record_migration

    def raced(case: Any, *args: Any) -> Any:
        """The first case as read before a step someone else saved meanwhile."""
        if case.reference == first:
            case = replace(case, version=case.version - 1)
        return real(case, *args)

    monkeypatch.setattr(migration, "record_migration", raced)
    report = migration.move(1, v2, [first, second], OWNER)
    assert [c.moved for c in report.cases] == [False, True]
    assert report.cases[0].refusals == [
        "the case changed while it was being moved; nothing of it changed: run the move again"]
    assert versions_of([first]) == {1} and versions_of([second]) == {v2}
    audit_ok(runner)


def test_a_deadline_the_new_version_puts_in_the_past_escalates_at_once_with_its_email(
        app_ctx: None, runner: FlaskCliRunner) -> None:
    [reference] = cases_at(0, 1)
    make_user("sara", "supervisor", email="sara@example.com")
    past = reference_bpmn().replace(
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">deadline("acknowledge")',
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2020-01-01T00:00:00+00:00"')
    v2 = processes.deploy({**reference_files(), "complaint.bpmn": past.encode()}, OWNER,
                          "acknowledge at once").id
    mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    [moved] = migration.move(1, v2, [reference], OWNER).cases
    assert moved.moved and moved.at_after == ["Acknowledge overdue complaint"]
    db.session.rollback()
    case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
    assert list(db.session.scalars(select(HumanTask.bpmn_id).where(
        HumanTask.case_id == case_id))) == ["acknowledge_escalated"]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) > mails
    audit_ok(runner)


def test_a_move_whose_run_asks_for_a_corrective_action_opens_it_as_a_step_would(
        app_ctx: None, monkeypatch: pytest.MonkeyPatch, runner: FlaskCliRunner) -> None:
    [reference] = cases_at(1, 1)
    v2 = processes.deploy(with_required_field(reference_files()), OWNER, "new field").id
    real = migration.plan_move

    def asking(*args: Any, **kwargs: Any) -> Any:
        """The move's engine run reaches a throw event asking for a corrective action."""
        plan = real(*args, **kwargs)
        plan.snapshot.thrown.append(("corrective_action_needed",
                                     {"cause": "process", "description": "Fix the letters"}))
        return plan

    monkeypatch.setattr(migration, "plan_move", asking)
    [moved] = migration.move(1, v2, [reference], OWNER).cases
    assert moved.moved
    db.session.rollback()
    [action] = action_register.linked_actions(cases.get_case(reference).id)
    assert action.kind == "action" and action.description == "Fix the letters"
    said = [e.summary for e in audit.history(cases.get_case(reference))]
    assert said[-1] == f"Moved from version 1 to version 2; corrective action " \
        f"{action.reference} opened"
    audit_ok(runner)
