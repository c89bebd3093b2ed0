"""Deploy checks of a form's UI schema (react-jsonschema-form's keys that formkit draws)."""

from __future__ import annotations

from typing import Any

from .fields import FIELD_UI_KEYS, FITTING, SUBMIT_KEY, WIDGETS, kind


def _submit_problems(options: Any) -> list[str]:
    """What is wrong with ui:submitButtonOptions (react-jsonschema-form's key, as SpiffArena)."""
    if not isinstance(options, dict):
        return [f"_form: {SUBMIT_KEY} must be an object"]
    problems = [f"_form: {SUBMIT_KEY}.{key} is not supported; use submitText or props.className"
                for key in options if key not in ("submitText", "props")]
    if not isinstance(options.get("submitText", ""), str):
        problems.append(f"_form: {SUBMIT_KEY}.submitText must be a string")
    props = options.get("props", {})
    if not isinstance(props, dict) or set(props) - {"className"} or \
            not isinstance(props.get("className", ""), str):
        problems.append(f'_form: {SUBMIT_KEY}.props may only hold "className", a string')
    return problems


def ui_problems(properties: dict[str, Any], ui: Any) -> list[str]:
    """Every reason the UI schema does not fit the form."""
    if ui is None:
        return []
    if not isinstance(ui, dict):
        return ["_form: the UI schema must be an object"]
    problems = []
    order = ui.get("ui:order")
    if "ui:order" in ui:
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            problems.append("ui:order: must be a list of field names")
        else:
            for name in order:
                if name != "*" and name not in properties:
                    problems.append(f"ui:order: names '{name}', which is not a field of the form")
            for name in {n for n in order if order.count(n) > 1}:
                problems.append(f"ui:order: lists '{name}' more than once")
            if "*" not in order:
                for name in properties:
                    if name not in order:
                        problems.append(f"ui:order: leaves out '{name}'; list it or add '*'")
    problems += _submit_problems(ui.get(SUBMIT_KEY, {}))
    for name, entry in ui.items():
        if name in ("ui:order", SUBMIT_KEY):
            continue
        if name.startswith("ui:"):
            problems.append(f"_form: '{name}' is not supported; only ui:order and "
                            f"{SUBMIT_KEY} apply to the form")
            continue
        if name not in properties:
            problems.append(f"{name}: the UI schema describes a field the form does not have")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{name}: the UI schema entry must be an object")
            continue
        problems += [f"{name}: '{key}' is not supported; use ui:widget, ui:help or "
                     "ui:placeholder" for key in entry if key not in FIELD_UI_KEYS]
        for key in ("ui:help", "ui:placeholder"):
            if key in entry and not isinstance(entry[key], str):
                problems.append(f"{name}: {key} must be a string")
        problems += [f"{name}: {p}" for p in _widget_problems(properties[name], entry)]
    return problems


def _widget_problems(spec: Any, entry: dict[str, Any]) -> list[str]:
    if "ui:widget" not in entry:
        return []
    wanted = entry["ui:widget"]
    if not isinstance(wanted, str) or wanted not in WIDGETS:
        return [f"ui:widget '{wanted}' is not supported; use one of "
                + ", ".join(sorted(WIDGETS))]
    field_kind = kind(spec)
    if wanted not in FITTING[field_kind]:
        fitting = ", ".join(sorted(FITTING[field_kind])) or "none"
        return [f"ui:widget '{wanted}' does not fit this field; fitting widgets: {fitting}"]
    if wanted == "textarea" and "format" in spec:
        return [f"ui:widget 'textarea' does not fit a field with format '{spec['format']}'"]
    return []
