"""Checking a draft before it may become a version: every deploy-time check, as problems.

The bundle checks (server.engine.bundle_checks) find everything wrong inside the diagrams and
forms. On top of them the studio checks what would stop new cases from starting once
the draft is active: complaints are registered through the intake form named on the
start event (the default intake form when it names none), and every complaint needs the
complainant's name and a description.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from jsonschema import SchemaError
from jsonschema.validators import validator_for
from lxml import etree

from ...engine import BundleError, DeployIssue, load_bundle
from ...engine.xmlsafe import UnsafeXMLError, parse_xml
from ...formkit import unsupported
from ...formkit.dynamic import stand_in
from ...formkit.refs import inline
from .. import code_lists, policy
from ..users import list_roles
from .versions import role_resolver, service_problems

FORM_KEY = "formJsonSchemaFilename"
UI_KEY = "formUiSchemaFilename"
# What cases.start_case needs from every intake, whatever the form asks besides.
INTAKE_FIELDS = ("complainant_name", "description")


@dataclass(frozen=True)
class Problem:
    """One thing that stops a draft from being deployed, located for the editor."""

    file: str | None
    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The problem as the editor reads it."""
        return asdict(self)


def from_issue(issue: DeployIssue, roles: list[str]) -> Problem:
    """A bundle check's issue as a problem, with what to do about lanes that are not roles."""
    file = None if issue.file.startswith("(") else issue.file
    return Problem(file, issue.element_id, issue.line, _explain(issue, roles))


def _explain(issue: DeployIssue, roles: list[str]) -> str:
    """The issue's message, saying which roles there are when a lane or role is not one."""
    names = ", ".join(roles)
    kind, name = issue.subject or ("", "")
    if kind == "lane":
        return _("the lane '%(lane)s' is not a role: rename the lane to one of the roles "
                 "(%(roles)s), or ask an administrator to map it to a role under Admin → "
                 "Roles and lanes → Map a lane; then validate again", lane=name, roles=names)
    if kind == "candidateRole":
        return _("the candidateRole '%(role)s' is not a role: use one of %(roles)s",
                 role=name, roles=names)
    return issue.message


def check(files: dict[str, bytes], default_role: str | None = None) -> list[Problem]:
    """Every problem that would stop these files from being deployed; [] when they would go.

    `default_role` is the role chosen for tasks outside any lane (versions.deploy).
    """
    try:
        bundle = load_bundle(files, role_resolver(),
                             max_file_bytes=current_app.config["PLAINT_MAX_DIAGRAM_BYTES"],
                             clock_kinds=policy.KINDS,
                             min_timer_period=current_app.config["PLAINT_MIN_TIMER_PERIOD"],
                             default_role=default_role,
                             fallback_role=current_app.config["PLAINT_DEFAULT_TASK_ROLE"])
    except BundleError as exc:
        roles = [r.name for r in list_roles()]
        found = [from_issue(issue, roles) for issue in exc.issues]
        # The intake is checked as well whenever the process could be built.
        intake = intake_problems(files, exc.process_id, exc.forms) if exc.process_id else []
        return intake + found + _list_problems(exc.forms)
    except Exception as exc:  # a checker tripped on odd input: report it, never fail the save
        current_app.logger.exception("bundle check failed")
        return [Problem(None, None, None, _("the files could not be checked (%(error)s); look "
                                            "for unusual values, e.g. a $schema that is not a "
                                            "text", error=exc))]
    services = [from_issue(i, []) for i in service_problems(bundle, fresh=False)]
    return intake_problems(files, bundle.process_id, bundle.forms) + \
        _list_problems(bundle.forms) + services


def _list_problems(forms: dict[str, dict[str, Any]]) -> list[Problem]:
    """Form fields that name a code list Plaint does not have."""
    return [Problem(name, None, None, message)
            for name, message in code_lists.form_problems(forms)]


def _start_events(files: dict[str, bytes], process_id: str) -> list[tuple[str, etree._Element]]:
    """The start events directly in the process, with the file that holds each."""
    found = []
    for name, data in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        try:
            tree = parse_xml(data, max_bytes=len(data) + 1)
        except UnsafeXMLError:
            continue  # the bundle checks passed, so this does not happen
        for process in tree.iter("{*}process"):
            if process.get("id") == process_id:
                found += [(name, event) for event in process.findall("{*}startEvent")]
    return found


def _form_of(event: etree._Element) -> str | None:
    for prop in event.iterfind("{*}extensionElements/{*}properties/{*}property"):
        if prop.get("name") == FORM_KEY and prop.get("value"):
            return str(prop.get("value"))
    return None


def intake_problems(files: dict[str, bytes], process_id: str,
                    forms: dict[str, dict[str, Any]]) -> list[Problem]:
    """What would stop a new case from starting: an intake form without the basics.

    A start event without a form is no problem: the default intake form applies
    (default_intake.py), as it does for a deploy from the command line.
    """
    events = _start_events(files, process_id)
    with_form = [(name, event, _form_of(event)) for name, event in events if _form_of(event)]
    if not with_form:
        return []
    _file, event, form = with_form[0]
    properties = (forms.get(str(form)) or {}).get("properties") or {}
    missing = [f for f in INTAKE_FIELDS if f not in properties]
    if missing:
        return [Problem(str(form), event.get("id"), None,
                        _("the intake form %(file)s must have the fields %(fields)s: every "
                          "complaint is registered with the complainant's name and a "
                          "description", file=form, fields=", ".join(missing)))]
    return []


def _parse_json(text: str, what: str) -> tuple[Any, list[Problem]]:
    """The JSON of a form or UI schema (`what` says which, in the reader's language)."""
    try:
        return inline(json.loads(text)), []  # a form's own $refs written out (refs.py)
    except json.JSONDecodeError as exc:
        return None, [Problem(None, None, exc.lineno,
                              _("the %(what)s is not valid JSON: %(error)s (line %(line)d, "
                                "column %(column)d)", what=what, error=exc.msg,
                                line=exc.lineno, column=exc.colno))]
    except RecursionError:
        return None, [Problem(None, None, None, _("the %(what)s is nested too deeply",
                                                  what=what))]
    except ValueError as exc:  # e.g. a number of more digits than Python converts
        return None, [Problem(None, None, None, _("the %(what)s is not valid JSON: %(error)s",
                                                  what=what, error=exc))]


def form_problems(schema_text: str, ui_text: str) -> tuple[dict[str, Any], dict[str, Any] | None,
                                                           list[Problem]]:
    """A form and its UI schema as the task page would draw them, or why it cannot."""
    schema, problems = _parse_json(schema_text, _("form schema"))
    ui, ui_problems = _parse_json(ui_text, _("UI schema")) if ui_text.strip() else (None, [])
    problems += ui_problems
    if problems:
        return {}, None, problems
    if not isinstance(schema, dict):
        return {}, None, [Problem(None, None, None, _("the form schema must be a JSON object"))]
    if ui is not None and not isinstance(ui, dict):
        return {}, None, [Problem(None, None, None, _("the UI schema must be a JSON object"))]
    try:
        # Choices from task data are checked as the choices they become (formkit/dynamic.py).
        validator_for(schema).check_schema(stand_in(schema)[0])
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(top)"
        return {}, None, [Problem(None, None, None,
                                  _("not a valid JSON Schema at %(path)s: %(error)s",
                                    path=path, error=exc.message))]
    except TypeError:  # jsonschema looks "$schema" up in a dict: a list there is unhashable
        return {}, None, [Problem(None, None, None, _("$schema must be the URL of a JSON "
                                                      "Schema draft, as text"))]
    found = [Problem(None, None, None, message) for message in unsupported(schema, ui)]
    found += [Problem(None, None, None, message)
              for _name, message in code_lists.form_problems({"form": schema})]
    return (schema, ui, found) if not found else ({}, None, found)
