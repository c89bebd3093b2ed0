"""A process version's translation files: `translations.<language>.json` in the bundle.

Each maps the English source texts of the version (task titles, status labels, form
titles, help and choice labels, ...) to their translation. SpiffArena ignores the file,
so diagrams made there stay unchanged. Here it is only read and checked: what the pages
show in which language is services/process_texts.py's business.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from flask_babel import gettext as _

# translations.ar.json, translations.pt-BR.json: a language tag as BCP 47 writes it.
FILE_NAME = re.compile(r"^translations\.(?P<language>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\.json$")
MAX_TEXT = 20_000  # characters of one source text or translation
# What a text may hold that the code fills in: {name}, {{ name }}, %(name)s, %s.
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[A-Za-z_][A-Za-z0-9_.]*\}|%\([A-Za-z_]+\)[sd]|%[sd]")


def language_of(name: str) -> str | None:
    """The language a bundle file translates into, or None when it is no translation file."""
    found = FILE_NAME.match(name)
    return found["language"] if found else None


def placeholders(text: str) -> Counter[str]:
    """The placeholders of a text, counted."""
    return Counter(PLACEHOLDER.findall(text))


def read_translations(data: bytes, max_bytes: int) -> tuple[dict[str, str], list[str]]:
    """The source -> translation pairs of a translation file, and what is wrong with it.

    A file with any problem gives no pairs, so a version never shows half a bad file.
    """
    if len(data) > max_bytes:
        return {}, [_("the translation file is larger than %(limit)s bytes",
                      limit=f"{max_bytes:,}")]
    try:
        found = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return {}, [_("the translation file is not UTF-8 text")]
    except json.JSONDecodeError as exc:
        return {}, [_("not valid JSON: %(error)s (line %(line)d, column %(column)d)",
                      error=exc.msg, line=exc.lineno, column=exc.colno)]
    except (RecursionError, ValueError) as exc:
        return {}, [_("not valid JSON: %(error)s", error=exc)]
    if not isinstance(found, dict):
        return {}, [_('a translation file holds one JSON object: {"English text": '
                      '"translation"}')]
    problems = []
    for source, text in found.items():
        shown = source if len(source) <= 60 else source[:57] + "..."
        if not isinstance(text, str):
            problems.append(f'"{shown}": ' + _(
                "the translation must be a text in quotes, not %(type)s",
                type=type(text).__name__ if text is not None else "null"))
        elif len(source) > MAX_TEXT or len(text) > MAX_TEXT:
            problems.append(f'"{shown}": ' + _("a text may hold at most %(limit)s characters",
                                               limit=f"{MAX_TEXT:,}"))
        elif not text.strip():
            problems.append(f'"{shown}": ' + _("the translation is empty (leave the text out "
                                               "instead: it then shows in English)"))
        elif placeholders(text) != placeholders(source):
            want = ", ".join(sorted(placeholders(source))) or _("none")
            problems.append(f'"{shown}": ' + _("the translation must keep the placeholders of "
                                               "the English text exactly (%(placeholders)s)",
                                               placeholders=want))
    return ({} if problems else found), problems
