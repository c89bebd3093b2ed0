"""The deploy checks of a bundle: everything SpiffWorkflow's parser does not check itself.

Expressions and scripts compile under the sandbox, literal timers parse, deadline kinds
exist, references point at elements that exist, forms exist and are valid JSON Schema
the server can render, lanes and candidate roles map to roles; a decision table without a
catch-all row is a warning. Each problem is noted on the Checker with its file, element and
line.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonschema import SchemaError
from jsonschema.validators import validator_for
from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from ..formkit import declared, unsupported
from ..formkit.dynamic import names as task_data_variables
from ..formkit.dynamic import stand_in
from .clocks import KIND_CALL
from .instructions import INSTRUCTIONS_KEY
from .instructions import problem as instructions_problem
from .sandbox import SandboxError, compile_expression, compile_script
from .script_names import unsupported_names

FORM_SCHEMA_KEY = "formJsonSchemaFilename"
FORM_UI_KEY = "formUiSchemaFilename"
ROLE_KEY = "candidateRole"
# The role_map key of the role that works tasks outside any lane (no lane or role is "*").
OUTSIDE_LANES = "*"

# What each piece of code is called in a message, in the reader's language.
_EXPRESSION_TAGS = {
    "conditionExpression": _l("condition"),
    "loopCardinality": _l("loop cardinality"),
    "completionCondition": _l("completion condition"),
    "condition": _l("condition"),
    "messagePayload": _l("message payload"),
    "messagePath": _l("correlation expression"),
}
_SCRIPT_TAGS = {"script": _l("script"), "preScript": _l("pre-script"),
                "postScript": _l("post-script")}
_TIMER_TAGS = {"timeDuration", "timeDate", "timeCycle"}

@dataclass(frozen=True)
class DeployIssue:
    """One thing wrong with a bundle, located as precisely as we can."""

    file: str
    element_id: str | None
    line: int | None
    message: str
    # What the message is about when a caller may explain it further: ("lane", name) or
    # ("candidateRole", name); the message itself is in the reader's language.
    subject: tuple[str, str] | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


@dataclass
class Checker:
    """A bundle as it is read, with every issue found in it so far."""

    files: dict[str, bytes]
    resolve_role: Callable[[str], str | None]
    max_file_bytes: int
    clock_kinds: tuple[str, ...] = ()
    issues: list[DeployIssue] = field(default_factory=list)
    trees: dict[str, etree._ElementTree] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    # Human tasks in no lane and without candidateRole: they go to the default role.
    outside_lanes: list[str] = field(default_factory=list)
    # The line of each element by file: ids may repeat across files (bundle_files.py).
    lines: dict[tuple[str, str], int | None] = field(default_factory=dict)
    # The file of the process being checked, to place an element found by id alone.
    file_hint: str | None = None
    # What a deploy goes through with but someone should know (files left out).
    warnings: list[DeployIssue] = field(default_factory=list)
    # Processes and decisions called but held by no file (said once, at the call).
    missing_calls: set[str] = field(default_factory=set)
    # Lanes whose name maps to no role: their tasks go to the default role, as outside lanes.
    unmapped_lanes: set[str] = field(default_factory=set)

    def add(self, file: str, element_id: str | None, line: int | None, message: str,
            subject: tuple[str, str] | None = None) -> None:
        """Note an issue in a file, at an element and line when known."""
        self.issues.append(DeployIssue(file, element_id, line, message, subject))

    def at(self, element_id: str, message: str,
           subject: tuple[str, str] | None = None) -> None:
        """Note an issue at an element, in the file and line it was read from."""
        if self.file_hint and (self.file_hint, element_id) in self.lines:
            file, line = self.file_hint, self.lines[(self.file_hint, element_id)]
        else:
            file, line = self.where.get(element_id, ("(bundle)", None))
        self.add(file, element_id, line, message, subject)


def local_name(tag: Any) -> str:
    """An XML tag without its namespace ('' for comments and processing instructions)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _owner_id(elem: etree._Element) -> str | None:
    """The id of the diagram element a piece of XML belongs to (not its event definition)."""
    node: etree._Element | None = elem
    while node is not None:
        if node.get("id") and not local_name(node.tag).endswith("EventDefinition"):
            return node.get("id")
        node = node.getparent()
    return None

def _check_form_schema(c: Checker, name: str, schema: dict[str, Any], element_id: str) -> None:
    if not isinstance(schema.get("$schema", ""), str):
        c.add(name, element_id, None,
              _('"$schema" must be the text of a JSON Schema dialect URI'))
        return
    try:
        # Choices from task data are checked as the choices they become (formkit/dynamic.py).
        validator_for(schema).check_schema(stand_in(schema)[0])
    except RecursionError:
        c.add(name, element_id, None, _("the form nests too deeply"))
        return
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(top)"
        c.add(name, element_id, None, _("not a valid JSON Schema at %(path)s: %(error)s",
                                         path=path, error=exc.message))
        return
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        c.add(name, element_id, None, _('a form schema needs "type": "object" and "properties"'))
        return
    # Fields declared only in a condition's branch become variables too.
    for prop in declared(schema):
        if not prop.isidentifier() or keyword.iskeyword(prop) or prop.startswith("_") \
                or prop == "typename":
            c.add(name, element_id, None,
                  _("field name '%(field)s' cannot be used in expressions: use letters, digits "
                    "and underscores, not starting with a digit or underscore", field=prop))


def check_code(c: Checker, name: str, tree: etree._ElementTree) -> None:
    """Every expression, script and timer compiles under the sandbox; literal timers parse."""
    for elem in tree.iter():
        tag = local_name(elem.tag)
        text = (elem.text or "").strip()
        if tag == "parameter" and elem.get("value"):
            _check_parameter(c, name, elem)
            continue
        if tag == INSTRUCTIONS_KEY and text:
            found = instructions_problem(elem.text or "")
            if found:
                c.add(name, _owner_id(elem), elem.sourceline, found)
            continue
        if not text or not (tag in _EXPRESSION_TAGS or tag in _SCRIPT_TAGS or tag in _TIMER_TAGS):
            continue
        if tag in ("condition",) and \
                local_name(elem.getparent().tag) != "conditionalEventDefinition":
            continue
        owner = _owner_id(elem)
        try:
            if tag in _SCRIPT_TAGS:
                compile_script(elem.text or "")
            else:
                compile_expression(text)
        except SandboxError as exc:
            kind = _SCRIPT_TAGS.get(tag) or _EXPRESSION_TAGS.get(tag) or _("timer expression")
            c.add(name, owner, elem.sourceline,
                  _("the %(kind)s is refused: %(error)s", kind=kind, error=exc))
            continue
        missing = unsupported_names(elem.text or "", tag in _SCRIPT_TAGS)
        if missing:
            kind = _SCRIPT_TAGS.get(tag) or _EXPRESSION_TAGS.get(tag) or _("timer expression")
            c.add(name, owner, elem.sourceline, _(
                "the %(kind)s uses %(names)s, which SpiffArena provides and Plaint does not "
                "(see README, Writing diagrams: script functions)", kind=kind,
                names=", ".join(missing)))
        if tag in _TIMER_TAGS:
            problem = _check_timer_literal(tag, text)
            if problem:
                c.add(name, owner, elem.sourceline, problem)
        for kind in KIND_CALL.findall(text) if c.clock_kinds else ():
            if kind not in c.clock_kinds:
                c.add(name, owner, elem.sourceline,
                      _("'%(kind)s' is not a deadline kind of the escalation policy: use one "
                        "of %(kinds)s", kind=kind, kinds=", ".join(c.clock_kinds)))


def _check_parameter(c: Checker, name: str, elem: etree._Element) -> None:
    """A service task's parameter value is an expression SpiffWorkflow evaluates."""
    try:
        compile_expression(elem.get("value") or "")
    except SandboxError as exc:
        c.add(name, _owner_id(elem), elem.sourceline,
              _("the parameter '%(parameter)s' is refused: %(error)s",
                parameter=elem.get("id"), error=exc))


_REFERENCE_ATTRS = ("sourceRef", "targetRef", "attachedToRef", "default", "messageRef",
                   "processRef")


def check_references(c: Checker, name: str, tree: etree._ElementTree) -> None:
    """Every reference between elements points at an element of the same file."""
    ids = {e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
    for elem in tree.iter():
        if not isinstance(elem.tag, str):
            continue
        for attr in _REFERENCE_ATTRS:
            target = elem.get(attr)
            if target and target not in ids:
                c.add(name, elem.get("id"), elem.sourceline,
                      _('%(attribute)s="%(target)s" points at an element that does not exist',
                        attribute=attr, target=target))
        if local_name(elem.tag) == "flowNodeRef" and (elem.text or "").strip() not in ids:
            c.add(name, _owner_id(elem), elem.sourceline,
                  _("the lane lists '%(element)s', which does not exist",
                    element=(elem.text or "").strip()))


def _check_timer_literal(tag: str, text: str) -> str | None:
    """Check a timer whose expression is a plain string, the common case."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None  # computed at run time; checked when it runs
    if not isinstance(value, str):
        return _('the timer expression %(expression)s must give a string such as "P2D"',
                 expression=text)
    try:
        if tag == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif tag == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                return _("the timer date %(value)s needs a UTC offset, e.g. %(value)s+00:00",
                         value=value)
    except Exception:
        examples = {"timeDuration": '"P2D" or "PT4H"', "timeCycle": '"R3/PT1H"',
                    "timeDate": '"2026-01-31T09:00:00+03:00"'}
        return _("the timer value %(value)s is not ISO 8601; use e.g. %(examples)s",
                 value=repr(value), examples=examples[tag])
    return None


def check_decision_tables(c: Checker, name: str, tree: etree._ElementTree) -> None:
    """Every input and cell compiles; a table that may answer no case is a warning."""
    for table in tree.iter("{*}decisionTable"):
        inputs = [(i.findtext("{*}inputExpression/{*}text") or "").strip()
                  for i in table.findall("{*}input")]
        for idx, expr in enumerate(inputs):
            if not expr:
                c.add(name, _owner_id(table), table.sourceline,
                      _("input column %(number)d has no expression", number=idx + 1))
                inputs[idx] = "None"
                continue
            try:
                compile_expression(expr)
            except SandboxError as exc:
                c.add(name, _owner_id(table), table.sourceline,
                      _("input expression %(expression)s is refused: %(error)s",
                        expression=repr(expr), error=exc))
        rules = table.findall("{*}rule")
        for rule in rules:
            for idx, entry in enumerate(rule.findall("{*}inputEntry")):
                text = (entry.findtext("{*}text") or "").strip()
                if text in ("", "-") or idx >= len(inputs):
                    continue
                _compile_dmn_entry(c, name, entry, inputs[idx], text)
            for entry in rule.findall("{*}outputEntry"):
                text = (entry.findtext("{*}text") or "").strip()
                if text:
                    _compile_cell(c, name, entry, text, text)
        policy = table.get("hitPolicy", "UNIQUE").upper()
        if policy != "COLLECT":
            last = rules[-1] if rules else None
            if last is None or any((e.findtext("{*}text") or "").strip() not in ("", "-")
                                   for e in last.findall("{*}inputEntry")):
                # SpiffArena deploys such tables; a case no rule matches stops at the
                # decision as an incident (engine/decisions.py) instead of running on.
                target = last if last is not None else table
                c.warnings.append(DeployIssue(
                    name, _owner_id(target), target.sourceline,
                    _("the decision table has no catch-all last row (every input '-'): a "
                      "case no rule matches stops at this decision as an incident")))


def _compile_dmn_entry(c: Checker, name: str, entry: etree._Element, input_expr: str,
                       text: str) -> None:
    # Mirror SpiffWorkflow's DMNEngine.evaluate: '?' stands for the input, a value is
    # compared with ==, an operator is appended to the input expression.
    if "?" in text:
        _compile_cell(c, name, entry, text, text.replace("?", "dmninputexpr"))
        return
    try:
        compile_expression(text)
        _compile_cell(c, name, entry, text, f"({input_expr}) == ({text})")
    except SandboxError:
        _compile_cell(c, name, entry, text, input_expr + text)


def _compile_cell(c: Checker, name: str, elem: etree._Element, text: str, expr: str) -> None:
    try:
        compile_expression(expr)
    except SandboxError as exc:
        c.add(name, _owner_id(elem), elem.sourceline,
              _("the cell %(cell)s is refused: %(error)s", cell=repr(text), error=exc))


def check_tasks(c: Checker, specs: list[BpmnProcessSpec]) -> dict[str, str]:
    """Check every task; return the lane and candidateRole names mapped to roles."""
    roles: dict[str, str] = {}
    for spec in specs:
        c.file_hint = getattr(spec, "file", None)
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue
            props = getattr(task_spec, "extensions", {}).get("properties", {})
            form = props.get(FORM_SCHEMA_KEY)
            if form:
                _check_form_ref(c, bpmn_id, form, props.get(FORM_UI_KEY))
                _check_task_data_choices(c, bpmn_id, form, getattr(task_spec, "manual", False))
            if not getattr(task_spec, "manual", False):
                continue
            # A task without a form shows its instructions and a "Done" button.
            # A lane that is no role routes like no lane (SpiffArena's lanes name people's
            # groups that need not exist here); check_lanes warns about it.
            unmapped = not task_spec.lane or c.resolve_role(task_spec.lane) is None
            if unmapped and not props.get(ROLE_KEY):
                c.outside_lanes.append(bpmn_id)
                continue
            role = _task_role(c, task_spec.lane, props.get(ROLE_KEY))
            if role is None:  # only a candidateRole can miss now: a lane that does routes out
                c.at(bpmn_id, _("the %(property)s '%(role)s' is not a role",
                                property=ROLE_KEY, role=props[ROLE_KEY]),
                     (ROLE_KEY, props[ROLE_KEY]))
            else:
                roles[props.get(ROLE_KEY) or task_spec.lane] = role
    return roles


def _task_role(c: Checker, lane: str | None, candidate: str | None) -> str | None:
    if candidate:
        return c.resolve_role(candidate)
    return c.resolve_role(lane) if lane else None


def _check_form_ref(c: Checker, bpmn_id: str, form: str, ui: str | None) -> None:
    # A file that is there but could not be read was reported when it was read.
    if ui and ui not in c.forms and ui not in c.files:
        c.at(bpmn_id, _("the UI schema '%(file)s' is not in the bundle", file=ui))
    if form not in c.forms:
        if form not in c.files:
            c.at(bpmn_id, _("the form '%(file)s' is not in the bundle", file=form))
        return
    before = len(c.issues)
    _check_form_schema(c, form, c.forms[form], bpmn_id)
    if len(c.issues) == before:
        # What the server cannot render is refused now, not when a handler opens the task.
        for problem in unsupported(c.forms[form], c.forms.get(ui) if ui else None):
            c.add(ui if ui and problem.startswith("ui:") else form, bpmn_id, None,
                  _("not supported in forms: %(problem)s", problem=problem))


def _check_task_data_choices(c: Checker, bpmn_id: str, form: str, manual: bool) -> None:
    """Choices from task data need a task: the intake form and a question to the
    complainant are filled in before (or outside) any task, so they cannot have them."""
    schema = c.forms.get(form)
    if manual or not isinstance(schema, dict) or not task_data_variables(schema):
        return
    c.add(form, bpmn_id, None, _(
        "choices from task data (%(sentinel)s) work on a user task's form only: the intake "
        "form and questions to the complainant have no task data to take them from; list "
        "the choices in the form", sentinel="options_from_task_data_var"))


def check_lanes(c: Checker) -> None:
    """Every lane that maps to no role is a warning: its tasks go to the default role."""
    for name, tree in c.trees.items():
        for lane in tree.iter("{*}lane"):
            lane_name = lane.get("name") or ""
            if not lane_name or c.resolve_role(lane_name) is None:
                c.unmapped_lanes.add(lane_name)
                c.warnings.append(DeployIssue(
                    name, lane.get("id"), lane.sourceline,
                    _("the lane '%(lane)s' maps to no role: its tasks go to the version's "
                      "default role; map the lane on the roles page to send them to another "
                      "role", lane=lane_name)))
