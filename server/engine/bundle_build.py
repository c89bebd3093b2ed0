"""Building a bundle's processes with SpiffWorkflow, going on past every failure.

Each file is handed to the parser on its own and each process is built on its own, so
one broken diagram or process does not hide the problems of the others; SpiffWorkflow's
own complaints are said in plain words, in the reader's language, at their element.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from .bundle_checks import Checker
from .bundle_files import ModelInfo

_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
}


class Built:
    """The processes that could be built, by id, and the parser that built them."""

    def __init__(self, parser: SpiffBpmnParser) -> None:
        self.parser = parser
        self.specs: dict[str, BpmnProcessSpec] = {}


def build_all(c: Checker) -> Built:
    """Hand every readable file to SpiffWorkflow, then build every process it holds."""
    built = Built(SpiffBpmnParser(validator=VALIDATOR))
    for name, tree in sorted(c.trees.items(), key=lambda item: item[0].endswith(".bpmn")):
        try:
            if name.endswith(".bpmn"):
                built.parser.add_bpmn_xml(tree, filename=name)
            else:
                built.parser.add_dmn_xml(tree.getroot(), filename=name)
        except Exception as exc:  # SpiffWorkflow raises bare errors on some malformed files
            report(c, exc, name)
    for process_id in sorted(built.parser.get_process_ids()):
        try:
            built.specs[process_id] = built.parser.get_spec(process_id)
        except Exception as exc:
            report(c, exc, None)
    return built


def called_specs(c: Checker, built: Built, process_id: str) -> dict[str, BpmnProcessSpec] | None:
    """The processes `process_id` calls, however deep, or None when one could not be built."""
    try:
        return dict(built.parser.get_subprocess_specs(process_id))
    except Exception as exc:
        report(c, exc, None)
        return None


def main_process(c: Checker, built: Built, info: ModelInfo | None,
                 by_message: set[str]) -> str | None:
    """The process a case runs: process_model.json's primary one, or the one top-level one."""
    if info is not None and info.primary_process:
        return info.primary_process
    ids = [pid for pid in built.parser.get_process_ids() if pid not in by_message]
    if info is not None and info.primary_file:
        ids = [pid for pid in ids if built.parser.get_process_parser(pid).filename ==
               info.primary_file]
    called = {elem.get("calledElement") for tree in c.trees.values()
              for elem in tree.iter("{*}callActivity")}
    candidates = [pid for pid in ids if pid not in called]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        c.add("(bundle)", None, None,
              _('no executable process: set isExecutable="true" on one'))
    else:
        c.add("(bundle)", None, None,
              _('several top-level processes (%(processes)s): a bundle runs one; call the '
                'others from it, set isExecutable="false" on them, or name the main one as '
                'primary_process_id in process_model.json',
                processes=", ".join(sorted(candidates))))
    return None


def report(c: Checker, exc: Exception, file: str | None) -> None:
    """Note SpiffWorkflow's complaint in plain words, unless it repeats one already noted."""
    element_id = getattr(exc, "id", None) or None
    file = getattr(exc, "file_name", None) or file
    line = getattr(exc, "line_number", None) or None
    if element_id and file and (file, element_id) in c.lines:
        line = line or c.lines[(file, element_id)]
    elif element_id and element_id in c.where:
        file, found = c.where[element_id]
        line = line or found
    said = {(i.file, i.element_id) for i in c.issues}
    text = str(exc).split("\n")[0]
    called = re.match(r"""(?:The process '|No DMN Diagram available with id ")([^'"]*)""", text)
    if (element_id and (file, element_id) in said) or \
            ("we found two items" in text and any(i.file == file for i in c.issues)) or \
            (called and (called.group(1) in c.missing_calls or called.group(1) in c.where)):
        # Said already: by the deploy checks in their words, or as the problem of the
        # file that holds a process SpiffWorkflow then could not find.
        return
    c.add(file or "(bundle)", element_id, int(line) if line else None, plain_words(exc))


def _shorten(text: str) -> str:
    """An lxml message with namespace URIs as the prefixes people see in the XML."""
    return re.sub(r"\{([^}]*)\}", lambda m: _NAMESPACES.get(m.group(1), "") + ":"
                  if m.group(1) in _NAMESPACES else "", text)


def plain_words(exc: Exception) -> str:
    """What SpiffWorkflow says about a diagram, said so a process owner can act on it."""
    text = str(exc).split("\n")[0].strip()
    if not isinstance(exc, SpiffWorkflowException):
        return _("the diagram could not be read: %(error)s", error=text)
    if isinstance(exc, ValidationException) and not getattr(exc, "id", None) and \
            text.startswith("Element"):
        return _("the file does not follow the BPMN standard: %(error)s",
                 error=_shorten(text).rstrip("."))
    found = re.match(r"Duplicate process ID: (\S+)", text)
    if found:
        return _("the process id '%(id)s' is used by two processes", id=found.group(1))
    found = re.match(r"The process '([^']*)' was not found", text)
    if found:
        return _("the process '%(process)s' is called, but no file of the bundle holds it",
                 process=found.group(1))
    found = re.match(r'No DMN Diagram available with id "([^"]*)"', text)
    if found:
        return _("the decision '%(decision)s' is called, but no file of the bundle holds it",
                 decision=found.group(1))
    known = {
        "we found two items": _("a sequence flow or reference points at an element that does "
                                "not exist"),
        "No start event found": _("the process has no start event"),
        "is not executable": _('the process is not executable: set isExecutable="true"'),
        "There is no support implemented": _("this kind of element is not supported"),
        "A Service Task must have an operator": _(
            "the service task names no operator (spiffworkflow:serviceTaskOperator)"),
        "Multiple decision tables": _("a decision table file may hold one decision only"),
        "No decisions found": _("the decision table file holds no decision"),
        "Time Specification": _("the timer cannot be understood: %(error)s", error=text),
        "Must contain an End event": _("the subprocess needs an end event"),
    }
    for needle, said in known.items():
        if needle in text:
            return said
    return _("SpiffWorkflow cannot use this element: %(error)s", error=text)
