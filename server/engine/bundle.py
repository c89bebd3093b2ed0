"""Reading a process bundle (BPMN, DMN and form files) into a Bundle ready to deploy.

Everything that can be found wrong with a diagram is found at deploy time and reported
with the file, the element id and the line: SpiffWorkflow's own parsing and XSD
validation here, plus the checks it does not make (bundle_checks.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from ..formkit.refs import inline
from .bundle_build import build_all, called_specs, main_process
from .bundle_checks import (
    OUTSIDE_LANES,
    Checker,
    DeployIssue,
    check_code,
    check_decision_tables,
    check_lanes,
    check_references,
    check_tasks,
)
from .bundle_files import (
    MODEL_FILE,
    ignore_unused,
    index_ids,
    message_started,
    read_model_info,
    used_files,
)
from .reports import check_report_properties
from .serializer import dump_specs
from .timer_checks import check_due_in, check_timers_and_loops
from .translations import language_of, read_translations
from .xmlsafe import UnsafeXMLError, parse_xml


class BundleError(Exception):
    """A bundle that cannot be deployed; `issues` lists every problem found.

    `process_id` and `forms` are what could be read before the checks stopped (None and
    {} when the process itself could not be built), so callers can add their own checks.
    """

    def __init__(self, issues: list[DeployIssue], process_id: str | None = None,
                 forms: dict[str, dict[str, Any]] | None = None,
                 warnings: list[DeployIssue] | None = None) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues
        self.process_id = process_id
        self.forms = forms or {}
        # Files left out because no process uses them (said, never a refusal).
        self.warnings = warnings or []


@dataclass
class Bundle:
    """A parsed, checked process ready to become a version."""

    process_id: str
    process_name: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    files: dict[str, bytes]
    forms: dict[str, dict[str, Any]]
    spec_json: str
    role_map: dict[str, str] = field(default_factory=dict)
    # The role of tasks outside any lane (also role_map[OUTSIDE_LANES]); None: there are none.
    default_role: str | None = None
    # Files left out because no process uses them (said, never a refusal).
    warnings: list[DeployIssue] = field(default_factory=list)


def load_bundle(
    files: dict[str, bytes],
    resolve_role: Callable[[str], str | None],
    *,
    max_file_bytes: int = 2 * 1024 * 1024,
    clock_kinds: tuple[str, ...] = (),
    min_timer_period: float = 60.0,
    default_role: str | None = None,
    fallback_role: str | None = None,
) -> Bundle:
    """Parse and check a bundle; raise BundleError listing every problem.

    `clock_kinds` are the deadline kinds the escalation policy knows: a literal kind in
    deadline(...), reminder(...) or next_level(...) must be one of them.
    `min_timer_period` is the shortest a cycle timer, or the only timer of a loop, may
    wait (PLAINT_MIN_TIMER_PERIOD, see timer_checks.py).
    Tasks outside any lane go to `default_role` when it is given (chosen at deploy), else
    to the role of the lane the start event is in (the initiator's), else `fallback_role`.
    """
    checker = Checker(dict(files), resolve_role, max_file_bytes, clock_kinds)
    built = _load(checker, min_timer_period)
    if built is not None:
        _route_outside_lanes(checker, built, default_role, fallback_role)
    if checker.issues or built is None:
        if not checker.issues:
            checker.add("(bundle)", None, None, _("the bundle could not be read"))
        # In reading order, file by file; what concerns the whole bundle comes last.
        checker.issues.sort(key=lambda i: (i.file.startswith("("), i.file, i.line or 0))
        raise BundleError(checker.issues, built[0] if built else None, checker.forms,
                          checker.warnings)
    return _bundle(checker, *built)



def _route_outside_lanes(c: Checker, built: Loaded, chosen: str | None,
                         fallback: str | None) -> None:
    """Give the tasks outside any lane a role of the version, or say why there is none."""
    if not c.outside_lanes:
        return
    if chosen:
        role = c.resolve_role(chosen)
        if role is None:
            c.add("(bundle)", None, None,
                  _("the default role '%(role)s' chosen for tasks outside any lane is not a "
                    "role", role=chosen))
            return
    else:
        starts = [ts for ts in built[1].task_specs.values()
                  if type(ts).__name__ == "StartEvent" and getattr(ts, "lane", None)]
        role = c.resolve_role(starts[0].lane) if starts else None
        role = role or (c.resolve_role(fallback) if fallback else None)
        if role is None:
            c.at(c.outside_lanes[0], _("nobody can work this task: put it in a lane, set "
                                       "%(property)s or choose a default role at deploy",
                                       property="candidateRole"))
            return
    built[3][OUTSIDE_LANES] = role
    for lane in c.unmapped_lanes - {""}:
        built[3][lane] = role  # the lane's tasks (runtime looks the lane name up first)


def not_checked(why: str) -> str:
    """Said when a later stage cannot run, so nobody takes the list for all there is."""
    return _("%(why)s, so the tasks, forms and roles of the process were not checked yet: "
             "fix the problems above and check again", why=why)


Loaded = tuple[str, BpmnProcessSpec, dict[str, BpmnProcessSpec], dict[str, str]]


def _load(c: Checker, min_timer_period: float) -> Loaded | None:
    """Run every check that can run, past every failure; the process built, or None.

    Every file is read; the files the process does not use are left out with a warning
    (bundle_files.py); every used file that could be read gets the checks that need only
    its XML, whatever is wrong elsewhere; every process that SpiffWorkflow can build gets
    its tasks, forms and roles checked, even when another could not be built.
    """
    if not any(name.endswith(".bpmn") for name in c.files):
        c.add("(bundle)", None, None,
              _("no .bpmn file: a process needs at least one diagram"))
    read_issues = {name: _read(c, name, data) for name, data in sorted(c.files.items())}
    info = read_model_info(c)
    ignore_unused(c, used_files(c, info), read_issues)
    index_ids(c)
    for name, tree in c.trees.items():
        check_code(c, name, tree)
        if name.endswith(".dmn"):
            check_decision_tables(c, name, tree)
        else:
            check_references(c, name, tree)
            check_timers_and_loops(c, name, tree, min_timer_period)
            check_due_in(c, name, tree)
            check_report_properties(c.add, name, tree)
    check_lanes(c)
    unread = sorted(n for n in c.files if n.endswith((".bpmn", ".dmn")) and n not in c.trees)
    built = build_all(c) if any(n.endswith(".bpmn") for n in c.trees) else None
    # Every process that could be built is checked, whichever process calls it.
    role_map = check_tasks(c, list(built.specs.values())) if built else {}
    if unread:
        c.add("(bundle)", None, None, not_checked(
            _("%(files)s cannot be read", files=", ".join(unread))))
        return None
    if built is None:
        return None  # said above: no diagram
    by_message = message_started(c)
    process_id = main_process(c, built, info, set(by_message))
    if process_id is None:
        c.add("(bundle)", None, None, not_checked(_("there is no one main process to build")))
        return None
    if process_id not in built.specs:
        c.add("(bundle)", None, None,
              not_checked(_("the diagrams could not be built into a process")))
        return None
    subprocess_specs = called_specs(c, built, process_id)
    # A process started by a message (a corrective action) runs as a case of its own:
    # kept with its own called processes beside the main one's, in the same version.
    for started in sorted(by_message):
        more = called_specs(c, built, started)
        if started in built.specs and more is not None and subprocess_specs is not None:
            subprocess_specs[started] = built.specs[started]
            subprocess_specs.update(more)
    if subprocess_specs is None:
        c.add("(bundle)", None, None,
              not_checked(_("the diagrams could not be built into a process")))
        return None
    return process_id, built.specs[process_id], subprocess_specs, role_map


def _bundle(c: Checker, process_id: str, spec: BpmnProcessSpec,
            subprocess_specs: dict[str, BpmnProcessSpec], role_map: dict[str, str]) -> Bundle:
    return Bundle(
        process_id=process_id,
        process_name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        files=dict(c.files),
        forms=c.forms,
        spec_json=dump_specs(spec, subprocess_specs),
        role_map=role_map,
        default_role=role_map.get(OUTSIDE_LANES),
        warnings=list(c.warnings),
    )


def _read(c: Checker, name: str, data: bytes) -> list[DeployIssue]:
    """Read one file of the bundle; the problems found in it."""
    before = len(c.issues)
    if name.endswith((".bpmn", ".dmn")):
        _read_xml(c, name, data)
    elif language_of(name):
        _read_translations(c, name, data)
    elif name == MODEL_FILE:
        pass  # read_model_info
    elif name.endswith(".json"):
        _read_form(c, name, data)
    else:
        c.add(name, None, None, _("unknown file type: use .bpmn, .dmn or .json (forms, "
                                  "translations.<language>.json)"))
    return c.issues[before:]


def _read_xml(c: Checker, name: str, data: bytes) -> None:
    try:
        # DMN tables crash SpiffWorkflow's parser if they contain comments.
        tree = parse_xml(data, max_bytes=c.max_file_bytes, strip_comments=name.endswith(".dmn"))
    except UnsafeXMLError as exc:
        c.add(name, None, exc.line, str(exc))
        return
    c.trees[name] = tree


def _read_translations(c: Checker, name: str, data: bytes) -> None:
    """Check a translation file (translations.py); it stays in the files, never a form."""
    for problem in read_translations(data, c.max_file_bytes)[1]:
        c.add(name, None, None, problem)


def _read_form(c: Checker, name: str, data: bytes) -> None:
    if len(data) > c.max_file_bytes:
        c.add(name, None, None, _("the form is larger than %(limit)s bytes",
                                  limit=f"{c.max_file_bytes:,}"))
        return
    try:
        schema = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        c.add(name, None, None, _("the form is not UTF-8 text"))
        return
    except json.JSONDecodeError as exc:
        c.add(name, None, exc.lineno, _("not valid JSON: %(error)s (column %(column)d)",
                                        error=exc.msg, column=exc.colno))
        return
    except RecursionError:
        c.add(name, None, None, _("the form nests too deeply"))
        return
    if not isinstance(schema, dict):
        c.add(name, None, None, _("a form file must hold a JSON object"))
        return
    # A form's own $refs are written out once, here, as for every other reader (refs.py).
    c.forms[name] = inline(schema)
