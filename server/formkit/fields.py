"""What formkit reads from a form: the kind of each field, its choices, widget and order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from .conditions import layout

# A string field whose choices are an administered code list's codes: "x-codeList":
# "products". JSON Schema validators and react-jsonschema-form ignore "x-" keywords; the
# server offers the list's active codes and checks answers against the list.
CODE_LIST = "x-codeList"
# The entries of each code list a form names: (code, label, offered now).
CodeLists = Mapping[str, Sequence[tuple[str, str, bool]]]

# react-jsonschema-form's widgets that formkit draws (SpiffArena's forms use these). A date
# widget is a browser date picker; "alt-date" (three selects there) is the same picker here.
_TEXTS = {"textarea", "hidden", "password", "email", "uri", "date", "date-time", "alt-date",
          "alt-datetime", "text"}
_NUMBERS = {"hidden", "updown", "range", "text"}
WIDGETS = _TEXTS | _NUMBERS | {"radio", "select", "checkboxes", "checkbox"}
# The UI keys of one field that formkit acts on (ui:options' own keys: OPTIONS).
FIELD_UI_KEYS = {"ui:widget", "ui:help", "ui:placeholder", "ui:title", "ui:description",
                 "ui:autofocus", "ui:readonly", "ui:disabled", "ui:emptyValue",
                 "ui:autocomplete", "ui:enumNames", "ui:options", "ui:order"}
OPTIONS = {"rows", "inline", "label", "orderable", "addable", "removable", "inputType"}
INPUT_TYPES = {"tel", "email", "url", "search", "text"}
SUBMIT_KEY = "ui:submitButtonOptions"
# The widget each kind of field gets by default, and the ui:widget values that fit it.
DEFAULT_WIDGET = {"string": "text", "enum": "select", "number": "number", "integer": "number",
                  "boolean": "checkbox", "choices": "checkboxes", "object": "object",
                  "rows": "rows", "values": "values", "": "text"}
FITTING = {"string": _TEXTS, "enum": {"radio", "select", "hidden"},
           "number": _NUMBERS, "integer": _NUMBERS,
           "boolean": {"radio", "select", "hidden", "checkbox"},
           "choices": {"checkboxes", "select", "hidden"}, "object": set(), "rows": set(),
           "values": set(), "": set()}
# What a fitting ui:widget draws: the same control under another name, or a kind of input.
_SAME = {"updown": "number", "text": "text", "alt-date": "date", "alt-datetime": "date-time",
         "uri": "url"}


def is_object(spec: Any) -> TypeGuard[dict[str, Any]]:
    """A group of fields: "type": "object", or "properties" without a type (as
    react-jsonschema-form, and so SpiffArena's forms, read it)."""
    if not isinstance(spec, dict):
        return False
    return spec.get("type") == "object" or (
        "type" not in spec and isinstance(spec.get("properties"), dict))


def kind(spec: Any) -> str:
    """The kind of field: string, enum, number, integer, boolean, choices (a list of options
    to tick), rows (a list of groups of fields), values (a list of single values, one per
    row), object, or '' for none."""
    if not isinstance(spec, dict):
        return ""
    declared = spec.get("type")
    if declared == "array":
        items = spec.get("items")
        # A list of groups of fields (react-jsonschema-form's array of objects): rows.
        if is_object(items):
            return "rows"
        # A list of plain values without options to tick: one input per row.
        return "values" if isinstance(items, dict) and not offers(items) else "choices"
    if is_object(spec):
        return "object"
    if declared in ("string", "number", "integer") and ("enum" in spec or labelled(spec)):
        return "enum"
    if declared == "string" and CODE_LIST in spec:
        return "enum"
    return declared if declared in ("string", "number", "integer", "boolean") else ""


def offers(spec: dict[str, Any]) -> bool:
    """Whether a field lists its options (enum, labelled choices or a code list)."""
    return "enum" in spec or labelled(spec) is not None or CODE_LIST in spec


def labelled(spec: dict[str, Any]) -> list[Any] | None:
    """The oneOf/anyOf list of a field, when it has one."""
    for key in ("oneOf", "anyOf"):
        if isinstance(spec.get(key), list):
            return list(spec[key])
    return None


def choices(spec: Any) -> list[tuple[Any, str | None]]:
    """(value, label) of each option of an enum field or list of choices; label None if none."""
    if not isinstance(spec, dict):
        return []
    source = spec.get("items", {}) if spec.get("type") == "array" else spec
    if not isinstance(source, dict):
        return []
    found = labelled(source)
    if found is not None:
        return [(o.get("const"), o.get("title") if isinstance(o.get("title"), str) else None)
                for o in found if isinstance(o, dict)]
    options = source.get("enum")
    if not isinstance(options, list):
        return []
    # Labels of a plain enum, as react-jsonschema-form reads them (and translations give).
    names = source.get("enumNames")
    if isinstance(names, list) and len(names) == len(options):
        return [(v, n if isinstance(n, str) and n else None) for v, n in zip(options, names,
                                                                            strict=True)]
    return [(v, None) for v in options]


def widget(spec: Any, entry: Any) -> str:
    """The widget a field is drawn with; a ui:widget that does not fit falls back to the default."""
    field_kind = kind(spec)
    wanted = entry.get("ui:widget") if isinstance(entry, dict) else None
    if isinstance(wanted, str) and wanted in FITTING[field_kind]:
        if field_kind == "choices" and wanted == "select":
            return "multiselect"
        if wanted in ("text", "updown") or (wanted == "checkbox" and field_kind == "boolean"):
            return DEFAULT_WIDGET[field_kind]
        return _SAME.get(wanted, str(wanted))
    return DEFAULT_WIDGET[field_kind]


def options(entry: Any) -> dict[str, Any]:
    """A field's ui:options, or {} when it has none."""
    found = entry.get("ui:options") if isinstance(entry, dict) else None
    return found if isinstance(found, dict) else {}


def with_ui(spec: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A field as the UI schema shows it: ui:title, ui:description and ui:enumNames applied."""
    out = dict(spec)
    for key in ("title", "description"):
        text = entry.get("ui:" + key)
        if isinstance(text, str) and text.strip():
            out[key] = text
    names = entry.get("ui:enumNames")
    if isinstance(names, list) and isinstance(spec.get("enum"), list):
        out["enumNames"] = names
    elif isinstance(names, list) and isinstance(spec.get("items"), dict):
        out["items"] = {**spec["items"], "enumNames": names}
    return out


def with_ui_texts(schema: dict[str, Any], ui: Any) -> dict[str, Any]:
    """A form with each field's ui:title, ui:description and ui:enumNames applied, groups
    and rows included: how the history names what the form recorded."""
    properties = schema.get("properties")
    if not isinstance(ui, dict) or not isinstance(properties, dict):
        return schema
    out = {}
    for name, spec in properties.items():
        entry = field_ui(ui, name)
        if isinstance(spec, dict) and entry:
            spec = with_ui(spec, entry)
            items = spec.get("items")
            if is_object(spec):
                spec = with_ui_texts(spec, entry)
            elif is_object(items) and isinstance(entry.get("items"), dict):
                spec = {**spec, "items": with_ui_texts(items, entry["items"])}
        out[name] = spec
    return {**schema, "properties": out}


def field_ui(ui: Any, name: str) -> dict[str, Any]:
    """The UI schema entry for one field, or {} when there is none."""
    entry = ui.get(name) if isinstance(ui, dict) else None
    return entry if isinstance(entry, dict) else {}


def declared(schema: Any) -> dict[str, dict[str, Any]]:
    """Every field a form declares, also those only inside a condition's branch."""
    return layout(schema).fields


def field_order(schema: dict[str, Any], ui: dict[str, Any] | None) -> list[str]:
    """Field names in display order: ui:order, with '*' standing for the rest in schema order."""
    names = list(declared(schema))
    order = ui.get("ui:order") if isinstance(ui, dict) else None
    if not isinstance(order, list):
        return names
    order = [n for n in order if isinstance(n, str)]
    listed = [n for n in dict.fromkeys(order) if n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest  # a missing '*' is reported by unsupported(); still show every field
    star = order.index("*")
    before = [n for n in listed if order.index(n) < star]
    return before + rest + [n for n in listed if order.index(n) > star]


def submit_options(ui: Any) -> tuple[str | None, str | None]:
    """The submit button's text and CSS classes the UI schema asks for, if any."""
    options = ui.get(SUBMIT_KEY) if isinstance(ui, dict) else None
    if not isinstance(options, dict):
        return None, None
    props = options.get("props")
    css = props.get("className") if isinstance(props, dict) else None
    text = options.get("submitText")
    return (text if isinstance(text, str) and text else None,
            css if isinstance(css, str) and css else None)


def code_list(spec: Any) -> str | None:
    """The code list a field takes its choices from, if it names one."""
    name = spec.get(CODE_LIST) if isinstance(spec, dict) else None
    return name if isinstance(name, str) else None


def with_code_list(spec: dict[str, Any], lists: CodeLists, value: Any) -> dict[str, Any]:
    """A code-list field as labelled choices: the codes offered now, and the code the value
    already holds even if it is switched off (an old case keeps its answer)."""
    name = code_list(spec)
    if name is None:
        return spec
    options = [{"const": code, "title": label} for code, label, offered in lists.get(name, ())
               if offered or code == value]
    return {**{k: v for k, v in spec.items() if k != CODE_LIST}, "oneOf": options}
