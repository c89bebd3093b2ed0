"""The studio's translation page: a draft's English texts side by side with a language's.

What is saved is the draft's `translations.<language>.json` (engine/translations.py), the
same file a process owner could upload, checked the same way before it is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import gettext as _

from ...engine.translations import read_translations
from .. import languages, process_texts
from ..actors import Actor
from .checks import Problem
from .drafts import DraftRefused, get_draft, save_file


@dataclass(frozen=True)
class TextRow:
    """One English text of the draft and its translation ('' while there is none)."""

    source: str
    translation: str

    @property
    def missing(self) -> bool:
        """Whether the text still shows in English."""
        return not self.translation.strip()


def _language(language: str) -> str:
    """A language texts can be translated into (not the one they are written in)."""
    if language not in languages.LANGUAGES or language == languages.DEFAULT:
        said = _("Plaint has no translations into “%(language)s”: choose Arabic.",
                 language=language)
        raise DraftRefused(said, [Problem(None, None, None, said)], 404)
    return language


def rows(draft_id: int, language: str, actor: Actor,
         sent: dict[str, str] | None = None) -> list[TextRow]:
    """Every text of the draft with its translation, the untranslated ones first.

    `sent` (source -> text) stands in for what is saved, so a refused save shows what
    the person typed.
    """
    files = get_draft(draft_id, actor).contents()
    done = {**process_texts.translations_in(files, _language(language)), **(sent or {})}
    found = [TextRow(source, done.get(source, "")) for source in
             process_texts.source_texts(files)]
    return sorted(found, key=lambda row: not row.missing)


def save(draft_id: int, language: str, sent: dict[str, str], actor: Actor) -> int:
    """Keep the translations typed on the page in the draft; how many texts are translated.

    Translations of texts the page did not show (say, of a task since renamed) are kept:
    the text may come back, and a translation file may hold more than a version uses.
    """
    name = process_texts.file_name(_language(language))
    files = get_draft(draft_id, actor).contents()
    kept = process_texts.translations_in(files, language)
    merged = {**kept, **{s: t.strip() for s, t in sent.items() if t.strip()}}
    for source, text in sent.items():
        if not text.strip():
            merged.pop(source, None)
    content = json.dumps(merged, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    problems = read_translations(content, len(content))[1]
    if problems:
        raise DraftRefused(_("The translations were not saved: fix what is listed and save "
                             "again."), [Problem(name, None, None, p) for p in problems])
    save_file(draft_id, name, content, actor)
    return len(merged)
