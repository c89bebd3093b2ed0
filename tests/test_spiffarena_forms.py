"""Forms made for SpiffArena (react-jsonschema-form): UI keys, nested groups and repeatable rows
deploy, draw, come back with what was typed on an error, and store their answers nested."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from server.errors import InvalidInput
from server.formkit import parse_submission, render_fields, unsupported
from server.services import cases, processes
from server.services.form_looks import warnings as form_warnings
from server.services.forms import validate

from .support.web import AuthActions, token
from .test_studio import (
    INTAKE,
    deploy,
    draft_of,
    filed_case,
    is_open,
    map_customer_care,
    open_task,
    upload,
)

FORMS = Path(__file__).parent / "fixtures" / "spiffarena" / "forms"
SCHEMA = json.loads((FORMS / "triage-schema.json").read_text())
UI = json.loads((FORMS / "triage-uischema.json").read_text())
# What a handler sends on the triage form: two transactions and a call-back number.
TRIAGE = {"category": "billing", "refund_needed": "true", "refund_reason": "Charged twice",
          "contact.name": "Layla Haddad", "contact.callback.phone": "+44 20 7946 0000",
          "contact.callback.best_time": "morning",
          "transactions.0.booked_on": "2026-03-02", "transactions.0.amount": "12.50",
          "transactions.0.merchant": "Corner shop",
          "transactions.1.booked_on": "2026-03-02", "transactions.1.amount": "12.50"}


def _page(values: dict[str, Any] | None = None,
          errors: dict[str, list[str]] | None = None) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(str(render_fields(SCHEMA, UI, values or {},
                                                           errors or {})), create_parent="div")


def _refused(data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        validate(SCHEMA, data)
    return refused.value.field_errors


def _zip() -> bytes:
    """The fixture zipped the way SpiffArena exports a process model: one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FORMS.iterdir()):
            archive.writestr(f"grouped-triage/{path.name}", path.read_bytes())
    return buffer.getvalue()


def _post(client: FlaskClient, path: str, values: dict[str, str]) -> Any:
    """Send the task form as a browser does, with the page's hidden case version."""
    page = lxml.html.fromstring(client.get(path).get_data(as_text=True))
    hidden = {i.get("name"): i.get("value") for i in page.xpath(
        '//form[.//*[@name="category"]]//input[@type="hidden"]') if i.get("name")}
    return client.post(path, data={**hidden, **values, "csrf_token": token(client, path)})


# --- Deploy checks ---------------------------------------------------------------------------


def test_spiffarena_ui_keys_are_accepted_and_looks_only_keys_are_warned_about(app_ctx) -> None:
    assert unsupported(SCHEMA, UI) == []
    said = form_warnings({p.name: p.read_bytes() for p in FORMS.iterdir()})
    assert len(said) == 2
    assert said[0].startswith("triage-uischema.json: transactions.items.merchant: 'ui:classNames'")
    assert "triage_notes: 'ui:enableMarkdownInDescription' only changes how the form looks" \
        in said[1]


@pytest.mark.parametrize(("ui", "says"), [
    ({"category": {"ui:readonly": "yes"}}, "ui:readonly must be true or false"),
    ({"contact": {"ghost": {"ui:help": "x"}}}, "contact.ghost: the UI schema describes a field"),
    ({"transactions": {"items": {"amount": {"ui:widget": "radio"}}}},
     "transactions.items.amount: ui:widget 'radio' does not fit"),
    ({"contact": {"ui:order": ["nobody", "*"]}}, "names 'nobody'"),
    ({"category": {"ui:enumNames": "Billing"}}, "ui:enumNames must be a list"),
])
def test_ui_keys_that_would_change_what_is_asked_are_still_refused(app_ctx, ui, says) -> None:
    assert any(says in p for p in unsupported(SCHEMA, ui)), unsupported(SCHEMA, ui)


def test_rows_need_a_group_of_fields_and_counts_that_are_numbers(app_ctx) -> None:
    rows = {"type": "object", "properties": {"t": {"type": "array", "minItems": "one",
            "items": {"type": "object", "properties": {"a": {"type": "string", "oops": 1}}}}}}
    problems = unsupported(rows)
    assert any("minItems must be a whole number" in p for p in problems)
    assert any("'oops' is not supported here" in p for p in problems)


# --- Drawing ---------------------------------------------------------------------------------


def test_the_form_draws_groups_rows_and_what_the_ui_keys_ask_for(app_ctx) -> None:
    page = _page({"case_reference": "CMP-2026-000001"})
    reference = page.get_element_by_id("f-case_reference")
    assert reference.get("readonly") is not None and reference.get("value") == "CMP-2026-000001"
    assert page.get_element_by_id("f-category").get("autofocus") is not None
    labels = [label.text for label in page.xpath('//fieldset[.//*[@name="category"]]//label')]
    assert labels == ["Billing and fees", "Service quality", "A product"]  # ui:enumNames
    assert page.xpath('//div[contains(@class, "form-check-inline")]')  # ui:options inline
    contact = page.get_element_by_id("f-contact")
    assert contact.find("legend").text_content().strip() == "Who to call back"  # ui:title
    assert "The person we call back" in contact.text_content()  # ui:description
    assert page.get_element_by_id("f-contact.name").get("autocomplete") == "name"
    assert page.get_element_by_id("f-contact.callback.phone").get("type") == "tel"
    assert page.get_element_by_id("f-transactions.0.booked_on").get("type") == "date"
    notes = page.get_element_by_id("f-triage_notes")
    assert notes.get("rows") == "3"
    assert "visually-hidden" in page.xpath('//label[@for="f-triage_notes"]')[0].get("class")
    # minItems 1: one row to fill in, called by its items' title; no way to remove it.
    [row] = page.xpath('//fieldset[@data-row]')
    assert row.find("legend").text == "Transaction 1 of 1"
    assert not page.xpath('//button[@name="formkit-remove"]')
    assert page.xpath('//button[@name="formkit-add"]')[0].get("value") == "transactions"
    # A blank row may be left: the browser does not insist on its fields, the server decides.
    assert page.get_element_by_id("f-transactions.0.amount").get("required") is None


def test_at_most_max_items_rows_and_each_row_can_be_removed(app_ctx) -> None:
    full = [{"amount": n} for n in (1, 2, 3, 4)]
    page = _page({"transactions": full})
    assert [r.find("legend").text for r in page.xpath('//fieldset[@data-row]')] == [
        f"Transaction {n} of 4" for n in (1, 2, 3, 4)]
    assert not page.xpath('//button[@name="formkit-add"]')  # maxItems 4
    assert [b.get("value") for b in page.xpath('//button[@name="formkit-remove"]')] == [
        f"transactions.{n}" for n in range(4)]


# --- Reading and checking the answers --------------------------------------------------------


def test_answers_come_back_nested_and_blank_rows_are_left_out(app_ctx) -> None:
    sent = MultiDict({**TRIAGE, "transactions.2.merchant": "  ", "transactions.1.amount": "9"})
    values = parse_submission(SCHEMA, UI, sent)
    assert values["contact"] == {"name": "Layla Haddad", "callback": {
        "phone": "+44 20 7946 0000", "best_time": "morning"}}
    assert values["transactions"] == [
        {"booked_on": "2026-03-02", "amount": 12.5, "merchant": "Corner shop"},
        {"booked_on": "2026-03-02", "amount": 9}]
    assert validate(SCHEMA, values)["transactions"][1] == {"booked_on": "2026-03-02", "amount": 9}


def test_an_error_names_its_row_and_field_and_the_summary_links_to_it(app_ctx) -> None:
    values = parse_submission(SCHEMA, UI, MultiDict({**TRIAGE, "transactions.1.amount": "-3",
                                                     "contact.callback.phone": "call me"}))
    errors = _refused(values)
    assert errors == {"transactions.1.amount": ["Enter more than 0."],
                      "contact.callback.phone": ["This is not in the expected format."]}
    fields = render_fields(SCHEMA, UI, values, errors)
    assert ("#f-transactions.1.amount", "Transaction 2 of 2, Amount: Enter more than 0.") \
        in fields.summary
    assert ("#f-contact.callback.phone",
            "Who to call back, Call-back, Phone: This is not in the expected format.") \
        in fields.summary
    page = _page(values, errors)
    amount = page.get_element_by_id("f-transactions.1.amount")
    assert amount.get("aria-invalid") == "true" and amount.get("value") == "-3"
    assert page.get_element_by_id("f-transactions.0.merchant").get("value") == "Corner shop"


def test_no_rows_where_min_items_asks_for_one_says_so_on_the_group(app_ctx) -> None:
    sent = {k: v for k, v in TRIAGE.items() if not k.startswith("transactions.")}
    values = parse_submission(SCHEMA, UI, MultiDict({**sent, "transactions.0.merchant": ""}))
    assert values["transactions"] == []
    assert _refused(values) == {"transactions": ["Fill in at least 1 row."]}
    summary = render_fields(SCHEMA, UI, values, _refused(values)).summary
    assert ("#f-transactions", "Transactions in question: Fill in at least 1 row.") in summary


def test_undeclared_keys_inside_groups_and_rows_are_not_stored(app_ctx) -> None:
    data = {"category": "service", "refund_needed": False, "transactions": [
        {"booked_on": "2026-03-02", "amount": 3, "typename": "x"}],
        "contact": {"name": "Sam", "admin": True}}
    kept = validate(SCHEMA, data)
    assert kept["transactions"] == [{"booked_on": "2026-03-02", "amount": 3}]
    assert kept["contact"] == {"name": "Sam"}


# --- Deploy and run: CLI and studio, over HTTP -----------------------------------------------


def _triage(client: FlaskClient, case: Any) -> None:
    """Work the triage task as a handler without JavaScript: add a row, remove one, send."""
    path, title = open_task(case)
    assert title == "Triage complaint"
    page = client.get(path).get_data(as_text=True)
    assert "Transaction 1 of 1" in page and "Add another" in page
    first = {k: v for k, v in TRIAGE.items() if not k.startswith("transactions.1")}
    added = _post(client, path, {**first, "formkit-add": "transactions"})
    assert added.status_code == 200  # only redrawn: nothing saved
    page = lxml.html.fromstring(added.get_data(as_text=True))
    assert [r.find("legend").text for r in page.xpath('//fieldset[@data-row]')] == [
        "Transaction 1 of 2", "Transaction 2 of 2"]
    assert page.get_element_by_id("f-transactions.0.merchant").get("value") == "Corner shop"
    assert page.get_element_by_id("f-contact.name").get("value") == "Layla Haddad"
    assert open_task(case)[1] == "Triage complaint"
    # A mistake in the second row comes back under that row's field, with everything kept.
    wrong = _post(client, path, {**TRIAGE, "transactions.1.amount": "0"})
    assert wrong.status_code == 422
    page = lxml.html.fromstring(wrong.get_data(as_text=True))
    assert page.get_element_by_id("f-transactions.1.amount-error") is not None
    assert page.xpath('//a[@href="#f-transactions.1.amount"]')
    done = _post(client, path, TRIAGE)
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]


def _run(auth: AuthActions, app: Any, version_id: int) -> None:
    """File a complaint, triage it with groups and rows, approve the refund: the case closes."""
    case = filed_case(app.test_client())
    assert case.process_version_id == version_id
    _triage(auth.signed_in("hana", "handler"), case)
    path, title = open_task(case)
    assert title == "Approve refund"
    supervisor = auth.signed_in("sara", "supervisor")
    assert _post(supervisor, path, {"refund_approved": "true", "refund_amount": "25"}) \
        .status_code == 302
    assert not is_open(case)
    data = cases.case_data(cases.get_case(case.reference))
    assert data["contact"]["callback"] == {"phone": "+44 20 7946 0000", "best_time": "morning"}
    assert [t["amount"] for t in data["transactions"]] == [12.5, 12.5]
    assert data["summary"] == "Layla Haddad / billing / refunded / 2 / +44 20 7946 0000"


def test_the_model_deploys_through_the_cli_and_runs_to_its_end(app, app_ctx, auth, runner,
                                                                 tmp_path) -> None:
    map_customer_care(auth)
    folder = tmp_path / "grouped-triage"
    shutil.copytree(FORMS, folder)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert "'ui:classNames' only changes how the form looks" in result.output
    _run(auth, app, processes.active_version_id())


def test_the_model_uploads_as_a_zip_to_the_studio_and_runs_to_its_end(app, app_ctx,
                                                                      auth) -> None:
    owner = auth.signed_in("olga", "process_owner")
    map_customer_care(auth)
    done = deploy(owner, draft_of(upload(owner, ("grouped-triage.zip", _zip()))))
    assert done.status_code == 200, done.get_json()
    assert any("ui:enableMarkdownInDescription" in w for w in done.get_json()["warnings"])
    _run(auth, app, processes.active_version_id())


def test_a_filed_case_keeps_the_intake_as_before(app, app_ctx, auth) -> None:
    # The intake form has no groups: filing works as it always did on this version.
    owner = auth.signed_in("olga", "process_owner")
    map_customer_care(auth)
    assert deploy(owner, draft_of(upload(owner, ("g.zip", _zip())))).status_code == 200
    case = filed_case(app.test_client())
    assert cases.get_case(case.reference).complainant_name == INTAKE["complainant_name"]


# --- draft-07 "dependencies", as react-jsonschema-form writes them ---------------------------

OLD_STYLE = {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {},
             "type": "object", "properties": {
                 "amount": {"type": "number", "title": "Amount"},
                 "currency": {"type": "string", "title": "Currency"},
                 "refund": {"type": "string", "title": "Refund", "enum": ["full", "part"]}},
             "dependencies": {"amount": ["currency"], "refund": {
                 "required": ["reason"],
                 "properties": {"reason": {"type": "string", "title": "Why"}}}}}


@pytest.mark.parametrize("draft", ["http://json-schema.org/draft-07/schema#", None])
def test_dependencies_ask_for_the_dependent_fields_only_when_the_trigger_is_given(
        app_ctx, draft) -> None:
    schema = {k: v for k, v in OLD_STYLE.items() if k != "$schema" or draft}
    assert unsupported(schema) == []
    with pytest.raises(InvalidInput) as refused:
        validate(schema, {"amount": 5, "refund": "full"})
    assert refused.value.field_errors == {"currency": ["This field is required."],
                                          "reason": ["This field is required."]}
    # Without the trigger the dependent field is neither asked for nor kept.
    assert validate(schema, {"currency": "GBP", "reason": "typed anyway"}) == {"currency": "GBP"}
    page = lxml.html.fragment_fromstring(str(render_fields(schema, None, {}, {})),
                                         create_parent="div")
    assert page.xpath('//div[@data-shown-when][.//*[@name="reason"]]')
    assert page.xpath('//div[@data-required-when][.//*[@name="currency"]]')


def test_dependencies_with_one_of_branches_are_refused_with_a_reason(app_ctx) -> None:
    schema = {**OLD_STYLE, "dependencies": {"refund": {"oneOf": [
        {"properties": {"refund": {"enum": ["full"]}}}]}}}
    assert any("'oneOf' is not supported in a branch" in p for p in unsupported(schema))
