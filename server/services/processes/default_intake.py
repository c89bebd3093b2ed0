"""The organisation's default intake form, for a process whose start event has none.

SpiffArena starts a process from a plain start event; Plaint registers every complaint
through an intake form. A bundle whose main start event names no form gets the reference
intake form (forms/intake-schema.json with its UI and staff UI schemas) on deploy: the
files are added to the version, the start event's properties name them in the stored
spec, and the reference's Arabic for their texts joins the version's translations file
(made when the bundle has none). The diagrams stay as they were uploaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...engine import Bundle
from ...engine.serializer import dump_specs
from ...engine.tasks import FORM_SCHEMA_KEY, FORM_UI_KEY, STAFF_UI_KEY, spec_props
from ...engine.translations import read_translations
from ...formkit.translate import texts_of

REPO = Path(__file__).resolve().parents[3]
FORMS = REPO / "forms"
# The reference process's intake: property -> file under forms/.
FILES = {FORM_SCHEMA_KEY: "intake-schema.json", FORM_UI_KEY: "intake-uischema.json",
         STAFF_UI_KEY: "intake-staff-uischema.json"}
REFERENCE_TEXTS = {"ar": REPO / "workflows" / "translations.ar.json"}


def _start_events(bundle: Bundle) -> list[object]:
    return [ts for ts in bundle.spec.task_specs.values() if type(ts).__name__ == "StartEvent"]


def needed(bundle: Bundle) -> bool:
    """Whether the main process's start event names no intake form."""
    return not any(spec_props(ts).get(FORM_SCHEMA_KEY) for ts in _start_events(bundle))


def apply(bundle: Bundle) -> list[str]:
    """Give the bundle the default intake form when it has none; the file names added."""
    if not needed(bundle) or not _start_events(bundle):
        return []
    named: dict[str, str] = {}
    for key, name in FILES.items():
        content = (FORMS / name).read_bytes()
        chosen = name
        if chosen in bundle.files and bundle.files[chosen] != content:
            chosen = f"default-{name}"  # the bundle has a file of that name of its own
        bundle.files[chosen] = content
        bundle.forms[chosen] = json.loads(content)
        named[key] = chosen
    for start in _start_events(bundle):
        extensions = start.extensions  # type: ignore[attr-defined]
        extensions.setdefault("properties", {}).update(named)
    bundle.spec_json = dump_specs(bundle.spec, bundle.subprocess_specs)
    _add_translations(bundle, [bundle.forms[name] for name in named.values()])
    return sorted(named.values())


def _add_translations(bundle: Bundle, forms: list[dict[str, object]]) -> None:
    """The reference's translations of the intake texts, where the bundle has none of its own."""
    texts = {text.strip() for form in forms for text in texts_of(form) if text.strip()}
    for language, path in REFERENCE_TEXTS.items():
        reference = read_translations(path.read_bytes(), 1 << 24)[0]
        name = f"translations.{language}.json"
        own = bundle.files.get(name)
        have = read_translations(own, len(own))[0] if own is not None else {}
        added = {text: reference[text] for text in sorted(texts)
                 if text in reference and text not in have}
        if added:
            bundle.files[name] = (json.dumps({**have, **added}, ensure_ascii=False, indent=2)
                                  + "\n").encode("utf-8")
