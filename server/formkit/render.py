"""Drawing a JSON Schema form's fields as accessible Bootstrap 5 HTML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from . import conditions
from .fields import CodeLists, field_order, field_ui, options, widget, with_code_list, with_ui
from .parse import ADD, REMOVE
from .widgets import DRAW, Field, label_text, notes, option_label, tag

__all__ = ["FormFields", "option_label", "render_fields"]


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
    zone: tzinfo | None = None


def _object(field: Field, drawing: _Drawing, path: str, groups: tuple[str, ...]) -> Markup:
    """A nested object as a fieldset whose legend is its title; its fields inside."""
    rows = [tag("legend", {"class": "form-label fs-6 fw-semibold" + field.label_css},
                label_text(field, field.needed))]
    if field.help or field.errors:
        rows.append(notes(field))
    value = field.value if isinstance(field.value, dict) else {}
    rows += _draw_all(field.spec, field.ui, value, drawing, path + ".", (*groups, field.label),
                      field.enforce and field.needed)
    return tag("fieldset", {"class": "mb-3 border rounded p-3", "id": field.id,
                            "aria-describedby": field.described_by},
               Markup("\n").join(rows))


def _named(groups: tuple[str, ...], label: str) -> str:
    """How the summary names a field inside groups: "Witness 2 of 3, Name"."""
    for group in reversed(groups):
        label = _("%(group)s, %(field)s", group=group, field=label)
    return label


def _count(spec: dict[str, Any], key: str) -> int | None:
    found = spec.get(key)
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def row_count(spec: dict[str, Any], value: Any) -> int:
    """How many rows a repeatable group shows: its answers, at least minItems, at least one."""
    given = len(value) if isinstance(value, list) else 0
    return max(given, _count(spec, "minItems") or 0, 1)


def _row_name(items: dict[str, Any], number: int, count: int) -> str:
    """What a row is called: "Item 2 of 3", or its items' title in place of "Item"."""
    title = items.get("title")
    if isinstance(title, str) and title.strip():
        return _("%(title)s %(number)d of %(count)d", title=title, number=number, count=count)
    return _("Item %(number)d of %(count)d", number=number, count=count)


# One row of a list: its element, the element's attributes and what goes inside it.
Row = tuple[str, dict[str, Any], list[Markup]]


def _rows(field: Field, drawing: _Drawing, path: str, groups: tuple[str, ...]) -> Markup:
    """An array of objects as a fieldset of rows, each a fieldset of its own ("Item 2 of 3").

    Adding and removing rows works without JavaScript: the buttons submit the form, which
    comes back with what was typed and one row more or less (web/forms.py).
    """
    items = field.spec["items"]
    item_ui = field.ui.get("items") if isinstance(field.ui.get("items"), dict) else {}
    value = field.value if isinstance(field.value, list) else []

    def row(index: int, count: int) -> Row:
        name = _row_name(items, index + 1, count)
        data = value[index] if index < len(value) and isinstance(value[index], dict) else {}
        inner = [tag("legend", {"class": "form-label fs-6"}, name)]
        inner += _draw_all(items, item_ui, data, drawing, f"{path}.{index}.", (*groups, name),
                           False)
        return "fieldset", {"class": "border rounded p-3 mb-3", "data-row": index,
                            "id": f"{drawing.prefix}{path}.{index}"}, inner

    return _repeated(field, path, value, row)


def _values(field: Field, drawing: _Drawing, path: str, groups: tuple[str, ...]) -> Markup:
    """An array of single values as a fieldset of rows, one input each ("Item 2 of 3").

    Rows are added and removed as the rows of a repeatable group are, without JavaScript;
    each row's input is named "list.1", so an error on an entry sits under that entry.
    """
    items = field.spec["items"]
    item_ui: dict[str, Any] = field.ui["items"] if isinstance(field.ui.get("items"), dict) \
        else {}
    how = widget(items, item_ui)
    # An unticked box would be an answer in every blank row: a yes/no entry is a select.
    how = "select" if how == "checkbox" else how
    value = field.value if isinstance(field.value, list) else []

    def row(index: int, count: int) -> Row:
        key = f"{path}.{index}"
        name = _row_name(items, index + 1, count)
        entry = Field(name=key, spec={**items, "title": name}, ui=item_ui,
                      id=drawing.prefix + key, needed=False,
                      value=value[index] if index < len(value) else None,
                      errors=_messages(drawing.errors.get(key)), how=how, enforce=False,
                      zone=drawing.zone)
        drawing.used.add(key)
        said = _named((*groups, field.label), name)
        drawing.summary += [("#" + entry.id, f"{said}: {m}") for m in entry.errors]
        return "div", {"class": "border rounded p-3 mb-3", "data-row": index}, \
            [DRAW[how](entry)]

    return _repeated(field, path, value, row)


def _repeated(field: Field, path: str, value: list[Any],
              row: Callable[[int, int], Row]) -> Markup:
    """The frame both kinds of list share: the legend, the rows drawn by `row(index,
    count)` each with its "Remove" button, and "Add another", within minItems/maxItems."""
    count = row_count(field.spec, value)
    wanted = options(field.ui)
    low, high = _count(field.spec, "minItems") or 0, _count(field.spec, "maxItems")
    legend_id = field.id + "-legend"
    parts = [tag("legend", {"class": "form-label fs-6 fw-semibold" + field.label_css,
                            "id": legend_id}, label_text(field, field.needed, said=True))]
    if field.help or field.errors:
        parts.append(notes(field))
    for index in range(count):
        element, attributes, inner = row(index, count)
        if wanted.get("removable") is not False and count > max(low, 1):
            inner.append(tag("button", {
                "type": "submit", "name": REMOVE, "value": f"{path}.{index}",
                "formnovalidate": True, "class": "btn btn-outline-secondary btn-sm",
                "data-row-remove": True}, _("Remove item %(number)d", number=index + 1)))
        parts.append(tag(element, attributes, Markup("\n").join(inner)))
    if wanted.get("addable") is not False and (high is None or count < high):
        parts.append(tag("div", {}, tag("button", {
            "type": "submit", "name": ADD, "value": path, "formnovalidate": True,
            "class": "btn btn-outline-primary btn-sm", "aria-describedby": legend_id,
            "data-row-add": True}, _("Add another"))))
    return tag("fieldset", {"class": "mb-3", "id": field.id, "data-rows": path,
                            "data-max-rows": high, "data-min-rows": low,
                            "aria-describedby": field.described_by},
               Markup("\n").join(parts))


def _draw_all(spec: dict[str, Any], ui: dict[str, Any] | None, values: dict[str, Any],
              drawing: _Drawing, path: str, groups: tuple[str, ...] = (),
              enforce: bool = True) -> list[Markup]:
    """Every field of a form or nested object, in display order, conditions marked."""
    found = conditions.layout(spec)
    required = set(spec.get("required") or []) if path else found.required
    drawn: list[Markup] = []
    for name in field_order(spec, ui):
        value = values.get(name)
        entry = field_ui(ui, name)
        inner = with_ui(with_code_list(found.fields[name], drawing.lists, value), entry)
        how = widget(inner, entry)
        key = path + name
        toggles = not path and name in found.required_when
        field = Field(name=key, spec=inner, ui=entry, id=drawing.prefix + key,
                      needed=how != "hidden" and (name in required or (
                          toggles and conditions.needed(found, name, values))),
                      value=inner.get("default") if value is None else value,
                      errors=_messages(drawing.errors.get(key)), toggles=toggles, how=how,
                      enforce=enforce, zone=drawing.zone)
        drawing.used.add(key)
        said = _named(groups, field.label)
        if how == "hidden":
            # Nobody can correct a hidden field, so its errors are only in the summary.
            drawing.summary += [(None, f"{said}: {m}") for m in field.errors]
        else:
            drawing.summary += [("#" + field.id, f"{said}: {m}") for m in field.errors]
        if how == "object":
            html = _object(field, drawing, key, groups)
        elif how == "rows":
            html = _rows(field, drawing, key, groups)
        elif how == "values":
            html = _values(field, drawing, key, groups)
        else:
            html = DRAW[how](field)
        drawn.append(_conditional(html, found, name) if not path else html)
    return drawn


def _conditional(html: Markup, found: conditions.Layout, name: str) -> Markup:
    """A field that a condition shows, or makes required, wrapped with that condition."""
    shown = found.shown_when.get(name)
    needs = found.required_when.get(name)
    if shown is None and not needs:
        return html
    return tag("div", {"data-shown-when": shown and conditions.page_json([shown]),
                       "data-required-when": needs and conditions.page_json(needs)}, html)


def render_fields(schema: dict[str, Any], ui: dict[str, Any] | None, values: dict[str, Any],
                  errors: dict[str, list[str]], *, prefix: str = "f-",
                  lists: CodeLists | None = None, zone: tzinfo | None = None) -> FormFields:
    """The form's fields as HTML, without <form>, submit button or CSRF: the caller adds those.

    Every field is drawn, also those a condition shows: without JavaScript a person sees
    them all and the server decides. The errors come back under their fields and, in
    `.summary`, as the entries of the error summary (templates/_error_summary.html).
    A field with `x-codeList` is a select of that list's entries in `lists`. Nested objects
    are fieldsets; arrays of objects are repeatable groups of rows (fields "list.0.name").
    A date and time with an offset is shown as the wall time in `zone`, the organisation's.
    """
    drawing = _Drawing(values or {}, errors or {}, prefix, [], set(), lists or {}, zone)
    drawn = _draw_all(schema, ui, drawing.values, drawing, "")
    # Form-level errors, and errors about names the form does not show, must not vanish.
    top = [(None, m) for m in _messages(drawing.errors.get("_form"))]
    top += [(None, f"{key}: {m}") for key, found in drawing.errors.items()
            if key != "_form" and key not in drawing.used for m in _messages(found)]
    out = FormFields(Markup("\n").join(drawn))
    out.summary = top + drawing.summary
    return out
