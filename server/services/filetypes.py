"""Which documents we accept, decided by a file's content and never by what the browser claims.

A type is read from the file's first bytes, and for ZIP-based office files from the names
inside; the file name's extension must then agree (attachments checks that).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from flask_babel import gettext as _


def N_(text: str) -> str:
    """Mark a string for translation where it is defined; it is translated when shown."""
    return text


@dataclass(frozen=True)
class Kind:
    """A type of document we accept."""

    content_type: str
    extensions: tuple[str, ...]
    label: str


KINDS = {
    "pdf": Kind("application/pdf", (".pdf",), N_("PDF")),
    "png": Kind("image/png", (".png",), N_("PNG image")),
    "jpeg": Kind("image/jpeg", (".jpg", ".jpeg"), N_("JPEG image")),
    "gif": Kind("image/gif", (".gif",), N_("GIF image")),
    "webp": Kind("image/webp", (".webp",), N_("WebP image")),
    "text": Kind("text/plain", (".txt",), N_("Text")),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 (".docx",), N_("Word document")),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 (".xlsx",), N_("Excel workbook")),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                 (".pptx",), N_("PowerPoint presentation")),
    "odt": Kind("application/vnd.oasis.opendocument.text", (".odt",), N_("OpenDocument text")),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", (".ods",),
                N_("OpenDocument spreadsheet")),
}
ACCEPT = ",".join(ext for kind in KINDS.values() for ext in kind.extensions)
BY_TYPE = {kind.content_type: kind for kind in KINDS.values()}
_MAGIC = ((b"%PDF-", "pdf"), (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"),
          (b"GIF87a", "gif"), (b"GIF89a", "gif"))
_OOXML = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
_ODF = {KINDS["odt"].content_type: "odt", KINDS["ods"].content_type: "ods"}
# Text that opens like HTML, SVG or XML is markup a browser would run, not a letter.
_MARKUP = re.compile(r"\s*<[!?a-zA-Z]")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError,
               ValueError, RuntimeError, NotImplementedError)


def sniff(data: bytes) -> str | None:
    """The kind of document these bytes are (a key of KINDS), or None if not one we accept."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        return _office_kind(data)
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _MARKUP.match(text.lstrip("\ufeff")) else "text"


def _office_kind(data: bytes) -> str | None:
    """Which office format a ZIP file is; None for any other archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                return next((kind for prefix, kind in _OOXML
                             if any(n.startswith(prefix) for n in names)), None)
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return _ODF.get(mimetype)
    except _ZIP_ERRORS:
        return None
    return None


def allowed_types() -> str:
    """The sentence that lists every type we accept, for a refused upload."""
    return _("Allowed types: PDF, PNG, JPEG, GIF, WebP, plain text (.txt), Word (.docx), "
             "Excel (.xlsx), PowerPoint (.pptx), OpenDocument text (.odt) and "
             "spreadsheet (.ods).")
