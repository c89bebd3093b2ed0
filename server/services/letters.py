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
from typing import Any, NamedTuple

from flask import current_app, render_template
from fpdf import FPDF
from fpdf.bidi import auto_detect_base_direction
from fpdf.enums import TextDirection
from fpdf.errors import FPDFException

from ..config import DEFAULTS
from ..errors import NotFound
from ..models import Case
from . import audit, cases, localtime, money

LANGUAGES = ("en", "ar")
RTL = frozenset({"ar"})
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian package fonts-dejavu-core
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
LABEL_WIDTH = 50  # mm: the label column of Printer.field
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
        """Add the DejaVu fonts; False when they are missing (a core font is used)."""
        files = font_files()
        if files is None:
            return False
        for style, path in files.items():
            self.pdf.add_font("body", style, str(path))
        return True

    def _shape(self) -> bool:
        """Turn on HarfBuzz shaping; False (logged) when uharfbuzz is missing."""
        try:
            self.pdf.set_text_shaping(True)
        except FPDFException as exc:  # uharfbuzz missing: letters unjoined but readable
            log.warning("PDF text shaping is off, Arabic letters will not join: %s", exc)
            return False
        return True

    def _text(self, text: str) -> str:
        """Text the current font can show: no control characters, Latin-1 for a core font."""
        text = strip_controls(text.replace("\t", "    "))
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def _font(self, size: float, bold: bool = False) -> None:
        """Set the body font at a size."""
        self.pdf.set_font("body" if self.unicode else "helvetica", "B" if bold else "", size)

    def _direction(self, text: str, direction: str | None = None) -> TextDirection:
        """The direction a block reads in: as asked, the document's, or from its text."""
        if direction in ("rtl", "ltr"):
            return TextDirection.coerce(direction)
        if self.rtl and direction != "auto":
            return TextDirection.RTL
        return auto_detect_base_direction(text)

    def _align(self, text: str, direction: str | None = None) -> str:
        """Prepare shaping for a block and return its alignment (R or L)."""
        found = self._direction(text, direction)
        if self.shaped:
            # fpdf2 shapes a paragraph again for every character its line breaking adds,
            # so text that needs no shaping (Latin) is set without: 10x faster.
            self.pdf.set_text_shaping(needs_shaping(text), direction=found)
        return "R" if found == TextDirection.RTL else "L"

    def paragraph(self, text: str, size: float = 10, bold: bool = False, space: float = 1.5,
                  direction: str | None = None) -> None:
        """A block of text across the page, right-aligned when it reads right to left.

        `direction` is "rtl", "ltr" or "auto" (from the text's first letter); by default
        the document's.
        """
        align = self._align(text, direction)
        self._font(size, bold)
        self.pdf.multi_cell(0, size * 0.5, self._text(text), align=align,
                            new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(space)

    def heading(self, text: str, size: float = 13) -> None:
        """A bold heading with some room above it."""
        self.pdf.ln(2)
        self.paragraph(text, size, bold=True, space=1)

    def field(self, label: str, value: Any) -> None:
        """A label and its value beside it; a label too long for its column gets a line."""
        label = self._text(label)
        self._align(label, "auto")  # an Arabic label is shaped like any other text
        self._font(9, bold=True)
        if self.pdf.get_string_width(label) > LABEL_WIDTH - 2:
            self.pdf.multi_cell(0, 5, label, new_x="LMARGIN", new_y="NEXT")
            self.pdf.set_x(self.pdf.l_margin + LABEL_WIDTH)
        else:
            self.pdf.cell(LABEL_WIDTH, 5, label)
        shown = "—" if value is None or value == "" else str(value)
        self._align(shown, "auto")  # a value reads in its own direction, in the column
        self._font(9)
        self.pdf.multi_cell(0, 5, self._text(shown), align="L", new_x="LMARGIN",
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
        # The organisation's date, not UTC's: a complaint received at 01:00 in Riyadh is
        # received that day.
        value = value.astimezone(localtime.organisation_zone()) if value.tzinfo else value
        text = f"{value.day} {MONTHS[self.language][value.month - 1]} {value.year}"
        hijri = localtime.hijri_date(value.date(), self.language) \
            if localtime.shows_hijri() else ""
        return f"{text} ({hijri})" if hijri else text

    def amount(self, key: str = "compensation_amount") -> str:
        """A compensation amount in the letter's language and currency, or '' for none."""
        found = self.data.get(key)
        if isinstance(found, bool) or not isinstance(found, int | float) or found <= 0:
            return ""
        return money.format_amount(found, self.language)

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


REVIEW_FIELDS = ("review_outcome", "review_note", "revised_response", "revised_remedy",
                 "revised_compensation_amount")


def decision_letter(case: Case, language: str | None = None) -> Letter:
    """The decision letter of a case; NotFound while no decision has been made.

    It says the newest decision and, only if one was made after it, the newest review,
    each with what that step recorded: a review from an earlier round (before the case
    was reopened) or a field a later review left empty does not leak into it.
    """
    data = cases.case_data(case)
    if not data.get("outcome"):
        raise NotFound(NO_DECISION)
    decided, reviewed, decision, review = _decision_rounds(case)
    data = {name: value for name, value in data.items() if name not in REVIEW_FIELDS}
    data.update(decision)
    if reviewed is not None and (decided is None or reviewed >= decided):
        data.update(review)
    else:
        reviewed = None
    language = language_for(case, language)
    config = current_app.config
    body = config["PLAINT_EXTERNAL_BODY"]
    if body == DEFAULTS["PLAINT_EXTERNAL_BODY"]:  # our own wording, so we have it in Arabic
        body = DEFAULT_EXTERNAL_BODY.get(language, body)
    return Letter(case, data, language, config["PLAINT_ORGANISATION_NAME"], body, decided,
                  reviewed)


def _decision_rounds(case: Case) -> tuple[datetime | None, datetime | None,
                                          dict[str, Any], dict[str, Any]]:
    """When the newest decision and the newest review were recorded, and what each said."""
    decided = reviewed = None
    decision: dict[str, Any] = {}
    review: dict[str, Any] = {}
    for event in audit.history(case):
        if 'outcome"' not in event.data:  # neither a decision nor a review: skip the parse
            continue
        values = json.loads(event.data).get("values")
        if not isinstance(values, dict):
            continue
        if values.get("outcome"):
            decided, decision = event.at, values
        if values.get("review_outcome"):
            reviewed, review = event.at, values
    return decided, reviewed, decision, review


def render_html(letter: Letter, **links: str) -> str:
    """The letter as a printable web page, with links back and to its PDF."""
    return render_template("letters/page.html", letter=letter, links=links)


def render_pdf(letter: Letter) -> bytes:
    """The letter as a PDF, read block by block from the same template as the page."""
    body = render_template(letter.template, letter=letter)
    printer = Printer(f"{letter.case.reference} {letter.organisation}", letter.language,
                      letter.organisation)
    sizes = {"h1": 15.0, "h2": 12.0, "h3": 10.5}
    for block in blocks_of(body):
        if block.tag in sizes:
            printer.heading(block.text, sizes[block.tag])
        else:
            meta = "meta" in block.css.split()
            printer.paragraph(("• " if block.tag == "li" else "") + block.text,
                              size=9.5 if meta else 10.5, space=0.4 if meta else 1.5,
                              direction=block.direction)
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


class Block(NamedTuple):
    """A heading, paragraph or list item of a rendered letter."""

    tag: str
    css: str
    text: str
    direction: str | None  # its dir attribute: rtl, ltr, auto, or None for the letter's


class _Blocks(HTMLParser):
    """Headings, paragraphs and list items of a rendered letter, in order."""

    BLOCKS = frozenset({"h1", "h2", "h3", "p", "li"})
    SKIPPED = frozenset({"style", "script", "nav"})

    def __init__(self) -> None:
        """Start with no blocks found."""
        super().__init__(convert_charrefs=True)
        self.found: list[Block] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a block, start skipping, or note a line break."""
        if tag in self.SKIPPED:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.close_block()
            self._open = {"tag": tag, **dict(attrs)}
        elif tag == "br":
            self._text.append(_BREAK)

    def handle_endtag(self, tag: str) -> None:
        """Close a block or stop skipping."""
        if tag in self.SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.close_block()

    def handle_data(self, data: str) -> None:
        """Collect text inside an open block."""
        if self._open and not self._skip:
            self._text.append(data.replace(_BREAK, " "))

    def close_block(self) -> None:
        """End the open block, keeping it if it has any text."""
        if self._open:
            lines = "".join(self._text).split(_BREAK)
            text = "\n".join(" ".join(line.split()) for line in lines).strip()
            if text:
                self.found.append(Block(self._open["tag"] or "", self._open.get("class") or "",
                                        text, self._open.get("dir")))
        self._open, self._text = None, []


def blocks_of(html: str) -> list[Block]:
    """Each heading, paragraph and list item of some HTML, with its class and direction."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    parser.close_block()
    return parser.found


_SHAPED_CLASSES = frozenset({"R", "AL", "AN", "NSM"})


def needs_shaping(text: str) -> bool:
    """Whether text has letters that join or marks that attach (Arabic, combining accents)."""
    return any(ord(ch) >= 0x300 and unicodedata.bidirectional(ch) in _SHAPED_CLASSES
               for ch in text)


def strip_controls(text: str) -> str:
    """Text without control characters (other than newlines) that a PDF cannot show."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
