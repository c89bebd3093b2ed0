"""Printed documents: the decision letter (HTML and PDF, English or Arabic) and the PDF
printer that the case bundle uses too.

The wording of a letter lives in one Jinja template per language
(templates/letters/decision_<language>.html). The same rendered template is the
printable web page and, read back block by block, the PDF: the two never disagree.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from fpdf import FPDF
from fpdf.bidi import auto_detect_base_direction
from fpdf.enums import TextDirection
from fpdf.errors import FPDFException

from ..config import DEFAULTS
from ..errors import NotFound
from ..models import Case
from . import audit, cases

LANGUAGES = ("en", "ar")
RTL = frozenset({"ar"})
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian package fonts-dejavu-core
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
DEFAULT_EXTERNAL_BODY = {"ar": "جهة تسوية النزاعات الخارجية المحددة في سياسة الشكاوى لدينا"}
NO_DECISION = "There is no decision on this complaint yet."
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
           "أكتوبر", "نوفمبر", "ديسمبر"),
}
log = logging.getLogger(__name__)


# -- the PDF printer -----------------------------------------------------------------------

@cache
def font_files() -> dict[str, Path] | None:
    """The TTF files with Arabic glyphs that PDFs use, or None (logged once) if missing."""
    files = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        log.warning("PDF font missing (%s): PDFs are printed with a core font that has no "
                    "Arabic letters; install the Debian package fonts-dejavu-core",
                    ", ".join(missing))
        return None
    return files


class Printer:
    """A PDF being written: DejaVu Sans with Arabic shaping, or a core font without it."""

    def __init__(self, title: str, language: str = "en", author: str = "") -> None:
        """Start an A4 document with its metadata and a first page."""
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_creator("Plaint")
        self.pdf.set_lang(language)
        self.rtl = language in RTL
        self.unicode = self._load_fonts()
        self.shaped = self.unicode and self._shape()
        self.pdf.add_page()

    def _load_fonts(self) -> bool:
        files = font_files()
        if files is None:
            return False
        for style, path in files.items():
            self.pdf.add_font("body", style, str(path))
        return True

    def _shape(self) -> bool:
        try:
            self.pdf.set_text_shaping(True)
        except FPDFException as exc:  # uharfbuzz missing: letters unjoined but readable
            log.warning("PDF text shaping is off, Arabic letters will not join: %s", exc)
            return False
        return True

    def _text(self, text: str) -> str:
        text = strip_controls(text.replace("\t", "    "))
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def _align(self, text: str) -> str:
        direction = self._direction(text)
        if self.shaped:
            self.pdf.set_text_shaping(True, direction=direction)
        return "R" if direction == TextDirection.RTL else "L"

    def _font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font("body" if self.unicode else "helvetica", "B" if bold else "", size)

    def _direction(self, text: str) -> TextDirection:
        if self.rtl:
            return TextDirection.RTL
        return auto_detect_base_direction(text)

    def paragraph(self, text: str, size: float = 10, bold: bool = False,
                  space: float = 1.5) -> None:
        """A block of text across the page, right-aligned when it reads right to left."""
        align = self._align(text)
        self._font(size, bold)
        self.pdf.multi_cell(0, size * 0.5, self._text(text), align=align,
                            new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(space)

    def heading(self, text: str, size: float = 13) -> None:
        """A bold heading with some room above it."""
        self.pdf.ln(2)
        self.paragraph(text, size, bold=True, space=1)

    def field(self, label: str, value: Any) -> None:
        """A label and its value on one row (the value wraps beside the label)."""
        self._font(9, bold=True)
        self.pdf.cell(48, 5, self._text(label))
        shown = "—" if value is None or value == "" else str(value)
        align = self._align(shown)
        self._font(9)
        self.pdf.multi_cell(0, 5, self._text(shown), align=align, new_x="LMARGIN",
                            new_y="NEXT")
        self.pdf.ln(0.5)

    def output(self) -> bytes:
        """The finished PDF."""
        return bytes(self.pdf.output())


# -- the decision letter -------------------------------------------------------------------

@dataclass(frozen=True)
class Letter:
    """What a decision letter says, gathered from the case and its workflow data."""

    case: Case
    data: dict[str, Any]
    language: str
    organisation: str
    external_body: str
    decided_at: datetime | None = None
    reviewed_at: datetime | None = None

    @property
    def direction(self) -> str:
        """'rtl' for Arabic, else 'ltr'."""
        return "rtl" if self.language in RTL else "ltr"

    @property
    def template(self) -> str:
        """The Jinja template holding this language's wording."""
        return f"letters/decision_{self.language}.html"

    def value(self, key: str) -> str:
        """A workflow value as text ('' when absent or empty)."""
        found = self.data.get(key)
        return "" if found is None else str(found).strip()

    def date(self, value: datetime | None) -> str:
        """A date as this letter's language writes it: 4 March 2025 / 4 مارس 2025."""
        if value is None:
            return ""
        return f"{value.day} {MONTHS[self.language][value.month - 1]} {value.year}"

    def amount(self, key: str = "compensation_amount") -> str:
        """A compensation amount with thousands separators, or '' when there is none."""
        found = self.data.get(key)
        if isinstance(found, bool) or not isinstance(found, int | float) or found <= 0:
            return ""
        return f"{found:,.2f}".removesuffix(".00")

    def paragraphs(self, key: str) -> list[str]:
        """A workflow text split into its non-empty lines, one paragraph each."""
        return [line.strip() for line in self.value(key).splitlines() if line.strip()]


def has_decision(case: Case) -> bool:
    """Whether the case's data holds a decision (an outcome), so a letter exists."""
    return bool(cases.case_data(case).get("outcome"))


def language_for(case: Case, asked: str | None = None) -> str:
    """The letter's language: the one asked for if we have it, else the complainant's."""
    if asked in LANGUAGES:
        return str(asked)
    return case.preferred_language if case.preferred_language in LANGUAGES else "en"


def decision_letter(case: Case, language: str | None = None) -> Letter:
    """The decision letter of a case; NotFound while no decision has been made."""
    data = cases.case_data(case)
    if not data.get("outcome"):
        raise NotFound(NO_DECISION)
    decided, reviewed = _decision_dates(case)
    language = language_for(case, language)
    config = current_app.config
    body = config["PLAINT_EXTERNAL_BODY"]
    if body == DEFAULTS["PLAINT_EXTERNAL_BODY"]:  # our own wording, so we have it in Arabic
        body = DEFAULT_EXTERNAL_BODY.get(language, body)
    return Letter(case, data, language, config["PLAINT_ORGANISATION_NAME"], body, decided,
                  reviewed)


def _decision_dates(case: Case) -> tuple[datetime | None, datetime | None]:
    """When the newest decision and the newest review were recorded in the history."""
    decided = reviewed = None
    for event in audit.history(case):
        if '"outcome"' not in event.data:
            continue
        values = json.loads(event.data).get("values")
        if not isinstance(values, dict):
            continue
        if values.get("outcome"):
            decided = event.at
        if values.get("review_outcome"):
            reviewed = event.at
    return decided, reviewed


def render_html(letter: Letter, **links: str) -> str:
    """The letter as a printable web page, with links back and to its PDF."""
    return render_template("letters/page.html", letter=letter, links=links)


def render_pdf(letter: Letter) -> bytes:
    """The letter as a PDF, read block by block from the same template as the page."""
    body = render_template(letter.template, letter=letter)
    printer = Printer(f"{letter.case.reference} {letter.organisation}", letter.language,
                      letter.organisation)
    sizes = {"h1": 15.0, "h2": 12.0}
    for kind, css, text in blocks_of(body):
        if kind in sizes:
            printer.heading(text, sizes[kind])
        else:
            printer.paragraph(("• " if kind == "li" else "") + text,
                              size=9 if "small" in css else 10.5)
    return printer.output()


def pdf_name(letter: Letter) -> str:
    """The file name of the letter's PDF."""
    return f"{letter.case.reference}-decision-{letter.language}.pdf"


PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}


def pdf_headers(letter: Letter) -> dict[str, str]:
    """Headers that make a browser save the letter's PDF and keep no copy in caches."""
    return {"Content-Type": "application/pdf", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'attachment; filename="{pdf_name(letter)}"', **PRIVATE}


def other_language(letter: Letter) -> str:
    """The language the letter is also available in."""
    return next(language for language in LANGUAGES if language != letter.language)


_BREAK = "\x1e"  # stands for <br> while the template's own line breaks are collapsed


class _Blocks(HTMLParser):
    """Headings, paragraphs and list items of a rendered letter, in order."""

    BLOCKS = frozenset({"h1", "h2", "h3", "p", "li"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []
        self._open: tuple[str, str] | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "nav"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self._close()
            self._open = (tag, dict(attrs).get("class") or "")
        elif tag == "br":
            self._text.append(_BREAK)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "nav"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self._close()

    def handle_data(self, data: str) -> None:
        if self._open and not self._skip:
            self._text.append(data.replace(_BREAK, " "))

    def _close(self) -> None:
        if self._open:
            lines = "".join(self._text).split(_BREAK)
            text = "\n".join(" ".join(line.split()) for line in lines).strip()
            if text:
                self.found.append((self._open[0], self._open[1], text))
        self._open, self._text = None, []


def blocks_of(html: str) -> list[tuple[str, str, str]]:
    """(tag, class, text) of each heading, paragraph and list item of some HTML."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    parser._close()
    return parser.found


def strip_controls(text: str) -> str:
    """Text without control characters (other than newlines) that a PDF cannot show."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
