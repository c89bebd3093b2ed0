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
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .bundle_checks import (
    OUTSIDE_LANES,
    Checker,
    DeployIssue,
    check_code,
    check_decision_tables,
    check_lanes,
    check_references,
    check_tasks,
    local_name,
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
                 forms: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues
        self.process_id = process_id
        self.forms = forms or {}


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
    checker = Checker(files, resolve_role, max_file_bytes, clock_kinds)
    built = _load(checker, min_timer_period)
    if built is not None:
        _route_outside_lanes(checker, built, default_role, fallback_role)
    if checker.issues or built is None:
        if not checker.issues:
            checker.add("(bundle)", None, None, _("the bundle could not be read"))
        # In reading order, file by file; what concerns the whole bundle comes last.
        checker.issues.sort(key=lambda i: (i.file.startswith("("), i.file, i.line or 0))
        raise BundleError(checker.issues, built[0] if built else None, checker.forms)
    return _bundle(checker, *built)



def _route_outside_lanes(c: Checker, built: Built, chosen: str | None,
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


def not_checked(why: str) -> str:
    """Said when a later stage cannot run, so nobody takes the list for all there is."""
    return _("%(why)s, so the tasks, forms and roles of the process were not checked yet: "
             "fix the problems above and check again", why=why)


Built = tuple[str, BpmnProcessSpec, dict[str, BpmnProcessSpec], dict[str, str]]


def _load(c: Checker, min_timer_period: float) -> Built | None:
    """Run every check that can run, stage by stage; the process built, or None.

    Each file is read; every file that could be read gets the checks that need only its
    XML (code, timers and loops, references, lanes, decision tables), whatever is wrong
    elsewhere; the process is built from the diagrams when they could all be read, and
    then its tasks, forms and roles are checked too.
    """
    if not any(name.endswith(".bpmn") for name in c.files):
        c.add("(bundle)", None, None,
              _("no .bpmn file: a process needs at least one diagram"))
    for name, data in sorted(c.files.items()):
        if name.endswith((".bpmn", ".dmn")):
            _read_xml(c, name, data)
        elif language_of(name):
            _read_translations(c, name, data)
        elif name.endswith(".json"):
            _read_form(c, name, data)
        else:
            c.add(name, None, None, _("unknown file type: use .bpmn, .dmn or .json (forms, "
                                      "translations.<language>.json)"))
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
    if unread:
        c.add("(bundle)", None, None, not_checked(
            _("%(files)s cannot be read", files=", ".join(unread))))
        return None
    if not any(name.endswith(".bpmn") for name in c.trees):
        return None  # said above: no diagram
    built = _build(c)
    if built is None:
        return None
    process_id, spec, subprocess_specs = built
    return process_id, spec, subprocess_specs, check_tasks(c, [spec, *subprocess_specs.values()])


def _build(c: Checker) -> tuple[str, BpmnProcessSpec, dict[str, BpmnProcessSpec]] | None:
    """The main process and its subprocesses as SpiffWorkflow parses them, or None."""
    before = len(c.issues)
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for name, tree in c.trees.items():
            if name.endswith(".bpmn"):
                parser.add_bpmn_xml(tree, filename=name)
            else:
                parser.add_dmn_xml(tree.getroot(), filename=name)
        process_id = _main_process(c, parser)
        if process_id is None:
            c.add("(bundle)", None, None,
                  not_checked(_("there is no one main process to build")))
            return None
        subprocess_specs = parser.get_subprocess_specs(process_id)
        # A process started by a message (a corrective action) runs as a case of its own:
        # kept with its own called processes beside the main one's, in the same version.
        for started in sorted(_message_started(c)):
            subprocess_specs[started] = parser.get_spec(started)
            subprocess_specs.update(parser.get_subprocess_specs(started))
        return process_id, parser.get_spec(process_id), subprocess_specs
    except ValidationException as exc:
        # After problems of the XML, SpiffWorkflow's complaint is most often the same one
        # again (a flow to nowhere); said once, with what it stops.
        if not before:
            _report_validation(c, exc)
    except Exception as exc:  # SpiffWorkflow raises bare errors on some malformed diagrams
        if not before:
            c.add("(bundle)", None, None,
                  _("the diagrams could not be read: %(error)s", error=exc))
    if before:
        c.add("(bundle)", None, None,
              not_checked(_("the diagrams could not be built into a process")))
    return None


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
    )


def _read_xml(c: Checker, name: str, data: bytes) -> None:
    try:
        # DMN tables crash SpiffWorkflow's parser if they contain comments.
        tree = parse_xml(data, max_bytes=c.max_file_bytes, strip_comments=name.endswith(".dmn"))
    except UnsafeXMLError as exc:
        c.add(name, None, exc.line, str(exc))
        return
    c.trees[name] = tree
    for elem in tree.iter():
        element_id = elem.get("id") if isinstance(elem.tag, str) else None
        if element_id:
            if element_id in c.where and local_name(elem.tag) not in ("definitions",):
                other = c.where[element_id][0]
                c.add(name, element_id, elem.sourceline,
                      _("the id '%(id)s' is also used in %(file)s: ids must be unique",
                        id=element_id, file=other))
            c.where[element_id] = (name, elem.sourceline)


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
    c.forms[name] = schema


def _message_started(c: Checker) -> set[str]:
    """The executable processes whose every start event waits for a message.

    Such a process is started by a message another process throws (or by hand), as a
    case of its own; it is never the one main process of the bundle.
    """
    found = set()
    for tree in c.trees.values():
        for process in tree.iter("{*}process"):
            if process.get("isExecutable") == "false":
                continue
            starts = process.findall("{*}startEvent")
            if starts and all(s.find("{*}messageEventDefinition") is not None for s in starts):
                found.add(process.get("id") or "")
    return found - {""}


def _main_process(c: Checker, parser: SpiffBpmnParser) -> str | None:
    called = {elem.get("calledElement") for tree in c.trees.values()
              for elem in tree.iter("{*}callActivity")}
    by_message = _message_started(c)
    candidates = [pid for pid in parser.get_process_ids()
                  if pid not in called and pid not in by_message]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        c.add("(bundle)", None, None,
              _('no executable process: set isExecutable="true" on one'))
    else:
        c.add("(bundle)", None, None,
              _('several top-level processes (%(processes)s): a bundle runs one; call the '
                'others from it or set isExecutable="false" on them',
                processes=", ".join(sorted(candidates))))
    return None


def _report_validation(c: Checker, exc: ValidationException) -> None:
    element_id = getattr(exc, "id", None) or None
    file = getattr(exc, "file_name", None) or "(bundle)"
    line = getattr(exc, "line_number", None) or None
    if element_id and element_id in c.where:
        file, found = c.where[element_id]
        line = line or found
    message = str(exc).split("\n")[0]
    if "we found two items" in message:
        message = _("a sequence flow or reference points at an element that does not exist")
    c.add(file, element_id, int(line) if line else None, message)

