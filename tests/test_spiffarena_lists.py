"""Lists of single values and choices from task data, as SpiffArena's forms write them.

Issue 16: an array of plain values (`"items": {"type": "string"}`) is rows of one input
each, added and removed without JavaScript; an array with `items.enum` is a group of
checkboxes; `options_from_task_data_var:NAME` takes a field's choices from the task's data
when the form is drawn and when it is checked. The fixture is in
tests/fixtures/spiffarena/soft/lists/.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from server.errors import InvalidInput
from server.formkit import parse_submission, render_fields, unsupported
from server.formkit.dynamic import MAX_OPTIONS, expand
from server.formkit.parse import with_added_row
from server.formkit.refs import inline
from server.services.forms import validate
from server.services.history import words

from .support.web import file_complaint, make_user, sign_in, submit, token
from .test_spiffarena_manual import active, open_tasks

LISTS = Path(__file__).parent / "fixtures" / "spiffarena" / "soft" / "lists"
SCHEMA = inline(json.loads((LISTS / "involved-schema.json").read_text()))
UI = json.loads((LISTS / "involved-uischema.json").read_text())
OPTIONS = {"contact_options": [{"value": "phone", "label": "Phone <call back>"},
                               {"value": "letter", "label": "Letter"}]}


def errors_of(schema: dict[str, Any], values: dict[str, Any],
              data: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """The errors validation puts on each field ({} when the values are accepted)."""
    try:
        validate(schema, values, data)
    except InvalidInput as exc:
        return exc.field_errors
    return {}


# --- formkit: a list of single values -------------------------------------------------------

def test_the_fixture_form_deploys_as_it_is(app_ctx) -> None:
    assert unsupported(SCHEMA, UI) == []


def test_a_list_of_names_is_rows_of_one_input_each_with_add_and_remove(app_ctx) -> None:
    schema, _ = expand(SCHEMA, OPTIONS)
    page = str(render_fields(schema, UI, {"witnesses": ["Amal", "Badr"]}, {}))
    assert 'name="witnesses.0" type="text" value="Amal"' in page
    assert 'name="witnesses.1" type="text" value="Badr"' in page
    assert 'placeholder="Full name"' in page
    assert "Witness 2 of 2" in page and 'value="witnesses.1"' in page  # its Remove button
    assert ">Add another</button>" in page  # two of at most three
    # "Add another" redraws the form with a blank row more; nothing is lost.
    form = MultiDict({"witnesses.0": "Amal", "witnesses.1": "Badr",
                      "formkit-add": "witnesses"})
    values = with_added_row(schema, parse_submission(schema, UI, form), form)
    assert values["witnesses"] == ["Amal", "Badr", None]
    full = str(render_fields(schema, UI, values, {}))
    assert 'name="witnesses.2"' in full and ">Add another</button>" not in full
    # Remove takes that row out; a blank row is no answer.
    form = MultiDict({"witnesses.0": "Amal", "witnesses.1": "Badr", "witnesses.2": " ",
                      "formkit-remove": "witnesses.0"})
    assert parse_submission(schema, UI, form)["witnesses"] == ["Badr", None]
    sent = MultiDict({"witnesses.0": "Amal", "witnesses.1": "", "witnesses.2": "Badr",
                      "contact": "letter"})
    assert parse_submission(schema, UI, sent) == {"witnesses": ["Amal", "Badr"],
                                                  "contact": "letter", "channels": [],
                                                  "fallback": []}


def test_an_entry_that_breaks_its_rule_is_refused_on_its_own_row(app_ctx) -> None:
    schema, _ = expand(SCHEMA, OPTIONS)
    values = parse_submission(schema, UI, MultiDict({
        "witnesses.0": "Amal", "witnesses.1": "x" * 41, "contact": "phone"}))
    errors = errors_of(SCHEMA, values, OPTIONS)
    assert errors == {"witnesses.1": ["Enter at most 40 characters."]}
    page = render_fields(schema, UI, values, errors)
    assert 'id="f-witnesses.1-error"' in str(page) and "x" * 41 in str(page)
    assert ("#f-witnesses.1", "Witnesses, Witness 2 of 2: Enter at most 40 characters.") \
        in page.summary
    # Too many rows (a forged post) and none at all are the list's own errors.
    assert errors_of(SCHEMA, {"witnesses": ["a", "b", "c", "d"], "contact": "phone"},
                     OPTIONS) == {"witnesses": ["Fill in at most 3 rows."]}
    unique = {**SCHEMA, "properties": {**SCHEMA["properties"], "witnesses": {
        **SCHEMA["properties"]["witnesses"], "uniqueItems": True}}}
    assert errors_of(unique, {"witnesses": ["Amal", "Amal"], "contact": "phone"},
                     OPTIONS) == {"witnesses": ["Enter each entry only once."]}
    none = parse_submission(schema, UI, MultiDict({"witnesses.0": "", "contact": "phone"}))
    assert errors_of(SCHEMA, none, OPTIONS) == {"witnesses": ["Fill in at least 1 row."]}


def test_a_list_of_yes_no_or_numbers_reads_typed_values(app_ctx) -> None:
    schema = {"type": "object", "properties": {
        "seen": {"type": "array", "items": {"type": "boolean"}},
        "amounts": {"type": "array", "items": {"type": "number", "minimum": 0}},
        "floors": {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}}}}
    ui = {"floors": {"ui:enumNames": ["Ground", "First", "Second"]}}
    assert unsupported(schema, ui) == []
    page = str(render_fields(schema, ui, {}, {}))
    # A yes/no entry is a select: an unticked box would answer every blank row.
    assert '<select class="form-select" id="f-seen.0" name="seen.0">' in page
    assert 'type="checkbox" id="f-floors-2" name="floors" value="2"' in page and "First" in page
    values = parse_submission(schema, ui, MultiDict([
        ("seen.0", "true"), ("seen.1", "false"), ("amounts.0", "12.5"), ("amounts.1", "-1"),
        ("floors", "1"), ("floors", "3")]))
    assert values == {"seen": [True, False], "amounts": [12.5, -1], "floors": [1, 3]}
    assert errors_of(schema, values) == {"amounts.1": ["Enter 0 or more."]}
    assert errors_of(schema, {**values, "amounts": [1], "floors": [4]}) == {
        "floors": ["Choose one of: 1, 2, 3."]}
    assert words([1, 3], {**schema["properties"]["floors"], "items": {
        **schema["properties"]["floors"]["items"], "enumNames": ui["floors"]["ui:enumNames"]}}) \
        == "Ground, Second"


@pytest.mark.parametrize("items, says", [
    ({"type": "array", "items": {"type": "string"}}, "list of single values"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "x": 1}, "'x'"),
    ({"type": "string", "x-codeList": "products"}, "code list"),
    ({"type": "string", "maxLength": -1}, "maxLength"),
])
def test_a_list_whose_entries_cannot_be_drawn_is_refused_with_the_reason(
        app_ctx, items: dict[str, Any], says: str) -> None:
    problems = unsupported({"type": "object", "properties": {
        "a": {"type": "array", "items": items}}})
    assert problems and says in " ".join(problems), problems


# --- formkit: choices from task data --------------------------------------------------------

def test_choices_from_task_data_are_drawn_escaped_and_checked(app_ctx) -> None:
    schema, problems = expand(SCHEMA, OPTIONS)
    assert problems == {}
    assert SCHEMA["properties"]["contact"]["anyOf"] == [
        "options_from_task_data_var:contact_options"]  # the version's form is untouched
    page = str(render_fields(schema, UI, {}, {}))
    assert '<option value="phone">Phone &lt;call back&gt;</option>' in page
    assert 'type="checkbox" id="f-fallback-2" name="fallback" value="letter"' in page
    assert "<call back>" not in page
    sent = {"witnesses": ["Amal"], "contact": "letter", "fallback": ["phone"]}
    assert validate(SCHEMA, sent, OPTIONS) == sent
    assert errors_of(SCHEMA, {**sent, "contact": "fax", "fallback": ["visit"]}, OPTIONS) == {
        "contact": ["Choose one of the options."], "fallback": ["Choose one of the options."]}


@pytest.mark.parametrize("data, says", [
    ({}, "which this case does not have"),
    ({"contact_options": "phone, letter"}, "must be a non-empty list"),
    ({"contact_options": []}, "must be a non-empty list"),
    ({"contact_options": [{"value": 1, "label": "One"}]}, "must be a non-empty list"),
    ({"contact_options": [{"value": "a", "label": "x" * 501}]}, "must be a non-empty list"),
    ({"contact_options": [{"value": str(n), "label": str(n)} for n in range(MAX_OPTIONS + 1)]},
     f"more than {MAX_OPTIONS} choices"),
])
def test_a_task_data_variable_that_cannot_give_choices_says_so_on_its_field(
        app_ctx, data: dict[str, Any], says: str) -> None:
    schema, problems = expand(SCHEMA, data)
    assert says in problems["contact"][0] and "contact_options" in problems["contact"][0]
    page = str(render_fields(schema, UI, {}, problems))
    assert 'id="f-contact-error"' in page
    errors = errors_of(SCHEMA, {"witnesses": ["Amal"], "contact": "phone"}, data)
    assert set(errors) == {"contact"} and says in errors["contact"][0]
    # An optional field without choices can be left out.
    assert set(errors_of(SCHEMA, {"witnesses": ["Amal"], "contact": "phone",
                                  "fallback": []}, data)) == {"contact"}


def test_a_sentinel_without_a_variable_name_is_refused_at_deploy(app_ctx) -> None:
    for wrong in ("options_from_task_data_var:", "options_from_task_data_var:a b"):
        problems = unsupported({"type": "object", "properties": {
            "a": {"type": "string", "anyOf": [wrong]}}})
        assert any("name of a task data variable" in p for p in problems), problems


# --- a form's own $refs (SpiffArena's dynamic enum sample writes its field so) --------------

def test_a_reference_to_the_forms_definitions_is_written_out_with_the_keys_beside_it(
        app_ctx) -> None:
    raw = json.loads((LISTS / "involved-schema.json").read_text())
    assert raw["properties"]["contact"] == {"$ref": "#/definitions/Contact",
                                            "title": "Preferred contact"}
    assert SCHEMA["properties"]["contact"] == {
        "title": "Preferred contact", "type": "string",
        "anyOf": ["options_from_task_data_var:contact_options"]}
    assert "definitions" not in SCHEMA


@pytest.mark.parametrize("definitions, ref", [
    ({"a": {"$ref": "#/definitions/a"}}, "#/definitions/a"),  # leads back to itself
    ({"a": {"type": "string"}}, "other.json#/a"),  # not the form's own
    # Twenty references a level, eight levels: millions of parts from a small file.
    ({"d0": {"type": "string"}, **{f"d{i}": {"type": "object", "properties": {
        f"p{j}": {"$ref": f"#/definitions/d{i - 1}"} for j in range(20)}} for i in range(1, 9)}},
     "#/definitions/d8"),
])
def test_a_reference_that_cannot_be_written_out_stays_and_is_refused(
        app_ctx, definitions: dict[str, Any], ref: str) -> None:
    form = {"type": "object", "definitions": definitions, "properties": {"x": {"$ref": ref}}}
    assert inline(form) is form
    assert any("$ref is not supported" in p for p in unsupported(inline(form)))


# --- the SpiffArena-shaped model, deployed and worked over HTTP ------------------------------

def run_the_lists_model(client: FlaskClient) -> None:
    """File a complaint; record who was involved through the task page; Done on the next."""
    reference, _tracking = file_complaint(client)
    [task] = open_tasks(reference)
    assert task.bpmn_id == "Activity_involved"
    make_user("hana", "handler")
    sign_in(client, "hana")
    path = f"/cases/{reference}/tasks/{task.task_id}"
    page = client.get(path).get_data(as_text=True)
    assert '<option value="phone">Phone &lt;call back&gt;</option>' in page
    assert ">In the shop</label>" in page and ">Add another</button>" in page
    # "Add another" only redraws the form, with what was typed.
    more = submit(client, path, {"witnesses.0": "Amal Saad", "formkit-add": "witnesses"})
    body = more.get_data(as_text=True)
    assert more.status_code == 200 and 'name="witnesses.1"' in body and "Amal Saad" in body
    # A choice the task data does not offer, and an over-long name, are refused in place.
    refused = submit(client, path, {"witnesses.0": "Amal Saad", "witnesses.1": "y" * 41,
                                    "contact": "fax", "channels": ["email", "shop"]})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="f-witnesses.1-error"' in body and "y" * 41 in body
    assert 'id="f-contact-error"' in body
    assert 'value="shop" checked' in body
    done = submit(client, path, {"witnesses.0": "Amal Saad", "witnesses.1": "Badr Nasser",
                                 "contact": "letter", "channels": ["email", "shop"],
                                 "fallback": ["phone", "visit"]})
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    [reach] = open_tasks(reference)
    page = client.get(f"/cases/{reference}/tasks/{reach.task_id}").get_data(as_text=True)
    assert "Reach them by letter; 2 witness(es) named." in page
    # The history reads the lists back in the form's words.
    assert "Amal Saad, Badr Nasser" in page and "E-mail, In the shop" in page
    # Answers picked from task data read back with the labels they were picked by.
    assert "<dd class=\"text-prewrap mb-1\" dir=\"auto\">Letter</dd>" in page
    assert "Phone &lt;call back&gt;, Visit" in page
    assert submit(client, f"/cases/{reference}/tasks/{reach.task_id}", {}).status_code == 302
    assert open_tasks(reference) == []


def test_the_lists_model_deploys_from_the_cli_and_runs(app_ctx, runner, tmp_path,
                                                        client) -> None:
    folder = tmp_path / "lists"
    shutil.copytree(LISTS, folder)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert active().process_id == "Process_involved_q7m2x4"
    run_the_lists_model(client)


def test_choices_from_task_data_on_the_intake_form_are_refused_at_deploy(
        app_ctx, runner, tmp_path) -> None:
    folder = tmp_path / "lists"
    shutil.copytree(LISTS, folder)
    diagram = folder / "involved.bpmn"
    diagram.write_text(diagram.read_text().replace(
        '<bpmn:startEvent id="StartEvent_1">',
        '<bpmn:startEvent id="StartEvent_1"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="formJsonSchemaFilename" value="involved-schema.json" />'
        '</spiffworkflow:properties></bpmn:extensionElements>'))
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code != 0
    assert "involved-schema.json [StartEvent_1]: choices from task data " \
        "(options_from_task_data_var) work on a user task's form only" in result.output, \
        result.output


def test_a_list_reads_in_arabic_from_the_versions_translations(
        app_ctx, runner, tmp_path, client) -> None:
    folder = tmp_path / "lists"
    shutil.copytree(LISTS, folder)
    (folder / "translations.ar.json").write_text(json.dumps({
        "Witnesses": "الشهود", "Witness": "شاهد", "Channels used": "القنوات المستخدمة",
        "E-mail": "البريد الإلكتروني", "In the shop": "في المتجر"}, ensure_ascii=False),
        encoding="utf-8")
    assert runner.invoke(args=["deploy", str(folder)]).exit_code == 0
    reference, _tracking = file_complaint(client)
    make_user("hana", "handler")
    sign_in(client, "hana")
    [task] = open_tasks(reference)
    path = f"/cases/{reference}/tasks/{task.task_id}"
    arabic = client.get(path, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert ">البريد الإلكتروني</label>" in arabic and ">في المتجر</label>" in arabic
    assert "الشهود" in arabic and "شاهد 1 من 1" in arabic and ">In the shop</label>" not in arabic
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">In the shop</label>" in english and "Witness 1 of 1" in english


def test_the_studio_preview_names_the_variable_choices_come_from(app_ctx, auth) -> None:
    owner = auth.signed_in("olga", "process_owner")
    page = owner.get("/studio/").get_data(as_text=True)
    header = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    shown = owner.post("/studio/forms/preview", headers={"X-CSRFToken": header}, json={
        "schema": (LISTS / "involved-schema.json").read_text(),
        "uischema": (LISTS / "involved-uischema.json").read_text()})
    assert shown.status_code == 200, shown.get_data(as_text=True)[:2000]
    html = shown.get_data(as_text=True)
    assert ">contact_options</option>" in html and ">contact_options</label>" in html
    assert 'name="witnesses.0"' in html and ">In the shop</label>" in html


def lists_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(LISTS.iterdir()):
            archive.writestr(f"lists/{path.name}", path.read_bytes())
    return buffer.getvalue()


def test_the_lists_model_deploys_from_the_studio_and_runs(app_ctx, auth, client) -> None:
    owner = auth.signed_in("olga", "process_owner")
    sent = owner.post("/studio/upload", content_type="multipart/form-data", data={
        "csrf_token": token(owner, "/studio/"), "files": [(io.BytesIO(lists_zip()), "l.zip")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    draft = int(sent.headers["Location"].rsplit("/", 1)[1])
    assert owner.get(f"/studio/drafts/{draft}/files").get_json()["problems"] == []
    page = owner.get("/studio/").get_data(as_text=True)
    header = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    done = owner.post(f"/studio/drafts/{draft}/deploy", json={"comment": "lists"},
                      headers={"X-CSRFToken": header})
    assert done.status_code == 200, done.get_json()
    run_the_lists_model(client)
