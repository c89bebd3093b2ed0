"""The controls of a JSON Schema form as accessible Bootstrap 5 HTML, one field at a time."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from .datetimes import wall_time
from .fields import INPUT_TYPES, choices, kind, options

_MARK = Markup(' <span class="text-danger" aria-hidden="true">*</span>')
_INPUT_TYPES = {"email": "email", "date": "date", "date-time": "datetime-local", "uri": "url"}
# Widgets drawn as an <input> of their own type (react-jsonschema-form's names).
_TYPED = {"date": "date", "date-time": "datetime-local", "password": "password",
          "email": "email", "url": "url", "range": "range"}
# Browsers blank a value their input type cannot hold, so such a value is shown as text.
_VALID = {
    "number": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?"),
    "date": re.compile(r"\d{4,}-\d\d-\d\d"),
    "datetime-local": re.compile(r"\d{4,}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,3})?)?"),
}


def html_attrs(attrs: dict[str, Any]) -> Markup:
    """HTML attributes, escaped; True gives a bare attribute, None or False leaves it out."""
    # Plain strings of escaped parts: Markup.format costs ~10 us a call, and a form has many.
    return Markup("".join(  # noqa: S704 - every part is escaped here
        f" {escape(key)}" if value is True else f' {escape(key)}="{escape(str(value))}"'
        for key, value in attrs.items() if value is not None and value is not False))


def tag(name: str, attrs: dict[str, Any], content: Markup | str | None = None) -> Markup:
    """One element; without content it is a void element like <input>."""
    opened = f"<{escape(name)}{html_attrs(attrs)}>"
    if content is None:
        return Markup(opened)  # noqa: S704 - escaped above
    return Markup(f"{opened}{escape(content)}</{escape(name)}>")  # noqa: S704 - escaped


def option_label(value: Any) -> str:
    """What a person sees for an enum value: 'partly_upheld' becomes 'Partly upheld'."""
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def text(value: Any) -> str:
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
        return value is option or text(value) == text(option)
    return value == option or text(value) == text(option)


def _is_true(value: Any) -> bool:
    return value is True or value in ("true", "on")


@dataclass
class Field:
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
    how: str = "text"  # the widget (fields.widget)
    # Whether the browser may insist on an answer: not inside a row or an optional group,
    # which may be left blank as a whole (the server then drops it).
    enforce: bool = True
    # The organisation's zone: a date and time is shown as its wall clock there.
    zone: tzinfo | None = None

    @property
    def label(self) -> str:
        """The field's title, or its name when it has none."""
        title = self.spec.get("title")
        return title if isinstance(title, str) and title.strip() else self.name.split(".")[-1]

    @property
    def help(self) -> str | None:
        """The description and ui:help together (SpiffArena forms write " " for none)."""
        found = [t.strip() for t in (self.spec.get("description"), self.ui.get("ui:help"))
                 if isinstance(t, str) and t.strip()]
        return " ".join(dict.fromkeys(found)) or None

    @property
    def readonly(self) -> bool:
        """Whether the UI schema shows the value without letting it be changed."""
        return self.ui.get("ui:readonly") is True or self.ui.get("ui:disabled") is True

    @property
    def label_css(self) -> str:
        """ui:options label false hides the label from sight; screen readers still read it."""
        return " visually-hidden" if options(self.ui).get("label") is False else ""

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
        complete = self.ui.get("ui:autocomplete")
        return {"class": css + (" is-invalid" if invalid else ""), "id": self.id,
                "name": self.name, **extra, "required": self.needed and self.enforce,
                "readonly": self.readonly, "autofocus": self.ui.get("ui:autofocus") is True,
                "autocomplete": complete if isinstance(complete, str) else None,
                "aria-describedby": self.described_by, "aria-invalid": invalid and "true"}



def label_text(field: Field, mark: bool, said: bool = False) -> Markup:
    """The label with its required mark; `said` adds words for groups the browser cannot mark."""
    sign = _MARK
    if said:
        # For groups the browser cannot mark as required, screen readers still need to hear it.
        sign += Markup(' <span class="visually-hidden">({})</span>').format(_("required"))
    if field.toggles:
        return escape(field.label) + tag("span", {"data-required-mark": True,
                                                   "hidden": not mark}, sign)
    return escape(field.label) + (sign if mark else Markup(""))


def notes(field: Field) -> Markup:
    """The help text and the error messages under a field."""
    parts = []
    if field.help:
        parts.append(tag("div", {"class": "form-text", "id": field.id + "-help"}, field.help))
    if field.errors:
        said = Markup('<span class="visually-hidden">{}</span> ').format(_("Error:"))
        messages = Markup("<br>").join(said + escape(m) for m in field.errors)
        parts.append(tag("div", {"class": "invalid-feedback d-block", "id": field.id + "-error"},
                          messages))
    return Markup("\n").join(parts)


def _block(field: Field, label: Markup, control: Markup) -> Markup:
    return tag("div", {"class": "mb-3"},
                Markup("\n").join(p for p in (label, control, notes(field)) if p))


def _label(field: Field) -> Markup:
    return tag("label", {"class": "form-label" + field.label_css, "for": field.id},
               label_text(field, field.needed))


def _input(field: Field) -> Markup:
    spec = field.spec
    value = text(field.value)
    if kind(spec) in ("number", "integer"):
        limits = _number_limits(spec)
        attrs = field.control("form-control", type="number", value=value, min=limits[0],
                              max=limits[1], step="1" if kind(spec) == "integer" else "any")
        if field.how == "range":
            attrs.update({"type": "range", "class": "form-range", "min": limits[0] or "0",
                          "max": limits[1] or "100"})
    else:
        fmt = spec.get("format")
        input_type = _INPUT_TYPES.get(fmt, "text") if isinstance(fmt, str) else "text"
        wanted = options(field.ui).get("inputType")
        input_type = _TYPED.get(field.how) or (wanted if wanted in INPUT_TYPES else input_type)
        attrs = field.control("form-control", type=input_type,
                              value=value, minlength=spec.get("minLength"),
                              maxlength=spec.get("maxLength"))
    if attrs["type"] == "datetime-local":
        value = attrs["value"] = _wall_clock(field, value)
    valid = _VALID.get(attrs["type"])
    if value and valid and not valid.fullmatch(value):
        for limit in ("min", "max", "step"):
            attrs.pop(limit, None)
        attrs["type"] = "text"
        if valid is _VALID["number"]:
            attrs["inputmode"] = "decimal"
    if attrs["type"] == "datetime-local" and len(value) > len("2026-12-06T14:30"):
        # With seconds the default step (a minute) would stop the browser from sending it.
        attrs["step"] = "any"
    if attrs["type"] in ("text", "email", "number", "tel", "url", "search", "password"):
        attrs["placeholder"] = field.placeholder
    return _block(field, _label(field), tag("input", attrs))


def _wall_clock(field: Field, value: str) -> str:
    """A stored instant as the organisation's wall time: browsers blank a value with an offset."""
    shown = wall_time(field.value, field.zone)
    return value if shown is None else shown


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
    return (None if low is None else text(low)), (None if high is None else text(high))


def _textarea(field: Field) -> Markup:
    rows = options(field.ui).get("rows")
    rows = rows if isinstance(rows, int) and not isinstance(rows, bool) and rows > 0 else 5
    attrs = field.control("form-control", rows=str(rows), minlength=field.spec.get("minLength"),
                          maxlength=field.spec.get("maxLength"), placeholder=field.placeholder)
    # Browsers drop one newline straight after <textarea>, so the text starts on the next line.
    content = Markup("\n") + escape(text(field.value))
    return _block(field, _label(field), tag("textarea", attrs, content))


def _choices(field: Field) -> list[tuple[str, str]]:
    """(value, label) pairs for an enum or labelled choices, or Yes/No for a boolean."""
    if kind(field.spec) == "boolean":
        return [("true", _("Yes")), ("false", _("No"))]
    return [(text(v), label or option_label(v)) for v, label in choices(field.spec)]


def _picked(field: Field, option: str) -> bool:
    values = field.value if isinstance(field.value, list) else [field.value]
    return any(_same(v, option) for v in values if v is not None)


def _select(field: Field) -> Markup:
    many = kind(field.spec) == "choices"
    shown = [] if many else [tag("option", {"value": ""}, _("Choose…"))]
    shown += [tag("option", {"value": value, "selected": _picked(field, value)}, label)
              for value, label in _choices(field)]
    attrs = field.control("form-select", multiple=many)
    attrs["disabled"] = attrs.pop("readonly")
    html = tag("select", attrs, Markup("\n").join(shown))
    return _block(field, _label(field), _fixed(field, html))


def _fixed(field: Field, html: Markup) -> Markup:
    """A read-only choice: browsers cannot lock a select or a box, so it is disabled (and
    not sent) and hidden inputs carry the value the form was opened with."""
    if not field.readonly:
        return html
    values = field.value if isinstance(field.value, list) else [field.value]
    return html + Markup("").join(tag("input", {"type": "hidden", "name": field.name,
                                                "value": text(v)})
                                  for v in values if v is not None)


def _group(field: Field, input_type: str, choices: Iterable[tuple[str, str]]) -> Markup:
    """A fieldset of radios or checkboxes; the first takes the field's own id."""
    invalid = bool(field.errors)
    # A required attribute on each checkbox would demand every box be ticked.
    native = field.needed and field.enforce and input_type == "radio"
    legend = label_text(field, field.needed, said=input_type != "radio")
    rows = [tag("legend", {"class": "form-label fs-6" + field.label_css}, legend)]
    inline = " form-check-inline" if options(field.ui).get("inline") is True else ""
    for index, (value, label) in enumerate(choices, start=1):
        option_id = field.id if index == 1 else f"{field.id}-{index}"
        box = tag("input", {
            "class": "form-check-input" + (" is-invalid" if invalid else ""), "type": input_type,
            "id": option_id, "name": field.name, "value": value,
            "checked": _picked(field, value), "required": native,
            "disabled": field.readonly, "aria-invalid": invalid and "true",
            "autofocus": index == 1 and field.ui.get("ui:autofocus") is True})
        said = tag("label", {"class": "form-check-label", "for": option_id}, label)
        rows.append(tag("div", {"class": "form-check" + inline}, box + said))
    if field.readonly:
        rows.append(_fixed(field, Markup("")))
    below = notes(field)
    if below:
        rows.append(below)
    return tag("fieldset", {"class": "mb-3", "aria-describedby": field.described_by},
                Markup("\n").join(rows))


def _radios(field: Field) -> Markup:
    return _group(field, "radio", _choices(field))


def _checkboxes(field: Field) -> Markup:
    return _group(field, "checkbox", _choices(field))


def _checkbox(field: Field) -> Markup:
    """A single yes/no box; only a consent box (const true) must be ticked."""
    consent = field.spec.get("const") is True
    attrs = field.control("form-check-input", type="checkbox", value="true",
                          checked=_is_true(field.value))
    attrs["required"] = consent and field.enforce
    attrs["disabled"] = attrs.pop("readonly")
    box = _fixed(field, tag("input", attrs))
    label = tag("label", {"class": "form-check-label", "for": field.id},
                 label_text(field, consent))
    return _block(field, Markup(""), tag("div", {"class": "form-check"}, box + label))


def _hidden(field: Field) -> Markup:
    values = field.value if isinstance(field.value, list) else [field.value]
    return Markup("\n").join(
        tag("input", {"type": "hidden", "id": field.id if i == 0 else None,
                       "name": field.name, "value": text(v)})
        for i, v in enumerate(values))


DRAW: dict[str, Callable[[Field], Markup]] = {
    "text": _input, "number": _input, "textarea": _textarea, "select": _select,
    "multiselect": _select, "radio": _radios, "checkbox": _checkbox,
    "checkboxes": _checkboxes, "hidden": _hidden, **{how: _input for how in _TYPED},
}
