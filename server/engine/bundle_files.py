"""Which files of a bundle make up the process, as SpiffArena keeps a process model.

A SpiffArena process model is a folder (or its ZIP) with `process_model.json` beside the
diagrams, forms and decision tables; that file names the primary diagram and process.
The process is what the primary process reaches: the diagrams holding the processes it
calls, the decision tables its business rule tasks call and the forms its properties
name. Every other file is ignored, with a warning (never a refusal), so a stray draft or
a broken copy beside the model does not stop a deploy. Without `process_model.json`,
every diagram belongs to the process, as before.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from lxml import etree

from .bundle_checks import Checker, DeployIssue, local_name
from .translations import language_of

MODEL_FILE = "process_model.json"
# Namespaces of drawing elements: every editor numbers them from 1 in each file.
_DRAWING = ("/DI", "/DD/", "/DMNDI/", "/DC")
_CAMUNDA_DECISION = "{http://camunda.org/schema/1.0/bpmn}decisionRef"


@dataclass(frozen=True)
class ModelInfo:
    """What `process_model.json` says about the process (only what Plaint uses)."""

    primary_file: str | None
    primary_process: str | None
    display_name: str | None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def read_model_info(c: Checker) -> ModelInfo | None:
    """The bundle's `process_model.json`, None when there is none (or it cannot be read)."""
    data = c.files.get(MODEL_FILE)
    if data is None:
        return None
    try:
        found = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        c.add(MODEL_FILE, None, getattr(exc, "lineno", None),
              _("process_model.json is not a JSON object that can be read: %(error)s",
                error=getattr(exc, "msg", exc)))
        return None
    if not isinstance(found, dict):
        c.add(MODEL_FILE, None, None, _("process_model.json must hold a JSON object"))
        return None
    info = ModelInfo(_text(found.get("primary_file_name")), _text(found.get("primary_process_id")),
                     _text(found.get("display_name")))
    if info.primary_file and info.primary_file not in c.files:
        c.add(MODEL_FILE, None, None,
              _("primary_file_name names %(file)s, which is not in the bundle",
                file=info.primary_file))
        return ModelInfo(None, info.primary_process, info.display_name)
    return info


@dataclass
class _Index:
    """Where each process and decision is defined, by the files that could be read."""

    processes: dict[str, list[str]]
    decisions: dict[str, list[str]]


def _index(c: Checker) -> _Index:
    processes: dict[str, list[str]] = defaultdict(list)
    decisions: dict[str, list[str]] = defaultdict(list)
    for name, tree in sorted(c.trees.items()):
        for elem in tree.iter("{*}process", "{*}decision"):
            target = processes if local_name(elem.tag) == "process" else decisions
            if elem.get("id"):
                target[str(elem.get("id"))].append(name)
    return _Index(processes, decisions)


def _calls(tree: etree._ElementTree) -> list[tuple[str, str, etree._Element]]:
    """What a diagram refers to elsewhere: ("process" | "decision" | "file", name, element)."""
    found = []
    for elem in tree.iter():
        if not isinstance(elem.tag, str):
            continue
        tag = local_name(elem.tag)
        if tag == "callActivity" and elem.get("calledElement"):
            found.append(("process", str(elem.get("calledElement")), elem))
        elif tag == "calledDecisionId" and (elem.text or "").strip():
            found.append(("decision", (elem.text or "").strip(), elem.getparent().getparent()))
        elif elem.get(_CAMUNDA_DECISION):
            found.append(("decision", str(elem.get(_CAMUNDA_DECISION)), elem))
        elif tag == "property" and elem.get("value"):
            found.append(("file", str(elem.get("value")).strip(), elem))
    return found


def message_started(c: Checker) -> dict[str, str]:
    """The executable processes that only a message starts, with their files.

    Such a process is started by a message another process throws (or by hand), as a
    case of its own; it is never the one main process of the bundle.
    """
    found = {}
    for name, tree in c.trees.items():
        for process in tree.iter("{*}process"):
            starts = process.findall("{*}startEvent")
            if process.get("isExecutable") != "false" and process.get("id") and starts and \
                    all(s.find("{*}messageEventDefinition") is not None for s in starts):
                found[str(process.get("id"))] = name
    return found


def _mentions(data: bytes, element_id: str) -> bool:
    """Whether a file that cannot be parsed seems to define `element_id`."""
    return re.search(rb'\bid\s*=\s*["\']' + re.escape(element_id.encode()) + rb'["\']',
                     data) is not None


def used_files(c: Checker, info: ModelInfo | None) -> set[str]:
    """The files the process is made of; every missing call is noted as an issue."""
    index = _index(c)
    unread = {n for n in c.files if n.endswith((".bpmn", ".dmn")) and n not in c.trees}
    used = {n for n in c.files if n == MODEL_FILE or language_of(n)}
    if info is not None and (info.primary_file or info.primary_process):
        todo = [info.primary_file] if info.primary_file else []
        if info.primary_process:
            holders = index.processes.get(info.primary_process, [])
            todo += holders or [n for n in unread if _mentions(c.files[n], info.primary_process)]
            if not holders and not todo:
                c.add(MODEL_FILE, None, None,
                      _("primary_process_id names the process '%(process)s', which no file of "
                        "the bundle holds", process=info.primary_process))
            elif info.primary_file and info.primary_file in c.trees and \
                    info.primary_file not in holders:
                c.add(MODEL_FILE, None, None,
                      _("primary_process_id '%(process)s' is not a process of %(file)s",
                        process=info.primary_process, file=info.primary_file))
    else:
        todo = [n for n in c.files if n.endswith(".bpmn")]
        # A diagram that cannot be read is kept (its problems refuse the deploy) unless
        # the others hold the one main process: then it is a stray file, unless called.
        if _one_main(c):
            todo = [n for n in todo if n not in unread]
    todo += sorted(set(message_started(c).values()))
    while todo:
        name = todo.pop()
        if name in used:
            continue
        used.add(name)
        if name in c.trees and name.endswith(".bpmn"):
            todo += _follow(c, name, index, unread)
        elif name in unread:
            # What a diagram that cannot be parsed names is taken as used, so its forms
            # are still read and reported.
            todo += [n for n in c.files if n != name and n.encode() in c.files[name]]
    return used


def _one_main(c: Checker) -> bool:
    """Whether the readable diagrams hold exactly one executable process nothing calls."""
    called = {e.get("calledElement") for tree in c.trees.values()
              for e in tree.iter("{*}callActivity")}
    by_message = message_started(c)
    return len([p for name, tree in c.trees.items() if name.endswith(".bpmn")
                for p in tree.iter("{*}process") if p.get("isExecutable") != "false"
                and p.get("id") not in called and p.get("id") not in by_message]) == 1


def _follow(c: Checker, name: str, index: _Index, unread: set[str]) -> list[str]:
    """The files a readable diagram calls into; a call to nothing is an issue."""
    found: list[str] = []
    for kind, target, elem in _calls(c.trees[name]):
        if kind == "file":
            if target in c.files:
                found.append(target)
            continue
        holders = (index.processes if kind == "process" else index.decisions).get(target, [])
        broken = [n for n in sorted(unread) if _mentions(c.files[n], target)]
        found += holders + broken
        if not holders and not broken:
            c.missing_calls.add(target)
            message = _("the call activity calls the process '%(process)s', which no file of "
                        "the bundle holds", process=target) if kind == "process" else \
                _("the business rule task calls the decision '%(decision)s', which no file of "
                  "the bundle holds", decision=target)
            c.add(name, elem.get("id"), elem.sourceline, message)
    return found


def ignore_unused(c: Checker, used: set[str], read_issues: dict[str, list[DeployIssue]]) -> None:
    """Drop the files the process does not use, each with a warning, and their problems."""
    for name in sorted(set(c.files) - used):
        problems = read_issues.get(name, [])
        for issue in problems:
            c.issues.remove(issue)
            c.warnings.append(DeployIssue(
                name, issue.element_id, issue.line,
                _("ignored, since no process of the bundle uses this file: %(problem)s",
                  problem=issue.message)))
        if not problems:
            c.warnings.append(DeployIssue(name, None, None, _(
                "no process of the bundle uses this file: it was ignored and is not part of "
                "the version")))
        del c.files[name]
        c.trees.pop(name, None)
        c.forms.pop(name, None)


def index_ids(c: Checker) -> None:
    """Locate every element of the used files; refuse process and decision ids used twice.

    Drawing ids (BPMNDiagram_1, shapes, edges) and element ids in different files may
    repeat: every editor starts each file from the same ids, and SpiffWorkflow keeps each
    process's elements apart. Inside one file an id must be unique.
    """
    first: dict[tuple[str, str], str] = {}
    for name, tree in sorted(c.trees.items()):
        seen: set[str] = set()
        for elem in tree.iter():
            element_id = elem.get("id") if isinstance(elem.tag, str) else None
            if not element_id or any(ns in etree.QName(elem.tag).namespace or ""
                                     for ns in _DRAWING):
                continue
            tag = local_name(elem.tag)
            if element_id in seen and tag != "definitions":
                c.add(name, element_id, elem.sourceline,
                      _("the id '%(id)s' is used twice in this file: ids must be unique",
                        id=element_id))
            seen.add(element_id)
            c.lines.setdefault((name, element_id), elem.sourceline)
            c.where.setdefault(element_id, (name, elem.sourceline))
            if tag in ("process", "decision"):
                other = first.setdefault((tag, element_id), name)
                if other != name:
                    c.add(name, element_id, elem.sourceline, _(
                        "the process id '%(id)s' is also used in %(file)s: process ids must "
                        "be unique", id=element_id, file=other) if tag == "process" else _(
                        "the decision id '%(id)s' is also used in %(file)s: decision ids must "
                        "be unique", id=element_id, file=other))
