"""Conditional forms: a question that applies only after a given answer is asked, and required,
only then; every error sits under its own field and in a summary at the top of the form."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from server.errors import InvalidInput
from server.formkit import parse_submission, render_fields, unsupported
from server.services import cases
from server.services.forms import validate

from .support.cases import drive, file_case
from .support.data import ASK, CLOSE, INVESTIGATE
from .support.web import submit
from .test_process_paths import CONSULT

FORMS = Path(__file__).resolve().parent.parent / "forms"

ASKING = {"type": "object", "required": ["asked"], "properties": {
    "asked": {"type": "boolean", "title": "Ask the complainant?"}},
    "if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
    "then": {"required": ["question"], "properties": {
        "question": {"type": "string", "title": "Question", "minLength": 1}}},
    "else": {"required": ["why_not"], "properties": {
        "why_not": {"type": "string", "title": "Why not"}}}}
CHANNEL = {"type": "object", "properties": {
    "channel": {"type": "string", "title": "Channel", "oneOf": [
        {"const": "email", "title": "By e-mail"}, {"const": "phone", "title": "By phone"}]},
    "email": {"type": "string", "title": "E-mail"},
    "phone": {"type": "string", "title": "Phone"}},
    "allOf": [
        {"if": {"properties": {"channel": {"const": "email"}}, "required": ["channel"]},
         "then": {"required": ["email"]}},
        {"if": {"properties": {"channel": {"enum": ["phone"]}}, "required": ["channel"]},
         "then": {"required": ["phone"]}}]}
DEPENDENT = {"type": "object", "properties": {
    "amount": {"type": "number", "title": "Amount"},
    "currency": {"type": "string", "title": "Currency"}},
    "dependentRequired": {"amount": ["currency"]},
    "dependentSchemas": {"amount": {"required": ["reason"], "properties": {
        "reason": {"type": "string", "title": "Reason for the payment"}}}}}


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return (json.loads((FORMS / f"{name}-schema.json").read_text()),
            json.loads((FORMS / f"{name}-uischema.json").read_text()))


def _refused(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        validate(schema, data)
    return refused.value.field_errors


# --- The server decides --------------------------------------------------------------------


def test_if_then_else_asks_for_the_field_of_the_branch_that_applies(app_ctx) -> None:
    assert _refused(ASKING, {"asked": True}) == {"question": ["This field is required."]}
    assert _refused(ASKING, {"asked": False}) == {"why_not": ["This field is required."]}
    assert validate(ASKING, {"asked": True, "question": "When?"}) == \
        {"asked": True, "question": "When?"}


def test_a_branch_field_is_stored_only_while_its_condition_holds(app_ctx) -> None:
    # Without JavaScript both branches show; what was typed in the other one is not kept.
    kept = validate(ASKING, {"asked": False, "why_not": "Clear enough", "question": "When?",
                             "undeclared": "x"})
    assert kept == {"asked": False, "why_not": "Clear enough"}


def test_allof_of_conditions_on_labelled_choices(app_ctx) -> None:
    assert _refused(CHANNEL, {"channel": "email"}) == {"email": ["This field is required."]}
    assert _refused(CHANNEL, {"channel": "phone"}) == {"phone": ["This field is required."]}
    assert validate(CHANNEL, {"channel": "phone", "phone": "+966 11 000"})
    assert validate(CHANNEL, {}) == {}
    assert _refused(CHANNEL, {"channel": "fax"}) == {"channel": ["Choose one of the options."]}


def test_dependent_required_and_dependent_schemas_apply_once_the_field_is_given(app_ctx) -> None:
    assert validate(DEPENDENT, {"currency": "SAR"}) == {"currency": "SAR"}
    assert _refused(DEPENDENT, {"amount": 10}) == {
        "currency": ["This field is required."], "reason": ["This field is required."]}
    assert validate(DEPENDENT, {"amount": 10, "currency": "SAR", "reason": "Fee"})
    assert validate(DEPENDENT, {"currency": "SAR", "reason": "Fee"}) == {"currency": "SAR"}


def test_the_path_tests_data_fits_the_reference_forms(app_ctx) -> None:
    investigate, _ui = _load("investigate")
    for data in (INVESTIGATE, ASK, CONSULT):
        assert validate(investigate, data) == data
    assert validate(_load("close")[0], CLOSE) == CLOSE


def test_the_reference_forms_ask_the_conditional_questions(app_ctx) -> None:
    investigate, close = _load("investigate")[0], _load("close")[0]
    assert "question_to_complainant" in _refused(investigate, {**INVESTIGATE,
                                                              "need_information": True})
    consulted = _refused(investigate, {**INVESTIGATE, "consult_roles": ["specialist"]})
    assert set(consulted) == {"consultation_question", "consultation_days"}
    assert _refused(close, {**CLOSE, "corrective_action_needed": True}) == {
        "corrective_action": ["This field is required."]}


# --- What the page holds -------------------------------------------------------------------


def _page(schema: dict[str, Any], ui: dict[str, Any] | None = None,
          values: dict[str, Any] | None = None, errors: dict | None = None) -> Any:
    html = str(render_fields(schema, ui, values or {}, errors or {}))
    return lxml.html.fragment_fromstring(html, create_parent="div")


def test_every_field_is_drawn_and_a_branch_field_says_what_it_depends_on() -> None:
    page = _page(ASKING)
    question = page.xpath('.//*[@id="f-question"]')[0]
    box = next(a for a in question.iterancestors() if a.get("data-shown-when"))
    assert json.loads(box.get("data-shown-when")) == {
        "any": [{"field": "asked", "in": ["true"]}]}
    # Required only under its condition: the mark is there for the script, hidden for now.
    mark = box.xpath(".//*[@data-required-mark]")[0]
    assert mark.get("hidden") is not None and question.get("required") is None
    shown = _page(ASKING, values={"asked": True}).xpath('.//*[@id="f-question"]')[0]
    assert shown.get("required") is not None


def test_labelled_choices_show_their_titles_and_send_their_values() -> None:
    page = _page(CHANNEL, {"channel": {"ui:widget": "radio"}})
    radios = page.xpath('.//input[@name="channel"]')
    assert [r.get("value") for r in radios] == ["email", "phone"]
    assert [page.xpath(f'.//label[@for="{r.get("id")}"]')[0].text for r in radios] == \
        ["By e-mail", "By phone"]
    listed = {"type": "object", "properties": {"teams": {"type": "array", "title": "Teams",
              "items": {"type": "string", "anyOf": [{"const": "risk", "title": "Risk team"}]}}}}
    assert unsupported(listed) == []
    assert _page(listed).xpath('.//label[@for="f-teams"]')[0].text == "Risk team"
    assert parse_submission(listed, None, MultiDict({"teams": "risk"})) == {"teams": ["risk"]}


def test_a_nested_object_is_a_fieldset_with_its_errors_under_its_own_fields(app_ctx) -> None:
    schema = {"type": "object", "required": ["address"], "properties": {
        "address": {"type": "object", "title": "Address", "required": ["town"], "properties": {
            "street": {"type": "string", "title": "Street"},
            "town": {"type": "string", "title": "Town"}}}}}
    assert unsupported(schema) == []
    values = parse_submission(schema, None, MultiDict({"address.street": "1 Main St"}))
    assert values == {"address": {"street": "1 Main St"}}
    errors = _refused(schema, values)
    assert errors == {"address.town": ["This field is required."]}
    page = _page(schema, values=values, errors=errors)
    group = page.xpath('.//fieldset[@id="f-address"]')[0]
    assert "Address" in group.find("legend").text_content()
    town = group.xpath('.//*[@id="f-address.town"]')[0]
    assert town.get("name") == "address.town" and town.get("aria-invalid") == "true"
    assert "This field is required." in group.xpath(
        './/*[@id="f-address.town-error"]')[0].text_content()
    assert group.xpath('.//*[@id="f-address.street"]')[0].get("value") == "1 Main St"
    assert render_fields(schema, None, values, errors).summary == [
        ("#f-address.town", "Address, Town: This field is required.")]


# --- Deploy checks -------------------------------------------------------------------------


def _with(**parts: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {
        "asked": {"type": "boolean", "title": "Asked"},
        "teams": {"type": "array", "items": {"type": "string", "enum": ["a"]}},
        "note": {"type": "string"}}, **parts}


THEN = {"required": ["note"]}


@pytest.mark.parametrize("schema, says", [
    (_with(**{"if": {"properties": {"asked": {"const": True}}}, "then": THEN}),
     "must be in its required"),
    (_with(**{"if": {"properties": {"ghost": {"const": True}}, "required": ["ghost"]},
              "then": THEN}), "reads 'ghost'"),
    (_with(**{"if": {"properties": {"asked": {"const": "yes"}}, "required": ["asked"]},
              "then": THEN}), "can never be 'yes'"),
    (_with(**{"if": {"properties": {"teams": {"const": "a"}}, "required": ["teams"]},
              "then": THEN}), "minItems 1"),
    (_with(then=THEN), "without 'if'"),
    (_with(**{"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]}}),
     "needs a 'then'"),
    (_with(**{"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
              "then": {"required": ["ghost"]}}), "requires 'ghost'"),
    (_with(**{"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
              "then": {"not": {"required": ["note"]}}}), "'not' is not supported in a branch"),
    (_with(**{"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
              "then": {"properties": {"note": {"type": "string"}}}}), "declared more than once"),
    (_with(**{"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
              "then": {"properties": {"extra": {"type": "colour"}}}}), "extra: give the field"),
    (_with(allOf=[{"properties": {"x": {"type": "string"}}}]), "allOf holds conditions only"),
    (_with(dependentRequired={"asked": ["note"]}), "always has an answer"),
    (_with(dependentRequired={"note": ["ghost"]}), "must list fields of the form"),
    (_with(dependentSchemas={"ghost": {"required": ["note"]}}), "'ghost' is not a field"),
])
def test_deploy_refuses_a_malformed_condition_and_says_why(schema: dict[str, Any],
                                                           says: str) -> None:
    problems = unsupported(schema)
    assert any(says in p for p in problems), problems


def test_deploy_refuses_conditions_nested_too_deep() -> None:
    branch: dict[str, Any] = {"required": ["note"]}
    for _level in range(6):
        branch = {"if": {"properties": {"asked": {"const": True}}, "required": ["asked"]},
                  "then": branch}
    problems = unsupported(_with(**branch))
    assert any("nested more than 4 deep" in p for p in problems), problems


# --- Through the pages ---------------------------------------------------------------------


def _ready(reference: str, bpmn_id: str) -> str | None:
    """The task id of the case's ready task with this BPMN id, if it is ready."""
    found = [t.task_id for t in cases.ready_tasks(cases.get_case(reference))
             if t.bpmn_id == bpmn_id]
    return found[0] if found else None


def _task_page(reference: str, bpmn_id: str) -> str:
    drive(reference, lambda _data: _ready(reference, bpmn_id) is not None)
    return f"/cases/{reference}/tasks/{_ready(reference, bpmn_id)}"


def _summary_links(page: str) -> list[str]:
    summary = page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


def test_investigate_is_refused_without_the_question_then_sends_it(client, auth,
                                                                  app_ctx) -> None:
    auth.login("hana", "handler")
    reference, _token = file_case()
    path = _task_page(reference, "investigate")
    refused = submit(client, path, {"findings": "The transfer was booked twice.",
                                    "need_information": "true", "consult_roles": "specialist",
                                    "consultation_days": "3"})  # the default, as drawn
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert re.search(r"<title>\s*Error: Investigate", page)
    assert _summary_links(page) == ["f-question_to_complainant", "f-consultation_question"]
    assert 'id="f-question_to_complainant-error"' in page
    assert 'id="f-consultation_question-error"' in page
    assert "The transfer was booked twice." in page  # what was typed is kept
    done = submit(client, path, {"findings": "The transfer was booked twice.",
                                 "need_information": "true",
                                 "question_to_complainant": "Which day did you pay?"})
    assert done.status_code == 302
    assert cases.case_data(cases.get_case(reference))["question_to_complainant"] == \
        "Which day did you pay?"


def test_close_is_refused_without_the_corrective_action(client, auth, app_ctx) -> None:
    auth.login("hana", "handler")
    reference, _token = file_case()
    path = _task_page(reference, "close")
    values = {"closure_reason": "accepted", "final_outcome": "upheld", "root_cause": "process",
              "corrective_action_needed": "true"}
    refused = submit(client, path, values)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert _summary_links(page) == ["f-corrective_action"]
    assert 'id="f-corrective_action-error"' in page
    done = submit(client, path, {**values, "corrective_action": "Fix the double booking."})
    assert done.status_code == 302


def test_each_required_field_of_the_public_form_has_its_own_error_and_summary_link(
        client) -> None:
    refused = submit(client, "/complaints/new", {})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    links = _summary_links(page)
    assert {"f-complainant_name", "f-description", "f-consent"} <= set(links)
    assert "There is a problem" in page and 'role="alert"' in page
    for field in links:
        assert f'id="{field}-error"' in page, field
    assert re.search(r"<title>\s*Error: ", page)
