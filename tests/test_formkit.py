"""Forms drawn from JSON Schema: what a person sees, what their answers become, what is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from server.formkit import parse_submission, render_fields, unsupported

FORMS = Path(__file__).resolve().parent.parent / "forms"
SCHEMAS = sorted(FORMS.glob("*-schema.json"))


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A form from forms/ with its UI schema when it has one."""
    schema = json.loads((FORMS / f"{name}-schema.json").read_text())
    ui_path = FORMS / f"{name}-uischema.json"
    return schema, json.loads(ui_path.read_text()) if ui_path.exists() else None


def _page(schema: dict[str, Any], ui: dict[str, Any] | None = None,
          values: dict[str, Any] | None = None,
          errors: dict[str, list[str]] | None = None) -> Any:
    """The rendered fields parsed as HTML, ready to be inspected."""
    html = str(render_fields(schema, ui, values or {}, errors or {}))
    return lxml.html.fragment_fromstring(html, create_parent="div")


def _all(page: Any, path: str) -> list[Any]:
    """Elements found by an XPath below `page` (lxml has no CSS selectors without cssselect)."""
    return list(page.xpath(path))


def _one(page: Any, path: str) -> Any:
    found = _all(page, path)
    assert len(found) == 1, f"{path}: {len(found)} found"
    return found[0]


def _by_id(page: Any, element_id: str) -> Any:
    return _one(page, f'.//*[@id="{element_id}"]')


def _label_for(page: Any, element_id: str) -> Any:
    return _one(page, f'.//label[@for="{element_id}"]')


def _label_of(page: Any, element_id: str) -> str:
    """The text a screen reader announces as the name of a field."""
    element = _by_id(page, element_id)
    group = next((a for a in element.iterancestors("fieldset")), None)
    if group is not None and element.get("type") in ("radio", "checkbox") \
            and len(group.xpath(".//input")) > 1:
        return group.find("legend").text_content()
    return _label_for(page, element_id).text_content()


def _shown(textarea: Any) -> str:
    # Browsers drop the newline right after <textarea>; lxml keeps it.
    return (textarea.text or "").removeprefix("\n")


def _described_by(element: Any) -> list[str]:
    return (element.get("aria-describedby") or "").split()


# --- Every real form -------------------------------------------------------------------


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.stem for p in SCHEMAS])
def test_every_form_in_the_repository_can_be_drawn_with_a_label_for_each_field(
        path: Path) -> None:
    schema, ui = _load(path.stem.removesuffix("-schema"))
    assert unsupported(schema, ui) == []
    page = _page(schema, ui)
    ids = [e.get("id") for e in page.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "every id on the page is unique"
    for name, spec in schema["properties"].items():
        label = _label_of(page, f"f-{name}")
        assert spec.get("title", name) in label


def test_the_repository_forms_are_all_there_to_be_checked() -> None:
    assert {"intake-schema", "acknowledge-schema", "respond-schema"} <= {p.stem for p in SCHEMAS}


# --- What a person sees --------------------------------------------------------------------


def test_required_fields_carry_a_visible_mark_and_the_required_attribute() -> None:
    page = _page(*_load("intake"))
    name_label = _label_for(page, "f-complainant_name")
    assert _one(name_label, './/span[@aria-hidden="true"]').text == "*"
    assert _by_id(page, "f-complainant_name").get("required") is not None
    assert not _label_for(page, "f-complainant_email").xpath(".//span")
    assert _by_id(page, "f-complainant_email").get("required") is None


def test_a_consent_box_must_be_ticked_but_a_plain_yes_no_box_need_not_be() -> None:
    consent = _by_id(_page(*_load("intake")), "f-consent")
    assert consent.get("type") == "checkbox" and consent.get("required") is not None
    assert consent.get("checked") is None, "consent is never given on someone's behalf"
    schema, _ui = _load("assess")  # without its UI schema a boolean is a plain box
    in_scope = _by_id(_page(schema), "f-in_scope")
    assert in_scope.get("type") == "checkbox" and in_scope.get("required") is None


def test_a_required_radio_group_is_a_fieldset_whose_legend_shows_the_mark() -> None:
    page = _page(*_load("acknowledge"))
    group = _one(page, ".//fieldset")
    assert "How was the complainant contacted?" in group.find("legend").text_content()
    assert group.find("legend").xpath('.//span[@aria-hidden="true"]')
    radios = group.xpath('.//input[@type="radio"]')
    assert [r.get("value") for r in radios] == ["email", "phone", "letter", "in_person"]
    assert all(r.get("required") is not None for r in radios)
    assert _label_for(page, radios[3].get("id")).text_content() == "In person"


def test_help_text_is_linked_to_the_field_it_explains() -> None:
    page = _page(*_load("acknowledge"))
    message = _by_id(page, "f-acknowledgement_message")
    assert message.tag == "textarea" and message.get("rows") == "5"
    assert _described_by(message) == ["f-acknowledgement_message-help"]
    help_text = _by_id(page, "f-acknowledgement_message-help")
    assert "form-text" in help_text.get("class")
    assert "expect an answer" in help_text.text_content()


def test_a_field_description_is_the_help_when_the_ui_schema_gives_none() -> None:
    schema = {"type": "object", "properties": {
        "ref": {"type": "string", "title": "Reference", "description": "On your letter."}}}
    page = _page(schema)
    assert _described_by(_by_id(page, "f-ref")) == ["f-ref-help"]
    assert _by_id(page, "f-ref-help").text_content() == "On your letter."


def test_errors_are_announced_with_their_field_and_listed_for_the_summary() -> None:
    schema, ui = _load("acknowledge")
    errors = {"acknowledgement_message": ["Enter something here.", "Say more."],
              "acknowledgement_channel": ["This field is required."],
              "_form": ["2 fields need correcting."]}
    page = _page(schema, ui, errors=errors)
    message = _by_id(page, "f-acknowledgement_message")
    assert "is-invalid" in message.get("class") and message.get("aria-invalid") == "true"
    assert "f-acknowledgement_message-error" in _described_by(message)
    error = _by_id(page, "f-acknowledgement_message-error")
    assert "invalid-feedback" in error.get("class") and "d-block" in error.get("class")
    assert "Enter something here." in error.text_content() and "Say more." in error.text_content()
    group = _one(page, ".//fieldset")
    assert "f-acknowledgement_channel-error" in _described_by(group)
    assert all("is-invalid" in r.get("class") for r in group.xpath(".//input"))
    summary = render_fields(schema, ui, {}, errors).summary
    assert summary == [
        (None, "2 fields need correcting."),
        ("#f-acknowledgement_channel",
         "How was the complainant contacted?: This field is required."),
        ("#f-acknowledgement_message", "What was said: Enter something here."),
        ("#f-acknowledgement_message", "What was said: Say more.")]


def test_a_field_without_errors_is_not_marked_invalid() -> None:
    page = _page(*_load("intake"), errors={"description": ["Enter at least 10 characters."]})
    name = _by_id(page, "f-complainant_name")
    assert "is-invalid" not in name.get("class") and name.get("aria-invalid") is None
    assert not _all(page, './/*[@role="alert"]')


def test_errors_nobody_could_correct_on_the_page_are_in_the_summary_without_a_link() -> None:
    schema = {"type": "object", "properties": {
        "token": {"type": "string", "title": "Token"}, "name": {"type": "string"}}}
    ui = {"token": {"ui:widget": "hidden"}}
    summary = render_fields(schema, ui, {}, {"token": ["Expired."],
                                            "owner.name": ["Unknown."]}).summary
    assert (None, "Token: Expired.") in summary and (None, "owner.name: Unknown.") in summary


def test_a_required_group_of_checkboxes_says_so_without_demanding_every_box() -> None:
    schema = {"type": "object", "required": ["topics"], "properties": {
        "topics": {"type": "array", "title": "Topics",
                   "items": {"type": "string", "enum": ["a", "b"]}}}}
    page = _page(schema)
    legend = _one(page, ".//fieldset/legend")
    assert legend.xpath('.//span[@aria-hidden="true"]')
    assert "(required)" in legend.text_content()
    assert all(box.get("required") is None for box in _all(page, ".//input"))


def test_what_a_person_typed_comes_back_after_an_error() -> None:
    schema, ui = _load("respond")
    values = {"outcome": "partly_upheld", "response": "We agree in part.",
              "remedy_offered": "An apology", "compensation_amount": "twelve"}
    page = _page(schema, ui, values, {"compensation_amount": ["Enter a number."]})
    assert _one(page, './/input[@value="partly_upheld"]').get("checked") is not None
    assert _one(page, './/input[@value="upheld"]').get("checked") is None
    assert _shown(_by_id(page, "f-response")) == "We agree in part."
    assert _by_id(page, "f-remedy_offered").get("value") == "An apology"
    # A number box would show "twelve" as empty, so it is shown as text to be corrected.
    amount = _by_id(page, "f-compensation_amount")
    assert amount.get("value") == "twelve" and amount.get("type") == "text"


def test_chosen_options_and_ticked_boxes_come_back_and_defaults_fill_the_rest() -> None:
    schema = {"type": "object", "properties": {
        "channels": {"type": "array", "items": {"type": "string", "enum": ["sms", "post", "email"]},
                     "uniqueItems": True},
        "urgent": {"type": "boolean"},
        "language": {"type": "string", "enum": ["en", "ar"], "default": "en"},
        "count": {"type": "integer", "default": 3}}}
    page = _page(schema, values={"channels": ["post", "email"], "urgent": True})
    ticked = [b.get("value") for b in _all(page, './/input[@name="channels"][@checked]')]
    assert ticked == ["post", "email"]
    assert _by_id(page, "f-urgent").get("checked") is not None
    assert _by_id(page, "f-language").value == "en"
    assert _by_id(page, "f-count").get("value") == "3"
    assert _all(page, './/*[@id="f-language"]/option')[0].text == "Choose…"


def test_each_kind_of_field_gets_the_input_that_suits_it() -> None:
    schema = {"type": "object", "properties": {
        "email": {"type": "string", "format": "email"},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "amount": {"type": "number", "minimum": 0, "maximum": 100},
        "people": {"type": "integer", "exclusiveMinimum": 0},
        "again": {"type": "boolean"},
        "topics": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "token": {"type": "string"}}}
    ui = {"again": {"ui:widget": "radio"}, "topics": {"ui:widget": "select"},
          "token": {"ui:widget": "hidden"}}
    page = _page(schema, ui, {"token": "abc", "again": False})
    assert [_by_id(page, f"f-{n}").get("type") for n in ("email", "day", "at")] == [
        "email", "date", "datetime-local"]
    amount = _by_id(page, "f-amount")
    assert (amount.get("type"), amount.get("min"), amount.get("max"), amount.get("step")) == (
        "number", "0", "100", "any")
    people = _by_id(page, "f-people")
    assert (people.get("min"), people.get("step")) == ("1", "1")
    again = _all(page, './/input[@name="again"]')
    assert [(r.get("value"), r.get("checked") is not None) for r in again] == [
        ("true", False), ("false", True)]
    assert [_label_for(page, r.get("id")).text for r in again] == ["Yes", "No"]
    topics = _by_id(page, "f-topics")
    assert topics.tag == "select" and topics.get("multiple") is not None
    assert _by_id(page, "f-token").get("type") == "hidden"
    assert _by_id(page, "f-token").get("value") == "abc"


def test_ui_order_puts_named_fields_first_and_the_rest_where_the_star_is() -> None:
    schema = {"type": "object", "properties": {n: {"type": "string"} for n in "abcde"}}
    page = _page(schema, {"ui:order": ["d", "*", "a"]})
    names = [e.get("name") for e in _all(page, ".//input")]
    assert names == ["d", "b", "c", "e", "a"]


def test_typed_script_and_markup_in_titles_are_shown_as_text_never_run() -> None:
    attack = "<script>alert(1)</script>"
    schema = {"type": "object", "properties": {
        "name": {"type": "string", "title": "<b>Name</b>"},
        "story": {"type": "string", "title": 'Say "why"'}}}
    ui = {"story": {"ui:widget": "textarea", "ui:help": "<i>help</i>"}}
    html = str(render_fields(schema, ui, {"name": attack, "story": attack},
                             {"name": [attack], "_form": [attack]}))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;Name" in html
    page = lxml.html.fragment_fromstring(html, create_parent="div")
    assert _by_id(page, "f-name").get("value") == attack
    assert _shown(_by_id(page, "f-story")) == attack
    assert 'Say "why"' in _label_for(page, "f-story").text_content()
    assert not _all(page, ".//script | .//b | .//i")


# --- What the answers become ------------------------------------------------------------------

NUMBERS = {"type": "object", "properties": {
    "people": {"type": "integer"}, "amount": {"type": "number"}, "score": {"type": "number"}}}


def test_numbers_become_numbers_and_whole_amounts_stay_whole() -> None:
    form = MultiDict({"people": " 3 ", "amount": "12", "score": "2.5"})
    values = parse_submission(NUMBERS, None, form)
    assert values == {"people": 3, "amount": 12, "score": 2.5}
    assert isinstance(values["amount"], int)


@pytest.mark.parametrize("typed", ["twelve", "1.5", "1_000", "nan"])
def test_a_number_that_is_not_one_is_kept_as_typed_so_it_can_be_corrected(typed: str) -> None:
    values = parse_submission(NUMBERS, None, MultiDict({"people": typed, "score": typed}))
    assert values["people"] == typed
    assert values["score"] == (1.5 if typed == "1.5" else typed)


def test_an_unticked_box_is_a_no_but_an_unticked_consent_is_no_answer() -> None:
    schema, ui = _load("intake")
    values = parse_submission(schema, ui, MultiDict({"complainant_name": "Ana"}))
    assert "consent" not in values
    assert parse_submission(schema, ui, MultiDict({"consent": "true"}))["consent"] is True
    assess, _ = _load("assess")
    assert parse_submission(assess, None, MultiDict())["in_scope"] is False
    assert parse_submission(assess, None, MultiDict({"in_scope": "on"}))["in_scope"] is True


def test_yes_no_radios_become_booleans_and_an_unanswered_pair_is_left_out() -> None:
    schema = {"type": "object", "properties": {"again": {"type": "boolean"}}}
    ui = {"again": {"ui:widget": "radio"}}
    assert parse_submission(schema, ui, MultiDict({"again": "false"})) == {"again": False}
    assert parse_submission(schema, ui, MultiDict({"again": "true"})) == {"again": True}
    assert parse_submission(schema, ui, MultiDict()) == {}
    assert parse_submission(schema, ui, MultiDict({"again": "maybe"})) == {"again": "maybe"}


def test_ticked_choices_become_a_list_in_the_order_given() -> None:
    schema = {"type": "object", "required": ["must"], "properties": {
        "topics": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c"]}},
        "must": {"type": "array", "items": {"type": "string", "enum": ["x"]}}}}
    form = MultiDict([("topics", "c"), ("topics", ""), ("topics", "a")])
    assert parse_submission(schema, None, form) == {"topics": ["c", "a"]}
    # Nothing ticked is an answer, unless an answer is required.
    assert parse_submission(schema, None, MultiDict()) == {"topics": []}


def test_text_is_trimmed_blank_answers_are_left_out_and_unknown_fields_ignored() -> None:
    schema, ui = _load("respond")
    form = MultiDict({"response": "  Line one\r\nLine two \n", "remedy_offered": "   ",
                      "outcome": "upheld", "is_admin": "true", "compensation_amount": ""})
    assert parse_submission(schema, ui, form) == {
        "response": "Line one\nLine two", "outcome": "upheld"}


def test_a_date_and_time_is_kept_as_entered_for_the_server_to_interpret() -> None:
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    form = MultiDict({"at": "2024-05-01T09:30"})
    assert parse_submission(schema, None, form) == {"at": "2024-05-01T09:30"}


def test_hidden_fields_are_read_like_any_other_of_their_type() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "b": {"type": "boolean"}}}
    ui = {"n": {"ui:widget": "hidden"}, "b": {"ui:widget": "hidden"}}
    form = MultiDict({"n": "7", "b": "false"})
    assert parse_submission(schema, ui, form) == {"n": 7, "b": False}


def test_what_was_parsed_is_shown_back_the_same() -> None:
    schema, ui = _load("respond")
    form = MultiDict({"outcome": "not_upheld", "response": "No.", "compensation_amount": "0.5"})
    page = _page(schema, ui, parse_submission(schema, ui, form))
    assert _one(page, './/input[@value="not_upheld"]').get("checked") is not None
    assert _by_id(page, "f-compensation_amount").get("value") == "0.5"


# --- What cannot be drawn ---------------------------------------------------------------------


def _form_with(field: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"a": field}}


@pytest.mark.parametrize("field, says", [
    ({"type": "object"}, "nested objects"),
    ({"type": "string", "oneOf": [{"const": "a"}]}, "labelled choices"),
    ({"type": "string", "oneOf": [{"const": 1, "title": "One"}]}, "const must be a string"),
    ({"type": "string", "format": "uri"}, "format 'uri'"),
    ({"oneOf": [{"type": "string"}]}, "oneOf"),
    ({"type": "string", "anyOf": [{"maxLength": 3}]}, "anyOf"),
    ({"type": "string", "allOf": [{"maxLength": 3}]}, "allOf"),
    ({"$ref": "#/$defs/name"}, "$ref"),
    ({"type": "string", "if": {"maxLength": 1}, "then": {"minLength": 1}}, "if/then"),
    ({"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
     "list of single values"),
    ({"type": "array", "items": {"type": "string", "enum": ["x"]}, "additionalItems": False},
     "additionalItems"),
    ({"type": ["string", "null"]}, "single type"),
])
def test_fields_formkit_cannot_draw_are_named_with_the_reason(
        field: dict[str, Any], says: str) -> None:
    problems = unsupported(_form_with(field))
    assert problems and all(p.startswith("a: ") for p in problems)
    assert any(says in p for p in problems), problems


def test_a_form_that_is_not_an_object_of_fields_is_refused() -> None:
    assert unsupported({"type": "string"})
    assert unsupported({"type": "object"})
    problems = unsupported({"type": "object", "properties": {},
                            "patternProperties": {"^x": {"type": "string"}}})
    assert any("patternProperties" in p for p in problems)


@pytest.mark.parametrize("ui, says", [
    ({"a": {"ui:widget": "colour"}}, "'colour' is not supported"),
    ({"a": {"ui:widget": "checkboxes"}}, "does not fit"),
    ({"b": {"ui:widget": "textarea"}}, "does not fit"),
    ({"ui:order": ["a", "ghost", "*"]}, "'ghost'"),
    ({"ui:order": ["a"]}, "leaves out 'b'"),
    ({"a": {"ui:autofocus": "yes"}}, "must be true or false"),
    ({"d": {"ui:widget": "textarea"}}, "format 'date'"),
])
def test_a_ui_schema_that_does_not_fit_the_form_is_refused(ui: dict[str, Any], says: str) -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": "string"}, "b": {"type": "string", "enum": ["x", "y"]},
        "d": {"type": "string", "format": "date"}}}
    assert unsupported(schema, None) == []
    problems = unsupported(schema, ui)
    assert any(says in p for p in problems), problems


def test_every_supported_widget_on_a_field_it_fits_is_accepted() -> None:
    schema = {"type": "object", "required": ["s"], "properties": {
        "s": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^[a-z]+$"},
        "e": {"type": "string", "enum": ["x"]},
        "n": {"type": "number", "enum": [1, 2.5]},
        "b": {"type": "boolean", "const": True},
        "c": {"type": "array", "items": {"type": "string", "enum": ["x"]}, "uniqueItems": True,
              "minItems": 1, "maxItems": 1, "default": ["x"]}}}
    ui = {"ui:order": ["*"], "s": {"ui:widget": "textarea", "ui:placeholder": "abc"},
          "e": {"ui:widget": "radio"}, "n": {"ui:widget": "select"},
          "b": {"ui:widget": "hidden", "ui:help": "Set for you."},
          "c": {"ui:widget": "checkboxes"}}
    assert unsupported(schema, ui) == []
