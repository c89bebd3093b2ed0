"""Deploy checks of a form's UI schema (react-jsonschema-form's keys that formkit draws).

A key formkit does not act on but that only changes how react-jsonschema-form looks
(ui:classNames, say) is a warning; anything that would change what is asked is refused.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from .fields import FIELD_UI_KEYS, FITTING, OPTIONS, SUBMIT_KEY, WIDGETS, declared, kind

FORM = "_form: "  # a problem of the whole form, not of one field
ORDER = "ui:order: "  # a problem of the order of the fields
# ui:title and ui:description of the whole form are read where a form has a voice of its own
# (services/staff_voice.py); a task page shows the schema's title.
FORM_KEYS = {"ui:order", SUBMIT_KEY, "ui:title", "ui:description"}
_STRINGS = ("ui:help", "ui:placeholder", "ui:title", "ui:description", "ui:autocomplete")
_FLAGS = ("ui:autofocus", "ui:readonly", "ui:disabled")


def _submit_problems(options: Any) -> list[str]:
    """What is wrong with ui:submitButtonOptions (react-jsonschema-form's key, as SpiffArena)."""
    if not isinstance(options, dict):
        return [FORM + _("%(key)s must be an object", key=SUBMIT_KEY)]
    problems = [FORM + _("%(key)s is not supported; use submitText or props.className",
                         key=f"{SUBMIT_KEY}.{key}")
                for key in options if key not in ("submitText", "props")]
    if not isinstance(options.get("submitText", ""), str):
        problems.append(FORM + _("%(key)s must be a string", key=f"{SUBMIT_KEY}.submitText"))
    props = options.get("props", {})
    if not isinstance(props, dict) or set(props) - {"className"} or \
            not isinstance(props.get("className", ""), str):
        problems.append(FORM + _('%(key)s may only hold "className", a string',
                                 key=f"{SUBMIT_KEY}.props"))
    return problems


def _order_problems(properties: dict[str, Any], order: Any, where: str) -> list[str]:
    """What is wrong with a ui:order (of the form, or of a nested group's fields)."""
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        return [where + _("must be a list of field names")]
    problems = [where + _("names '%(field)s', which is not a field of the form", field=name)
                for name in order if name != "*" and name not in properties]
    problems += [where + _("lists '%(field)s' more than once", field=name)
                 for name in sorted({n for n in order if order.count(n) > 1})]
    if "*" not in order:
        problems += [where + _("leaves out '%(field)s'; list it or add '*'", field=name)
                     for name in properties if name not in order]
    return problems


class _Walk:
    """One walk over a UI schema, its nested groups included: refusals and warnings apart."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def form(self, properties: dict[str, Any], ui: Any) -> None:
        """The UI schema of the whole form."""
        if not isinstance(ui, dict):
            self.problems.append(FORM + _("the UI schema must be an object"))
            return
        if "ui:order" in ui:
            self.problems += _order_problems(properties, ui["ui:order"], ORDER)
        self.problems += _submit_problems(ui.get(SUBMIT_KEY, {}))
        self.problems += [FORM + _("%(key)s must be a string", key=key)
                          for key in ("ui:title", "ui:description")
                          if key in ui and not isinstance(ui[key], str)]
        for key in ui:
            if key.startswith("ui:") and key not in FORM_KEYS:
                self.look(FORM.rstrip(": "), key)
        self.fields(properties, ui, "")

    def look(self, where: str, key: str) -> None:
        """A key that only changes how the form looks: said, and the form drawn without it."""
        self.warnings.append(f"{where}: " + _("'%(key)s' only changes how the form looks in "
                                               "SpiffArena; Plaint draws the form without it",
                                               key=key))

    def fields(self, properties: dict[str, Any], ui: dict[str, Any], path: str) -> None:
        """The entries of a form's (or group's) fields."""
        for name, entry in ui.items():
            if name.startswith("ui:"):
                continue
            where = path + name
            if name not in properties:
                self.problems.append(f"{where}: " + _("the UI schema describes a field the "
                                                      "form does not have"))
            elif not isinstance(entry, dict):
                self.problems.append(f"{where}: " + _("the UI schema entry must be an object"))
            else:
                self.field(properties[name], entry, where)

    def field(self, spec: Any, entry: dict[str, Any], where: str) -> None:
        """One field's entry; a nested group's entry holds its fields' entries too."""
        field_kind = kind(spec)
        inner: dict[str, Any] = {}
        if field_kind == "object":
            inner = declared(spec)
        elif field_kind == "rows":
            items = entry.get("items", {})
            if not isinstance(items, dict):
                self.problems.append(f"{where}: " + _("items must be an object of the row's "
                                                      "field entries"))
            else:
                self.fields(declared(spec["items"]), items, f"{where}.items.")
        elif field_kind == "values":
            items = entry.get("items", {})
            if not isinstance(items, dict):
                self.problems.append(f"{where}: " + _("items must be an object of UI keys "
                                                      "for each entry"))
            else:
                self.field(spec["items"], items, f"{where}.items")
        for key, value in entry.items():
            if not key.startswith("ui:"):
                if field_kind == "object":
                    self.fields(inner, {key: value}, where + ".")
                elif not (field_kind in ("rows", "values") and key == "items"):
                    self.problems.append(f"{where}: " + _("'%(key)s' is not a UI key of this "
                                                          "field", key=key))
            elif key not in FIELD_UI_KEYS:
                self.look(where, key)
        self.values(spec, entry, where, inner)

    def values(self, spec: Any, entry: dict[str, Any], where: str,
               inner: dict[str, Any]) -> None:
        """The values of a field's UI keys: right type, fitting the field."""
        say = f"{where}: "
        self.problems += [say + _("%(key)s must be a string", key=key)
                          for key in _STRINGS if key in entry and not isinstance(entry[key], str)]
        self.problems += [say + _("%(key)s must be true or false", key=key)
                          for key in _FLAGS if key in entry and not isinstance(entry[key], bool)]
        names = entry.get("ui:enumNames")
        if "ui:enumNames" in entry and (not isinstance(names, list) or not all(
                isinstance(n, str) for n in names)):
            self.problems.append(say + _("ui:enumNames must be a list of labels"))
        if "ui:order" in entry:
            self.problems += _order_problems(inner, entry["ui:order"], say + ORDER)
        options = entry.get("ui:options", {})
        if not isinstance(options, dict):
            self.problems.append(say + _("ui:options must be an object"))
        else:
            for key in options:
                if key not in OPTIONS:
                    self.look(where, f"ui:options.{key}")
        self.problems += [say + p for p in _widget_problems(spec, entry)]


def _widget_problems(spec: Any, entry: dict[str, Any]) -> list[str]:
    if "ui:widget" not in entry:
        return []
    wanted = entry["ui:widget"]
    if not isinstance(wanted, str) or wanted not in WIDGETS:
        return [_("ui:widget '%(widget)s' is not supported; use one of %(widgets)s",
                  widget=wanted, widgets=", ".join(sorted(WIDGETS)))]
    field_kind = kind(spec)
    if wanted not in FITTING[field_kind]:
        fitting = ", ".join(sorted(FITTING[field_kind])) or _("none")
        return [_("ui:widget '%(widget)s' does not fit this field; fitting widgets: "
                  "%(widgets)s", widget=wanted, widgets=fitting)]
    if wanted == "textarea" and "format" in spec:
        return [_("ui:widget 'textarea' does not fit a field with format '%(format)s'",
                  format=spec["format"])]
    return []


def ui_problems(properties: dict[str, Any], ui: Any) -> list[str]:
    """Every reason the UI schema does not fit the form."""
    if ui is None:
        return []
    walk = _Walk()
    walk.form(properties, ui)
    return walk.problems


def ui_warnings(ui: Any) -> list[str]:
    """The UI keys formkit draws without (they only change how react-jsonschema-form looks).

    Read from the UI schema alone: every entry that is not a ui: key is a field's.
    """
    if not isinstance(ui, dict):
        return []
    walk = _Walk()
    walk.form(_fields_of(ui), ui)
    return walk.warnings


def _fields_of(ui: dict[str, Any]) -> dict[str, Any]:
    """A stand-in schema with the fields a UI schema describes, groups and rows included."""
    fields: dict[str, Any] = {}
    for name, entry in ui.items():
        if name.startswith("ui:") or not isinstance(entry, dict):
            continue
        items = entry.get("items")
        if isinstance(items, dict) and items and all(k.startswith("ui:") for k in items):
            # The entries of a list of single values.
            fields[name] = {"type": "array", "items": {"type": "string"}}
        elif isinstance(items, dict) and not any(k.startswith("ui:") for k in items):
            fields[name] = {"type": "array", "items": {"type": "object",
                                                        "properties": _fields_of(items)}}
        elif any(not k.startswith("ui:") for k in entry):
            fields[name] = {"type": "object", "properties": _fields_of(entry)}
        else:
            fields[name] = {"type": "string"}
    return fields
