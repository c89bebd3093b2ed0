"""Deploy checks of a form's UI schema (react-jsonschema-form's keys that formkit draws)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from .fields import FIELD_UI_KEYS, FITTING, SUBMIT_KEY, WIDGETS, kind

FORM = "_form: "  # a problem of the whole form, not of one field
ORDER = "ui:order: "  # a problem of the order of the fields


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


def ui_problems(properties: dict[str, Any], ui: Any) -> list[str]:
    """Every reason the UI schema does not fit the form."""
    if ui is None:
        return []
    if not isinstance(ui, dict):
        return [FORM + _("the UI schema must be an object")]
    problems = []
    order = ui.get("ui:order")
    if "ui:order" in ui:
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            problems.append(ORDER + _("must be a list of field names"))
        else:
            for name in order:
                if name != "*" and name not in properties:
                    problems.append(ORDER + _("names '%(field)s', which is not a field of the "
                                              "form", field=name))
            for name in {n for n in order if order.count(n) > 1}:
                problems.append(ORDER + _("lists '%(field)s' more than once", field=name))
            if "*" not in order:
                for name in properties:
                    if name not in order:
                        problems.append(ORDER + _("leaves out '%(field)s'; list it or add '*'",
                                                  field=name))
    problems += _submit_problems(ui.get(SUBMIT_KEY, {}))
    for name, entry in ui.items():
        if name in ("ui:order", SUBMIT_KEY):
            continue
        if name.startswith("ui:"):
            problems.append(FORM + _("'%(key)s' is not supported; only ui:order and %(submit)s "
                                     "apply to the form", key=name, submit=SUBMIT_KEY))
            continue
        if name not in properties:
            problems.append(f"{name}: " + _("the UI schema describes a field the form does "
                                            "not have"))
            continue
        if not isinstance(entry, dict):
            problems.append(f"{name}: " + _("the UI schema entry must be an object"))
            continue
        problems += [f"{name}: " + _("'%(key)s' is not supported; use ui:widget, ui:help or "
                                     "ui:placeholder", key=key)
                     for key in entry if key not in FIELD_UI_KEYS]
        for key in ("ui:help", "ui:placeholder"):
            if key in entry and not isinstance(entry[key], str):
                problems.append(f"{name}: " + _("%(key)s must be a string", key=key))
        problems += [f"{name}: {p}" for p in _widget_problems(properties[name], entry)]
    return problems


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
