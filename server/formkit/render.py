"""Drawing a JSON Schema form's fields as accessible Bootstrap 5 HTML."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import conditions
from .fields import CodeLists, choices, field_order, field_ui, kind, widget, with_code_list

_MARK = Markup(' <span class="text-danger" aria-hidden="true">*</span>')
_INPUT_TYPES = {"email": "email", "date": "date", "date-time": "datetime-local"}
# Browsers blank a value their input type cannot hold, so such a value is shown as text.
_VALID = {
    "number": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?"),
    "date": re.compile(r"\d{4,}-\d\d-\d\d"),
    "datetime-local": re.compile(r"\d{4,}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,3})?)?"),
}


def _attrs(attrs: dict[str, Any]) -> Markup:
    """HTML attributes, escaped; True gives a bare attribute, None or False leaves it out."""
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(Markup(" {}").format(key))
        else:
            parts.append(Markup(' {}="{}"').format(key, str(value)))
    return Markup("").join(parts)


def _tag(name: str, attrs: dict[str, Any], content: Markup | str | None = None) -> Markup:
    """One element; without content it is a void element like <input>."""
    if content is None:
        return Markup("<{}{}>").format(name, _attrs(attrs))
    return Markup("<{}{}>{}</{}>").format(name, _attrs(attrs), content, name)


def option_label(value: Any) -> str:
    """What a person sees for an enum value: 'partly_upheld' becomes 'Partly upheld'."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def _text(value: Any) -> str:
    """A value as the text an input holds."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _same(value: Any, option: Any) -> bool:
    """Whether a shown value picks an option, whether it arrived typed or as text."""
    if isinstance(value, bool) or isinstance(option, bool):
        return value is option or _text(value) == _text(option)
    return value == option or _text(value) == _text(option)


def _is_true(value: Any) -> bool:
    return value is True or value in ("true", "on")


@dataclass
class _Field:
    """Everything needed to draw one field."""

    name: str
    spec: dict[str, Any]
    ui: dict[str, Any]
    id: str
    needed: bool
    value: Any
    errors: list[str]
    # Set when a condition decides whether the field is required: conditional.js then
    # shows or hides the marks and sets the required attribute as the answers change.
    toggles: bool = False

    @property
    def label(self) -> str:
        title = self.spec.get("title")
        return title if isinstance(title, str) and title else self.name

    @property
    def help(self) -> str | None:
        text = self.ui.get("ui:help") or self.spec.get("description")
        return text if isinstance(text, str) and text else None

    @property
    def described_by(self) -> str | None:
        ids = [self.id + "-help"] if self.help else []
        ids += [self.id + "-error"] if self.errors else []
        return " ".join(ids) or None

    @property
    def placeholder(self) -> str | None:
        text = self.ui.get("ui:placeholder")
        return text if isinstance(text, str) and text else None

    def control(self, css: str, **extra: Any) -> dict[str, Any]:
        """The attributes every single input, select or textarea shares."""
        invalid = bool(self.errors)
        return {"class": css + (" is-invalid" if invalid else ""), "id": self.id,
                "name": self.name, **extra, "required": self.needed,
                "aria-describedby": self.described_by, "aria-invalid": invalid and "true"}



def _label_text(field: _Field, mark: bool, said: bool = False) -> Markup:
    """The label with its required mark; `said` adds words for groups the browser cannot mark."""
    sign = _MARK
    if said:
        # For groups the browser cannot mark as required, screen readers still need to hear it.
        sign += Markup(' <span class="visually-hidden">({})</span>').format(_("required"))
    if field.toggles:
        return escape(field.label) + _tag("span", {"data-required-mark": True,
                                                   "hidden": not mark}, sign)
    return escape(field.label) + (sign if mark else Markup(""))


def _notes(field: _Field) -> Markup:
    """The help text and the error messages under a field."""
    parts = []
    if field.help:
        parts.append(_tag("div", {"class": "form-text", "id": field.id + "-help"}, field.help))
    if field.errors:
        said = Markup('<span class="visually-hidden">{}</span> ').format(_("Error:"))
        messages = Markup("<br>").join(said + escape(m) for m in field.errors)
        parts.append(_tag("div", {"class": "invalid-feedback d-block", "id": field.id + "-error"},
                          messages))
    return Markup("\n").join(parts)


def _block(field: _Field, label: Markup, control: Markup) -> Markup:
    return _tag("div", {"class": "mb-3"},
                Markup("\n").join(p for p in (label, control, _notes(field)) if p))


def _label(field: _Field) -> Markup:
    return _tag("label", {"class": "form-label", "for": field.id}, _label_text(field, field.needed))


def _input(field: _Field) -> Markup:
    spec = field.spec
    value = _text(field.value)
    if kind(spec) in ("number", "integer"):
        limits = _number_limits(spec)
        attrs = field.control("form-control", type="number", value=value, min=limits[0],
                              max=limits[1], step="1" if kind(spec) == "integer" else "any")
    else:
        fmt = spec.get("format")
        input_type = _INPUT_TYPES.get(fmt, "text") if isinstance(fmt, str) else "text"
        attrs = field.control("form-control", type=input_type,
                              value=value, minlength=spec.get("minLength"),
                              maxlength=spec.get("maxLength"))
    valid = _VALID.get(attrs["type"])
    if value and valid and not valid.fullmatch(value):
        for limit in ("min", "max", "step"):
            attrs.pop(limit, None)
        attrs["type"] = "text"
        if valid is _VALID["number"]:
            attrs["inputmode"] = "decimal"
    if attrs["type"] in ("text", "email", "number"):
        attrs["placeholder"] = field.placeholder
    return _block(field, _label(field), _tag("input", attrs))


def _number_limits(spec: dict[str, Any]) -> tuple[Any, Any]:
    """The min and max attributes, folding exclusive limits in for whole numbers."""
    low, high = spec.get("minimum"), spec.get("maximum")
    whole = kind(spec) == "integer"
    above, below = spec.get("exclusiveMinimum"), spec.get("exclusiveMaximum")
    if above is not None:
        above = math.floor(above) + 1 if whole else above
        low = above if low is None else max(low, above)
    if below is not None:
        below = math.ceil(below) - 1 if whole else below
        high = below if high is None else min(high, below)
    return (None if low is None else _text(low)), (None if high is None else _text(high))


def _textarea(field: _Field) -> Markup:
    attrs = field.control("form-control", rows="5", minlength=field.spec.get("minLength"),
                          maxlength=field.spec.get("maxLength"), placeholder=field.placeholder)
    # Browsers drop one newline straight after <textarea>, so the text starts on the next line.
    content = Markup("\n") + escape(_text(field.value))
    return _block(field, _label(field), _tag("textarea", attrs, content))


def _choices(field: _Field) -> list[tuple[str, str]]:
    """(value, label) pairs for an enum or labelled choices, or Yes/No for a boolean."""
    if kind(field.spec) == "boolean":
        return [("true", _("Yes")), ("false", _("No"))]
    return [(_text(v), label or option_label(v)) for v, label in choices(field.spec)]


def _picked(field: _Field, option: str) -> bool:
    values = field.value if isinstance(field.value, list) else [field.value]
    return any(_same(v, option) for v in values if v is not None)


def _select(field: _Field) -> Markup:
    many = kind(field.spec) == "choices"
    options = [] if many else [_tag("option", {"value": ""}, _("Choose…"))]
    options += [_tag("option", {"value": value, "selected": _picked(field, value)}, text)
                for value, text in _choices(field)]
    attrs = field.control("form-select", multiple=many)
    return _block(field, _label(field),
                  _tag("select", attrs, Markup("\n").join(options)))


def _group(field: _Field, input_type: str, choices: Iterable[tuple[str, str]]) -> Markup:
    """A fieldset of radios or checkboxes; the first takes the field's own id."""
    invalid = bool(field.errors)
    # A required attribute on each checkbox would demand every box be ticked.
    native = field.needed and input_type == "radio"
    legend = _label_text(field, field.needed, said=input_type != "radio")
    rows = [_tag("legend", {"class": "form-label fs-6"}, legend)]
    for index, (value, text) in enumerate(choices, start=1):
        option_id = field.id if index == 1 else f"{field.id}-{index}"
        box = _tag("input", {
            "class": "form-check-input" + (" is-invalid" if invalid else ""), "type": input_type,
            "id": option_id, "name": field.name, "value": value,
            "checked": _picked(field, value), "required": native,
            "aria-invalid": invalid and "true"})
        label = _tag("label", {"class": "form-check-label", "for": option_id}, text)
        rows.append(_tag("div", {"class": "form-check"}, box + label))
    notes = _notes(field)
    if notes:
        rows.append(notes)
    return _tag("fieldset", {"class": "mb-3", "aria-describedby": field.described_by},
                Markup("\n").join(rows))


def _radios(field: _Field) -> Markup:
    return _group(field, "radio", _choices(field))


def _checkboxes(field: _Field) -> Markup:
    return _group(field, "checkbox", _choices(field))


def _checkbox(field: _Field) -> Markup:
    """A single yes/no box; only a consent box (const true) must be ticked."""
    consent = field.spec.get("const") is True
    attrs = field.control("form-check-input", type="checkbox", value="true",
                          checked=_is_true(field.value))
    attrs["required"] = consent
    box = _tag("input", attrs)
    label = _tag("label", {"class": "form-check-label", "for": field.id},
                 _label_text(field, consent))
    return _block(field, Markup(""), _tag("div", {"class": "form-check"}, box + label))


def _hidden(field: _Field) -> Markup:
    values = field.value if isinstance(field.value, list) else [field.value]
    return Markup("\n").join(
        _tag("input", {"type": "hidden", "id": field.id if i == 0 else None,
                       "name": field.name, "value": _text(v)})
        for i, v in enumerate(values))


_DRAW: dict[str, Callable[[_Field], Markup]] = {
    "text": _input, "number": _input, "textarea": _textarea, "select": _select,
    "multiselect": _select, "radio": _radios, "checkbox": _checkbox,
    "checkboxes": _checkboxes, "hidden": _hidden,
}


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    return [str(e) for e in errors] if isinstance(errors, list | tuple) else []


class FormFields(Markup):
    """The fields' HTML, carrying the entries of the error summary shown above them."""

    summary: list[tuple[str | None, str]]


@dataclass
class _Drawing:
    """One form being drawn: its answers, errors, and what the summary will list."""

    values: dict[str, Any]
    errors: dict[str, list[str]]
    prefix: str
    summary: list[tuple[str | None, str]]
    used: set[str]
    lists: CodeLists


def _object(field: _Field, drawing: _Drawing, path: str) -> Markup:
    """A nested object as a fieldset whose legend is its title; its fields inside."""
    rows = [_tag("legend", {"class": "form-label fs-6 fw-semibold"},
                 _label_text(field, field.needed))]
    if field.help or field.errors:
        rows.append(_notes(field))
    value = field.value if isinstance(field.value, dict) else {}
    rows += _draw_all(field.spec, field.ui, value, drawing, path + ".")
    return _tag("fieldset", {"class": "mb-3 border rounded p-3", "id": field.id,
                             "aria-describedby": field.described_by},
                Markup("\n").join(rows))


def _draw_all(spec: dict[str, Any], ui: dict[str, Any] | None, values: dict[str, Any],
              drawing: _Drawing, path: str) -> list[Markup]:
    """Every field of a form or nested object, in display order, conditions marked."""
    found = conditions.layout(spec)
    required = set(spec.get("required") or []) if path else found.required
    drawn: list[Markup] = []
    for name in field_order(spec, ui):
        value = values.get(name)
        inner = with_code_list(found.fields[name], drawing.lists, value)
        entry = field_ui(ui, name)
        how = widget(inner, entry)
        key = path + name
        toggles = not path and name in found.required_when
        field = _Field(name=key, spec=inner, ui=entry, id=drawing.prefix + key,
                       needed=how != "hidden" and (name in required or (
                           toggles and conditions.needed(found, name, values))),
                       value=inner.get("default") if value is None else value,
                       errors=_messages(drawing.errors.get(key)), toggles=toggles)
        drawing.used.add(key)
        if how == "hidden":
            # Nobody can correct a hidden field, so its errors are only in the summary.
            drawing.summary += [(None, f"{field.label}: {m}") for m in field.errors]
        else:
            drawing.summary += [("#" + field.id, f"{field.label}: {m}") for m in field.errors]
        html = _object(field, drawing, key) if how == "object" else _DRAW[how](field)
        drawn.append(_conditional(html, found, name) if not path else html)
    return drawn


def _conditional(html: Markup, found: conditions.Layout, name: str) -> Markup:
    """A field that a condition shows, or makes required, wrapped with that condition."""
    shown = found.shown_when.get(name)
    needs = found.required_when.get(name)
    if shown is None and not needs:
        return html
    return _tag("div", {"data-shown-when": shown and conditions.page_json([shown]),
                        "data-required-when": needs and conditions.page_json(needs)}, html)


def render_fields(schema: dict[str, Any], ui: dict[str, Any] | None, values: dict[str, Any],
                  errors: dict[str, list[str]], *, prefix: str = "f-",
                  lists: CodeLists | None = None) -> FormFields:
    """The form's fields as HTML, without <form>, submit button or CSRF: the caller adds those.

    Every field is drawn, also those a condition shows: without JavaScript a person sees
    them all and the server decides. The errors come back under their fields and, in
    `.summary`, as the entries of the error summary (templates/_error_summary.html).
    A field with `x-codeList` is a select of that list's entries in `lists`.
    """
    drawing = _Drawing(values or {}, errors or {}, prefix, [], set(), lists or {})
    drawn = _draw_all(schema, ui, drawing.values, drawing, "")
    # Form-level errors, and errors about names the form does not show, must not vanish.
    top = [(None, m) for m in _messages(drawing.errors.get("_form"))]
    top += [(None, f"{key}: {m}") for key, found in drawing.errors.items()
            if key != "_form" and key not in drawing.used for m in _messages(found)]
    out = FormFields(Markup("\n").join(drawn))
    out.summary = top + drawing.summary
    return out
