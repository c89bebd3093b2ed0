"""History summaries in the reader's language.

The chain keeps each entry's summary as it was written (in English, the words the hash
signs); people who read Plaint in another language see it said again in theirs, from the
entry's kind and its parts, with the process's own texts (task titles, questions) from
the version's translations. A summary of a shape not known here is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _

from . import process_texts
from .reports import labels

Say = Callable[[str], str]  # a version text (a task title) in the reader's language
_OWNER = r"(?:; (?P<owner>\S+) now owns the case)?"
_SHAPES: dict[str, re.Pattern[str]] = {
    "case.received": re.compile(r"^Complaint received \((?P<channel>[\w-]+)\)$"),
    "task.completed": re.compile(rf"^(?P<title>.+?) completed{_OWNER}$"),
    "message.received": re.compile(r"^Message received: (?P<title>.+)$"),
    "timer.fired": re.compile(r"^Timer fired: (?P<titles>.+?)"
                              r"(?: \(incident #(?P<incident>\d+) closed\))?$"),
    "service.done": re.compile(r"^Service task done: (?P<title>.+?)"
                               r"(?: \(incident #(?P<incident>\d+) closed\))?$"),
    "task.claimed": re.compile(rf"^(?P<title>.+?) taken by (?P<who>\S+){_OWNER}$"),
    "task.released": re.compile(r"^(?P<title>.+?) released by (?P<who>\S+)$"),
    "task.reassigned": re.compile(r"^(?P<title>.+?) reassigned to (?P<to>\S+) by (?P<who>\S+)$"),
    "note.added": re.compile(r"^Internal note$"),
    "case.confidential": re.compile(r"^Marked confidential by (?P<who>\S+): "
                                    r"(?P<people>.+) may read it$"),
    "case.not_confidential": re.compile(r"^No longer confidential \((?P<who>\S+)\)$"),
    "case.migrated": re.compile(r"^Moved from version (?P<old>\d+) to version (?P<new>\d+)$"),
    "attachment.added": re.compile(r"^Document added: (?P<name>.+?)(?P<internal> \(internal\))?$"),
    "case.erased": re.compile(r"^(?P<what>Personal data erased|Documents deleted) "
                              r"\((?P<reason>.*)\)$", re.S),
    "case.hold_placed": re.compile(r"^Legal hold placed: (?P<reason>.+)$", re.S),
    "case.hold_lifted": re.compile(r"^Legal hold lifted$"),
}


def summary(kind: str, written: str, version_id: int, language: str) -> str:
    """An entry's summary in `language`; as written for English or an unknown shape."""
    if language == "en" or kind not in _SHAPES:
        return written
    found = _SHAPES[kind].match(written)
    if found is None:
        return written
    parts = {name: value for name, value in found.groupdict().items() if value is not None}
    said = _said(kind, parts, lambda text: process_texts.text(version_id, text, language))
    if parts.get("owner"):
        said = _("%(summary)s; %(name)s now owns the case", summary=said, name=parts["owner"])
    return said


def _said(kind: str, p: dict[str, str], say: Say) -> str:
    """The words of one kind of entry, from its parts."""
    if kind == "case.received":
        return _("Complaint received (%(channel)s)", channel=_channel(p["channel"]))
    if kind == "task.completed":
        return _("%(task)s completed", task=say(p["title"]))
    if kind == "message.received":
        return _("Message received: %(title)s", title=say(p["title"]))
    if kind == "timer.fired":
        titles = _(", ").join(say(title) for title in p["titles"].split(", "))
        said = _("Timer fired: %(titles)s", titles=titles)
        if p.get("incident"):
            said = _("%(summary)s (incident #%(number)s closed)", summary=said,
                     number=p["incident"])
        return said
    if kind == "service.done":
        said = _("Service task done: %(task)s", task=say(p["title"]))
        if p.get("incident"):
            said = _("%(summary)s (incident #%(number)s closed)", summary=said,
                     number=p["incident"])
        return said
    if kind == "task.claimed":
        return _("%(task)s taken by %(name)s", task=say(p["title"]), name=p["who"])
    if kind == "task.released":
        return _("%(task)s released by %(name)s", task=say(p["title"]), name=p["who"])
    if kind == "task.reassigned":
        return _("%(task)s reassigned to %(to)s by %(name)s", task=say(p["title"]),
                 to=p["to"], name=p["who"])
    if kind == "note.added":
        return _("Internal note")
    if kind == "case.erased":
        return (_("Personal data erased (%(reason)s)", reason=p["reason"])
                if p["what"] == "Personal data erased" else
                _("Documents deleted (%(reason)s)", reason=p["reason"]))
    if kind == "case.hold_placed":
        return _("Legal hold placed: %(reason)s", reason=p["reason"])
    if kind == "case.hold_lifted":
        return _("Legal hold lifted")
    if kind == "case.confidential":
        return _("Marked confidential by %(name)s: %(people)s may read it", name=p["who"],
                 people=p["people"])
    if kind == "case.not_confidential":
        return _("No longer confidential (%(name)s)", name=p["who"])
    if kind == "case.migrated":
        return _("Moved from version %(old)s to version %(new)s", old=p["old"], new=p["new"])
    if p.get("internal"):
        return _("Document added: %(name)s (internal)", name=p["name"])
    return _("Document added: %(name)s", name=p["name"])


def _channel(code: str) -> str:
    """A channel code as people read it."""
    return labels.titles("channel").get(code, code)
