"""The texts a process version shows people, in the reader's language.

A version's diagrams and forms are written in English; its translation files
(`translations.<language>.json`, engine/translations.py) map each English text to its
translation. What is stored stays English (a case's status label, a task's title), so
search and reports read one language; pages translate at display time through
`text()` and `form()`, with each version's translations read once per process (a version
never changes). A text without a translation shows in English.

The texts of a version (`source_texts`): the names of user and manual tasks and of the
events that carry a form (a question to the complainant), the documentation and
instructionsForEndUser of those, every statusLabel and inboxFlag, and in each form file
its titles, descriptions, choice labels, help, placeholders and button text.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..engine.bundle_files import MODEL_FILE
from ..engine.translations import language_of, read_translations
from ..engine.xmlsafe import UnsafeXMLError, parse_xml
from ..formkit.translate import Translate, texts_of, translated
from .processes import versions

# Every deploy says what is missing in these languages, even without a file for them.
REQUIRED_LANGUAGES = ("ar",)
LANGUAGE_NAMES = {"ar": _l("Arabic"), "en": _l("English")}
_NAMED = {"userTask", "manualTask"}  # elements whose name is a task title
# Every other step, event and gateway: its name is read in the history (a timer that fired),
# on incidents (the step that failed) and in the studio.
_FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
               "boundaryEvent", "task", "scriptTask", "serviceTask", "businessRuleTask",
               "sendTask", "receiveTask", "callActivity", "subProcess", "transaction",
               "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
               "complexGateway"}
_SHOWN_PROPERTIES = ("statusLabel", "inboxFlag")
_FORM_PROPERTY = "formJsonSchemaFilename"
_MAX_XML = 64 * 1024 * 1024  # the bundle checks hold each file to the real limit


def file_name(language: str) -> str:
    """The bundle file that holds a language's translations."""
    return f"translations.{language}.json"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _diagram_texts(data: bytes) -> list[str]:
    """The texts people read from one BPMN file, in document order."""
    try:
        tree = parse_xml(data, max_bytes=_MAX_XML)
    except UnsafeXMLError:
        return []  # a broken diagram is refused by the bundle checks
    found: list[str] = []
    for elem in tree.iter():
        props = {str(p.get("name")): str(p.get("value") or "")
                 for p in elem.iterfind("{*}extensionElements/{*}properties/{*}property")}
        shown = _local(elem.tag) in _NAMED or bool(props.get(_FORM_PROPERTY))
        if shown or _local(elem.tag) in _FLOW_NODES:
            found.append(str(elem.get("name") or ""))
        if shown:
            for child in elem:
                if _local(child.tag) == "documentation":
                    found.append(child.text or "")
            found += [e.text or "" for e in elem.iterfind("{*}extensionElements/"
                                                          "{*}instructionsForEndUser")]
        found += [props[key] for key in _SHOWN_PROPERTIES if key in props]
    return [text.strip() for text in found if text.strip()]


def _form_texts(data: bytes) -> list[str]:
    """The texts people read in one form file."""
    try:
        return [t.strip() for t in texts_of(json.loads(data.decode("utf-8"))) if t.strip()]
    except (UnicodeDecodeError, ValueError, RecursionError):
        return []


def source_texts(files: dict[str, bytes]) -> list[str]:
    """Every English text of a bundle that a person reads, once each, diagrams first."""
    found: list[str] = []
    for name, data in sorted(files.items(), key=lambda f: (not f[0].endswith(".bpmn"), f[0])):
        if name.endswith(".bpmn"):
            found += _diagram_texts(data)
        elif name.endswith(".json") and not language_of(name) and name != MODEL_FILE:
            found += _form_texts(data)
    return list(dict.fromkeys(found))


def translations_in(files: dict[str, bytes], language: str) -> dict[str, str]:
    """A bundle's translations into `language` ({} without a file, or with a broken one)."""
    data = files.get(file_name(language))
    return read_translations(data, len(data))[0] if data is not None else {}


def missing(files: dict[str, bytes]) -> dict[str, list[str]]:
    """The texts without a translation, per language the bundle has a file for (and Arabic)."""
    languages = {language_of(n) for n in files} | set(REQUIRED_LANGUAGES)
    sources = source_texts(files)
    out: dict[str, list[str]] = {}
    for language in sorted(lang for lang in languages if lang):
        done = translations_in(files, language)
        lacking = [text for text in sources if not done.get(text)]
        if lacking:
            out[language] = lacking
    return out


def warnings(files: dict[str, bytes]) -> list[str]:
    """What a deploy of these files says about missing translations (never a refusal)."""
    lines = []
    for language, texts in missing(files).items():
        name = LANGUAGE_NAMES.get(language, language)
        if file_name(language) in files:
            where = file_name(language)
        else:
            where = _("%(file)s (no such file)", file=file_name(language))
        lines.append(_("%(file)s: %(count)d text(s) have no %(language)s translation and show "
                       "in English:", file=where, count=len(texts), language=name))
        lines += [f'  "{text if len(text) <= 100 else text[:97] + "..."}"' for text in texts]
    return lines


def _version_texts(version_id: int, language: str) -> dict[str, str]:
    """A version's translations into a language, read once per process."""
    cache: dict[tuple[int, str], dict[str, str]] = current_app.extensions.setdefault(
        "plaint.texts", {})
    key = (version_id, language)
    found = cache.get(key)
    if found is None:
        data = versions.file_content(version_id, file_name(language))
        found = read_translations(data, len(data))[0] if data is not None else {}
        cache[key] = found
    return found


def text(version_id: int | None, source: str | None, language: str) -> str:
    """`source` (an English text of the version) in `language`; as it is when untranslated."""
    if not source or version_id is None:
        return source or ""
    return _version_texts(version_id, language).get(source.strip()) or source


def reading() -> str:
    """The language of the request being served; English outside one (jobs, e-mails)."""
    return str(get_locale() or "en") if has_request_context() else "en"


def translator(version_id: int | None, language: str) -> Translate:
    """A function translating the version's texts into `language`."""
    return lambda source: text(version_id, source, language)


def form(version_id: int | None, schema: dict[str, Any], ui: dict[str, Any] | None,
         language: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A form of the version with every text a person reads in `language`."""
    if version_id is None or not _version_texts(version_id, language):
        return schema, ui
    return translated(schema, ui, translator(version_id, language))
