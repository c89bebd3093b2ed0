"""Deploy-time checks: a bad bundle is refused whole, each problem with file, id and line."""

from __future__ import annotations

import json

import pytest

from server.engine import BundleError, load_bundle
from server.engine.errors import EngineError

from .support.data import ACK, ASSESS
from .support.process import (
    BOMB,
    XXE,
    Driver,
    bundle,
    reference_bpmn,
    reference_files,
    resolve,
    runtime,
    with_bpmn,
)


def issues_of(files: dict[str, bytes], *, stopped: bool = False) -> list:
    """The problems of a refused bundle, less the closing note that says the checks stopped
    before the tasks, forms and roles (there exactly when `stopped`)."""
    with pytest.raises(BundleError) as caught:
        bundle(files)
    issues = caught.value.issues
    notes = [i for i in issues if "were not checked yet" in i.message]
    assert len(notes) == int(stopped), issues
    assert issues[len(issues) - len(notes):] == notes  # said last
    return [i for i in issues if i not in notes]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_reference_process_passes_every_check() -> None:
    b = bundle()
    assert b.process_id == "complaint_handling"
    assert b.role_map == {"Handler": "handler", "Supervisor": "supervisor",
                          "Complaints manager": "complaints_manager", "Specialist": "specialist",
                          "Privacy officer": "privacy_officer"}
    assert "intake-schema.json" in b.forms


def test_malformed_xml_is_refused_with_its_line() -> None:
    text = reference_bpmn().replace('<bpmn:userTask id="assess"', '<bpmn:userTask id="assess" <')
    [issue] = issues_of(with_bpmn(text), stopped=True)
    assert issue.file == "complaint.bpmn"
    assert "not well-formed" in issue.message
    assert issue.line == line_of(text, '<bpmn:userTask id="assess"')


@pytest.mark.parametrize("text", [XXE, BOMB], ids=["xxe", "entity-bomb"])
def test_doctype_and_entities_are_refused(text: str) -> None:
    [issue] = issues_of(with_bpmn(text), stopped=True)
    assert "DOCTYPE and ENTITY declarations are not allowed" in issue.message
    assert issue.line == 2


def test_an_oversize_diagram_is_refused() -> None:
    files = reference_files()
    files["complaint.bpmn"] += b"<!--" + b"x" * (3 * 1024 * 1024) + b"-->"
    [issue] = issues_of(files, stopped=True)
    assert "limit is" in issue.message


def test_a_condition_that_imports_os_is_refused_naming_the_flow() -> None:
    text = reference_bpmn().replace("not in_scope", "__import__('os').system('id')")
    [issue] = issues_of(with_bpmn(text))
    assert issue.element_id == "Flow_out_of_scope"
    assert issue.line == line_of(text, "__import__")
    assert "__import__" in issue.message


def test_a_script_with_a_syntax_error_is_refused() -> None:
    text = reference_bpmn().replace("compensation_amount = 0", "compensation_amount = (0")
    [issue] = issues_of(with_bpmn(text))
    assert issue.element_id == "register"
    assert "SyntaxError" in issue.message and "never closed" in issue.message


ACK_TIMER = ('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
             'deadline("acknowledge")</bpmn:timeDate>')
ANSWER_TIMER = ('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
                'working_days(10)</bpmn:timeDate>')


def test_an_invalid_timer_duration_is_refused() -> None:
    text = reference_bpmn().replace(ACK_TIMER, '<bpmn:timeDuration>"two days"</bpmn:timeDuration>')
    [issue] = issues_of(with_bpmn(text))
    assert issue.element_id == "acknowledgement_overdue"
    assert "not ISO 8601" in issue.message


def test_a_timer_date_without_a_zone_is_refused() -> None:
    text = reference_bpmn().replace(
        ACK_TIMER, '<bpmn:timeDate>"2026-05-01T09:00:00"</bpmn:timeDate>')
    [issue] = issues_of(with_bpmn(text))
    assert "UTC offset" in issue.message


def test_a_missing_form_is_refused() -> None:
    files = reference_files()
    del files["assess-schema.json"]
    [issue] = issues_of(files)
    assert issue.element_id == "assess"
    assert "assess-schema.json" in issue.message
    assert issue.line is not None


def test_a_form_that_is_not_json_schema_is_refused() -> None:
    files = reference_files()
    files["review-schema.json"] = json.dumps(
        {"type": "object", "properties": {"x": {"type": "strng"}}}).encode()
    [issue] = issues_of(files)
    assert issue.file == "review-schema.json" and issue.element_id == "review"
    assert "not a valid JSON Schema" in issue.message


def test_a_form_the_server_cannot_render_is_refused_at_deploy() -> None:
    files = reference_files()
    schema = json.loads(files["review-schema.json"])
    schema["properties"]["address"] = {"type": "object", "properties": {}}
    files["review-schema.json"] = json.dumps(schema).encode()
    files["acknowledge-uischema.json"] = json.dumps(
        {"acknowledgement_channel": {"ui:widget": "colour-wheel"}}).encode()
    issues = issues_of(files)
    where = {(i.file, i.element_id) for i in issues}
    assert ("review-schema.json", "review") in where
    assert ("acknowledge-schema.json", "acknowledge") in where or \
        ("acknowledge-uischema.json", "acknowledge") in where
    assert all("not supported in forms" in i.message for i in issues)
    assert any("address" in i.message for i in issues)
    assert any("colour-wheel" in i.message for i in issues)


def test_a_form_that_is_not_json_is_refused_with_its_line() -> None:
    files = reference_files()
    files["review-schema.json"] = b'{\n  "type": "object",\n  "properties": {,}\n}'
    [issue] = issues_of(files)
    assert issue.line == 3


def test_a_lane_that_is_no_role_deploys_to_the_default_role_with_a_warning() -> None:
    # SpiffArena's lanes name groups that need not exist here (issue 16).
    text = reference_bpmn().replace('name="Supervisor"', 'name="Regional Director"')
    b = bundle(with_bpmn(text))
    [warning] = [w for w in b.warnings if w.element_id == "Lane_supervisor"]
    assert "'Regional Director'" in warning.message and "roles page" in warning.message
    assert b.role_map["Regional Director"] == b.role_map["*"] == b.default_role


def test_a_flow_to_a_missing_element_is_refused_by_id() -> None:
    text = reference_bpmn().replace('targetRef="mark_reviewed"', 'targetRef="nowhere"')
    [issue] = issues_of(with_bpmn(text), stopped=True)
    assert issue.element_id == "Flow_review_mark"
    assert 'targetRef="nowhere"' in issue.message
    assert issue.line == line_of(text, 'targetRef="nowhere"')


def test_several_problems_are_all_reported_at_once() -> None:
    text = reference_bpmn().replace("not in_scope", "1 +").replace(
        ANSWER_TIMER, '<bpmn:timeDuration>"ten days"</bpmn:timeDuration>', 1)
    issues = issues_of(with_bpmn(text))
    assert {i.element_id for i in issues} == {"Flow_out_of_scope", "information_timeout"}


def test_a_bad_condition_a_bad_timer_and_a_broken_form_are_reported_together() -> None:
    # The forms used to be checked only once every expression compiled.
    text = reference_bpmn().replace("not in_scope", "1 +").replace(
        ANSWER_TIMER, '<bpmn:timeDuration>"ten days"</bpmn:timeDuration>', 1)
    files = with_bpmn(text)
    files["review-schema.json"] = b'{\n  "type": "object",\n  "properties": {,}\n}'
    files["triage.dmn"] = DMN.replace("LAST", "").replace('id="priority_decision"',
                                                          'id="triage"').encode()
    issues = issues_of(files)
    found = {(i.file, i.element_id) for i in issues}
    assert {("complaint.bpmn", "Flow_out_of_scope"), ("complaint.bpmn", "information_timeout"),
            ("review-schema.json", None)} <= found
    assert all(i.line for i in issues if i.file == "complaint.bpmn")
    assert not any("review-schema.json' is not in the bundle" in i.message for i in issues)
    lines = [i.line for i in issues if i.file == "complaint.bpmn"]
    assert lines == sorted(lines)  # in the order of the file


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="n">
  <decision id="priority_decision" name="Priority">
    <decisionTable id="priority_table">
      <!-- a comment that would crash SpiffWorkflow's parser -->
      <input id="in_amount" label="Amount">
        <inputExpression id="ie" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out_priority" name="priority" typeRef="string" />
      <rule id="rule_big">
        <inputEntry id="e1"><text>&gt; 1000</text></inputEntry>
        <outputEntry id="o1"><text>"high"</text></outputEntry>
      </rule>
      LAST
    </decisionTable>
  </decision>
</definitions>"""
CATCH_ALL = """<rule id="rule_rest">
        <inputEntry id="e2"><text>-</text></inputEntry>
        <outputEntry id="o2"><text>"low"</text></outputEntry>
      </rule>"""


def test_a_decision_table_with_a_catch_all_row_deploys() -> None:
    # The table as the process's triage: critical complaints are "high", the rest "low".
    files = reference_files()
    files["triage.dmn"] = (
        DMN.replace("LAST", CATCH_ALL).replace('id="priority_decision"', 'id="triage"')
        .replace('typeRef="number"><text>amount', 'typeRef="string"><text>severity')
        .replace("&gt; 1000", '"critical"')).encode()
    rt = runtime(files)
    for severity, priority in (("critical", "high"), ("serious", "low")):
        d = Driver(False, rt)
        d.complete("acknowledge", ACK)
        d.complete("assess", {**ASSESS, "severity": severity})
        assert d.snapshot.data["priority"] == priority, severity  # the catch-all decides


def test_a_decision_table_without_a_catch_all_row_deploys_with_a_warning() -> None:
    # SpiffArena deploys such tables (issue 16): a warning at the last row, not a refusal.
    files = reference_files()
    files["triage.dmn"] = DMN.replace("LAST", "").replace('id="priority_decision"',
                                                          'id="triage"').encode()
    b = bundle(files)
    [warning] = [w for w in b.warnings if w.file == "triage.dmn"]
    assert warning.element_id == "rule_big" and "catch-all" in warning.message


def test_a_case_no_rule_matches_stops_at_the_decision_naming_it() -> None:
    files = reference_files()
    files["triage.dmn"] = (
        DMN.replace("LAST", "").replace('id="priority_decision"', 'id="triage"')
        .replace('typeRef="number"><text>amount', 'typeRef="string"><text>severity')
        .replace("&gt; 1000", '"critical"')).encode()
    rt = runtime(files)
    d = Driver(False, rt)
    d.complete("acknowledge", ACK)
    with pytest.raises(EngineError) as caught:
        d.complete("assess", {**ASSESS, "severity": "serious"})
    assert "no rule of the decision 'triage' matches this case" in str(caught.value)
    assert caught.value.element_id == "set_priority"


def test_a_decision_cell_that_escapes_is_refused() -> None:
    files = reference_files()
    files["triage.dmn"] = DMN.replace("LAST", CATCH_ALL).replace(
        '"high"', "().__class__").replace('id="priority_decision"', 'id="triage"').encode()
    [issue] = issues_of(files)
    assert issue.element_id == "o1"


def test_spiffarena_style_bundle_with_two_top_level_processes_is_explained() -> None:
    text = reference_bpmn().replace(
        "<bpmndi:BPMNDiagram",
        '<bpmn:process id="other" isExecutable="true"><bpmn:startEvent id="s2"/></bpmn:process>'
        "<bpmndi:BPMNDiagram")
    [issue] = issues_of(with_bpmn(text), stopped=True)
    assert "several top-level processes" in issue.message


def test_a_deadline_kind_the_policy_does_not_know_is_refused_at_deploy() -> None:
    text = reference_bpmn().replace('deadline("acknowledge")', 'deadline("acknowlege")')
    with pytest.raises(BundleError) as caught:
        load_bundle(with_bpmn(text), resolve,
                    clock_kinds=("acknowledge", "response", "resolution", "data_request"))
    [issue] = caught.value.issues
    assert issue.element_id == "acknowledgement_overdue"
    assert "'acknowlege' is not a deadline kind" in issue.message
    assert "acknowledge, response, resolution" in issue.message


@pytest.mark.parametrize("text,message", [
    (b'{"$schema": [], "type": "object", "properties": {}}', '"$schema" must be the text'),
    (b'{"type": "object", "properties": {"a": ' + b'{"items": ' * 3000 + b'1' + b'}' * 3000
     + b'}}', "nests too deeply"),
])
def test_a_malformed_form_is_a_problem_not_a_crash(text: bytes, message: str) -> None:
    files = reference_files()
    files["assess-schema.json"] = text
    [issue] = issues_of(files)
    assert issue.file == "assess-schema.json" and message in issue.message
