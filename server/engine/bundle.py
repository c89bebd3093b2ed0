"""Reading a process bundle (BPMN, DMN and form files) and checking it before deploy.

Everything that can be found wrong with a diagram is found here, at deploy time, and
reported with the file, the element id and the line: SpiffWorkflow's own parsing and
XSD validation, plus the checks it does not make (expressions compile under the
sandbox, literal timers parse, forms exist and are valid JSON Schema, lanes map to
roles, decision tables have a catch-all row).
"""

from __future__ import annotations

import ast
import json
import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from ..formkit import unsupported
from .clocks import KIND_CALL
from .sandbox import SandboxError, compile_expression, compile_script
from .serializer import dump_specs
from .xmlsafe import UnsafeXMLError, parse_xml

FORM_SCHEMA_KEY = "formJsonSchemaFilename"
FORM_UI_KEY = "formUiSchemaFilename"
ROLE_KEY = "candidateRole"

_EXPRESSION_TAGS = {
    "conditionExpression": "condition",
    "loopCardinality": "loop cardinality",
    "completionCondition": "completion condition",
    "condition": "condition",
    "messagePayload": "message payload",
}
_SCRIPT_TAGS = {"script": "script", "preScript": "pre-script", "postScript": "post-script"}
_TIMER_TAGS = {"timeDuration", "timeDate", "timeCycle"}


@dataclass(frozen=True)
class DeployIssue:
    """One thing wrong with a bundle, located as precisely as we can."""

    file: str
    element_id: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


class BundleError(Exception):
    """A bundle that cannot be deployed; `issues` lists every problem found."""

    def __init__(self, issues: list[DeployIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


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


@dataclass
class _Checker:
    files: dict[str, bytes]
    resolve_role: Callable[[str], str | None]
    max_file_bytes: int
    clock_kinds: tuple[str, ...] = ()
    issues: list[DeployIssue] = field(default_factory=list)
    trees: dict[str, etree._ElementTree] = field(default_factory=dict)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    where: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    def add(self, file: str, element_id: str | None, line: int | None, message: str) -> None:
        self.issues.append(DeployIssue(file, element_id, line, message))

    def at(self, element_id: str, message: str) -> None:
        file, line = self.where.get(element_id, ("(bundle)", None))
        self.add(file, element_id, line, message)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _owner_id(elem: etree._Element) -> str | None:
    """The id of the diagram element a piece of XML belongs to (not its event definition)."""
    node: etree._Element | None = elem
    while node is not None:
        if node.get("id") and not _local(node.tag).endswith("EventDefinition"):
            return node.get("id")
        node = node.getparent()
    return None


def load_bundle(
    files: dict[str, bytes],
    resolve_role: Callable[[str], str | None],
    *,
    max_file_bytes: int = 2 * 1024 * 1024,
    clock_kinds: tuple[str, ...] = (),
) -> Bundle:
    """Parse and check a bundle; raise BundleError listing every problem.

    `clock_kinds` are the deadline kinds the escalation policy knows: a literal kind in
    deadline(...), reminder(...) or next_level(...) must be one of them.
    """
    checker = _Checker(files, resolve_role, max_file_bytes, clock_kinds)
    bundle = _load(checker)
    if checker.issues or bundle is None:
        if not checker.issues:
            checker.add("(bundle)", None, None, "the bundle could not be read")
        raise BundleError(checker.issues)
    return bundle


def _load(c: _Checker) -> Bundle | None:
    if not any(name.endswith(".bpmn") for name in c.files):
        c.add("(bundle)", None, None, "no .bpmn file: a process needs at least one diagram")
    for name, data in sorted(c.files.items()):
        if name.endswith((".bpmn", ".dmn")):
            _read_xml(c, name, data)
        elif name.endswith(".json"):
            _read_form(c, name, data)
        else:
            c.add(name, None, None, "unknown file type: use .bpmn, .dmn or .json (forms)")
    if c.issues:
        return None
    for name, tree in c.trees.items():
        _check_code(c, name, tree)
        if name.endswith(".dmn"):
            _check_decision_tables(c, name, tree)
        else:
            _check_references(c, name, tree)
    if c.issues:
        return None
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for name, tree in c.trees.items():
            if name.endswith(".bpmn"):
                parser.add_bpmn_xml(tree, filename=name)
            else:
                parser.add_dmn_xml(tree.getroot(), filename=name)
        process_id = _main_process(c, parser)
        if process_id is None:
            return None
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        _report_validation(c, exc)
        return None
    except Exception as exc:  # SpiffWorkflow raises bare errors on some malformed diagrams
        c.add("(bundle)", None, None, f"the diagrams could not be read: {exc}")
        return None
    role_map = _check_tasks(c, [spec, *subprocess_specs.values()])
    _check_lanes(c)
    if c.issues:
        return None
    return Bundle(
        process_id=process_id,
        process_name=spec.description or process_id,
        spec=spec,
        subprocess_specs=subprocess_specs,
        files=dict(c.files),
        forms=c.forms,
        spec_json=dump_specs(spec, subprocess_specs),
        role_map=role_map,
    )


def _read_xml(c: _Checker, name: str, data: bytes) -> None:
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
            if element_id in c.where and _local(elem.tag) not in ("definitions",):
                other = c.where[element_id][0]
                c.add(name, element_id, elem.sourceline,
                      f"the id '{element_id}' is also used in {other}: ids must be unique")
            c.where[element_id] = (name, elem.sourceline)


def _read_form(c: _Checker, name: str, data: bytes) -> None:
    if len(data) > c.max_file_bytes:
        c.add(name, None, None, f"the form is larger than {c.max_file_bytes:,} bytes")
        return
    try:
        schema = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        c.add(name, None, None, "the form is not UTF-8 text")
        return
    except json.JSONDecodeError as exc:
        c.add(name, None, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
        return
    except RecursionError:
        c.add(name, None, None, "the form nests too deeply")
        return
    if not isinstance(schema, dict):
        c.add(name, None, None, "a form file must hold a JSON object")
        return
    c.forms[name] = schema


def _check_form_schema(c: _Checker, name: str, schema: dict[str, Any], element_id: str) -> None:
    if not isinstance(schema.get("$schema", ""), str):
        c.add(name, element_id, None, '"$schema" must be the text of a JSON Schema dialect URI')
        return
    try:
        validator_for(schema).check_schema(schema)
    except RecursionError:
        c.add(name, element_id, None, "the form nests too deeply")
        return
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(top)"
        c.add(name, element_id, None, f"not a valid JSON Schema at {path}: {exc.message}")
        return
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        c.add(name, element_id, None, 'a form schema needs "type": "object" and "properties"')
        return
    for prop in schema["properties"]:
        if not prop.isidentifier() or keyword.iskeyword(prop) or prop.startswith("_") \
                or prop == "typename":
            c.add(name, element_id, None,
                  f"field name '{prop}' cannot be used in expressions: use letters, digits and "
                  "underscores, not starting with a digit or underscore")


def _check_code(c: _Checker, name: str, tree: etree._ElementTree) -> None:
    for elem in tree.iter():
        tag = _local(elem.tag)
        text = (elem.text or "").strip()
        if not text or not (tag in _EXPRESSION_TAGS or tag in _SCRIPT_TAGS or tag in _TIMER_TAGS):
            continue
        if tag in ("condition",) and _local(elem.getparent().tag) != "conditionalEventDefinition":
            continue
        owner = _owner_id(elem)
        try:
            if tag in _SCRIPT_TAGS:
                compile_script(elem.text or "")
            else:
                compile_expression(text)
        except SandboxError as exc:
            kind = _SCRIPT_TAGS.get(tag) or _EXPRESSION_TAGS.get(tag) or "timer expression"
            c.add(name, owner, elem.sourceline, f"the {kind} is refused: {exc}")
            continue
        if tag in _TIMER_TAGS:
            problem = _check_timer_literal(tag, text)
            if problem:
                c.add(name, owner, elem.sourceline, problem)
        for kind in KIND_CALL.findall(text) if c.clock_kinds else ():
            if kind not in c.clock_kinds:
                c.add(name, owner, elem.sourceline,
                      f"'{kind}' is not a deadline kind of the escalation policy: use one of "
                      + ", ".join(c.clock_kinds))


_REFERENCE_ATTRS = ("sourceRef", "targetRef", "attachedToRef", "default", "messageRef",
                   "processRef")


def _check_references(c: _Checker, name: str, tree: etree._ElementTree) -> None:
    """Every reference between elements points at an element of the same file."""
    ids = {e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
    for elem in tree.iter():
        if not isinstance(elem.tag, str):
            continue
        for attr in _REFERENCE_ATTRS:
            target = elem.get(attr)
            if target and target not in ids:
                c.add(name, elem.get("id"), elem.sourceline,
                      f"{attr}=\"{target}\" points at an element that does not exist")
        if _local(elem.tag) == "flowNodeRef" and (elem.text or "").strip() not in ids:
            c.add(name, _owner_id(elem), elem.sourceline,
                  f"the lane lists '{(elem.text or '').strip()}', which does not exist")


def _check_timer_literal(tag: str, text: str) -> str | None:
    """Check a timer whose expression is a plain string, the common case."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None  # computed at run time; checked when it runs
    if not isinstance(value, str):
        return f"the timer expression {text} must give a string such as \"P2D\""
    try:
        if tag == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        elif tag == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                return f"the timer date {value} needs a UTC offset, e.g. {value}+00:00"
    except Exception:
        examples = {"timeDuration": '"P2D" or "PT4H"', "timeCycle": '"R3/PT1H"',
                    "timeDate": '"2026-01-31T09:00:00+03:00"'}
        return f"the timer value {value!r} is not ISO 8601; use e.g. {examples[tag]}"
    return None


def _check_decision_tables(c: _Checker, name: str, tree: etree._ElementTree) -> None:
    for table in tree.iter("{*}decisionTable"):
        inputs = [(i.findtext("{*}inputExpression/{*}text") or "").strip()
                  for i in table.findall("{*}input")]
        for idx, expr in enumerate(inputs):
            if not expr:
                c.add(name, _owner_id(table), table.sourceline,
                      f"input column {idx + 1} has no expression")
                inputs[idx] = "None"
                continue
            try:
                compile_expression(expr)
            except SandboxError as exc:
                c.add(name, _owner_id(table), table.sourceline,
                      f"input expression {expr!r} is refused: {exc}")
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
                target = last if last is not None else table
                c.add(name, _owner_id(target), target.sourceline,
                      "the decision table needs a catch-all last row (every input '-') so that "
                      "every case gets an answer")


def _compile_dmn_entry(c: _Checker, name: str, entry: etree._Element, input_expr: str,
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


def _compile_cell(c: _Checker, name: str, elem: etree._Element, text: str, expr: str) -> None:
    try:
        compile_expression(expr)
    except SandboxError as exc:
        c.add(name, _owner_id(elem), elem.sourceline, f"the cell {text!r} is refused: {exc}")


def _main_process(c: _Checker, parser: SpiffBpmnParser) -> str | None:
    called = {elem.get("calledElement") for tree in c.trees.values()
              for elem in tree.iter("{*}callActivity")}
    candidates = [pid for pid in parser.get_process_ids() if pid not in called]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        c.add("(bundle)", None, None, "no executable process: set isExecutable=\"true\" on one")
    else:
        c.add("(bundle)", None, None,
              f"several top-level processes ({', '.join(sorted(candidates))}): a bundle runs one; "
              "call the others from it or set isExecutable=\"false\" on them")
    return None


def _report_validation(c: _Checker, exc: ValidationException) -> None:
    element_id = getattr(exc, "id", None) or None
    file = getattr(exc, "file_name", None) or "(bundle)"
    line = getattr(exc, "line_number", None) or None
    if element_id and element_id in c.where:
        file, found = c.where[element_id]
        line = line or found
    message = str(exc).split("\n")[0]
    if "we found two items" in message:
        message = "a sequence flow or reference points at an element that does not exist"
    c.add(file, element_id, int(line) if line else None, message)


def _check_tasks(c: _Checker, specs: list[BpmnProcessSpec]) -> dict[str, str]:
    """Check every task; return the lane and candidateRole names mapped to roles."""
    roles: dict[str, str] = {}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue
            props = getattr(task_spec, "extensions", {}).get("properties", {})
            form = props.get(FORM_SCHEMA_KEY)
            if form:
                _check_form_ref(c, bpmn_id, form, props.get(FORM_UI_KEY))
            if not getattr(task_spec, "manual", False):
                continue
            if not form:
                c.at(bpmn_id, f"the user task has no form: set the property {FORM_SCHEMA_KEY}")
            role = _task_role(c, task_spec.lane, props.get(ROLE_KEY))
            if role is None:
                if props.get(ROLE_KEY):
                    c.at(bpmn_id, f"the {ROLE_KEY} '{props[ROLE_KEY]}' is not a role")
                elif task_spec.lane:
                    c.at(bpmn_id, f"the lane '{task_spec.lane}' is not mapped to a role")
                else:
                    c.at(bpmn_id, f"nobody can work this task: put it in a lane or set {ROLE_KEY}")
            else:
                roles[props.get(ROLE_KEY) or task_spec.lane] = role
    return roles


def _task_role(c: _Checker, lane: str | None, candidate: str | None) -> str | None:
    if candidate:
        return c.resolve_role(candidate)
    return c.resolve_role(lane) if lane else None


def _check_form_ref(c: _Checker, bpmn_id: str, form: str, ui: str | None) -> None:
    if ui and ui not in c.forms:
        c.at(bpmn_id, f"the UI schema '{ui}' is not in the bundle")
    if form not in c.forms:
        c.at(bpmn_id, f"the form '{form}' is not in the bundle")
        return
    before = len(c.issues)
    _check_form_schema(c, form, c.forms[form], bpmn_id)
    if len(c.issues) == before:
        # What the server cannot render is refused now, not when a handler opens the task.
        for problem in unsupported(c.forms[form], c.forms.get(ui) if ui else None):
            c.add(ui if ui and problem.startswith("ui:") else form, bpmn_id, None,
                  f"not supported in forms: {problem}")


def _check_lanes(c: _Checker) -> None:
    for name, tree in c.trees.items():
        for lane in tree.iter("{*}lane"):
            lane_name = lane.get("name") or ""
            if not lane_name or c.resolve_role(lane_name) is None:
                c.add(name, lane.get("id"), lane.sourceline,
                      f"the lane '{lane_name}' does not map to a role: name it after a role "
                      "or map it on the roles page")
