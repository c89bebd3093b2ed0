"""Reading an e-mail: who sent it, about what, its text (HTML made plain) and its files.

Mail is untrusted input. The MIME parser of the standard library reads it (with the
modern policy, which decodes encoded words and charsets); a message it cannot make sense
of raises Unreadable, and the caller keeps it for a person. HTML is parsed by lxml's HTML
parser with no network and no entity expansion beyond HTML's own, and only its text is
kept: script, style and other non-content elements are dropped with what is inside them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import parseaddr

from lxml import etree
from lxml import html as lxml_html

MAX_HTML_BYTES = 2 * 1024 * 1024  # an HTML part is cut here before parsing
SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template", "object",
                     "iframe", "svg", "math", "select", "button"})
BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
                    "blockquote", "pre", "table", "ul", "ol", "dl", "dt", "dd", "hr",
                    "section", "article", "header", "footer", "address"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MSGID = re.compile(r"<[^<>\s]{1,250}>")
NULL_SENDERS = ("mailer-daemon", "postmaster")


class Unreadable(ValueError):
    """The message cannot be read as an e-mail; the message says what is wrong."""


@dataclass(frozen=True)
class MailFile:
    """A file that came with a message."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    """What Plaint reads from one e-mail."""

    sender: str | None  # the address, lower-case; None when there is none
    sender_name: str
    subject: str
    message_id: str | None
    refers_to: list[str] = field(default_factory=list)  # In-Reply-To and References ids
    text: str = ""
    files: list[MailFile] = field(default_factory=list)
    automatic: str | None = None  # why it is an auto-reply or bounce, if it is one
    html_only: bool = False


def parse(raw: bytes) -> ParsedMail:
    """Read a raw message; Unreadable when it has no usable headers or body."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; anything it raises is a broken message
        raise Unreadable(f"The message cannot be parsed: {exc}") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise Unreadable("The message has no headers.")
    try:
        name, address = _sender(message)
        subject = _one_line(str(message.get("Subject", "") or ""))[:500]
        mail = ParsedMail(sender=address, sender_name=name, subject=subject,
                          message_id=_first_id(message.get("Message-ID")),
                          refers_to=_ids(message, "In-Reply-To") + _ids(message, "References"))
        mail.automatic = automatic(message, address)
        mail.text, mail.html_only = _body(message)
        mail.files = _files(message)
    except Unreadable:
        raise
    except Exception as exc:  # a header or part the library chokes on: the message is broken
        raise Unreadable(f"The message cannot be read: {type(exc).__name__}: {exc}") from None
    if message.defects and not mail.text and not mail.files:
        raise Unreadable("The message is broken: " + "; ".join(
            type(d).__name__ for d in message.defects[:5]))
    return mail


def _sender(message: EmailMessage) -> tuple[str, str | None]:
    """The sender's name and address: From (or Sender); no address when there is none."""
    for header in ("From", "Sender"):
        value = message.get(header)
        if value is None:
            continue
        addresses = getattr(value, "addresses", None)
        if addresses:
            first: Address = addresses[0]
            address = (first.addr_spec or "").strip().lower()
            if "@" in address and len(address) <= 254:
                return _one_line(first.display_name or "")[:200], address
        name, address = parseaddr(str(value))
        if "@" in address and len(address) <= 254:
            return _one_line(name)[:200], address.strip().lower()
    return "", None


def automatic(message: EmailMessage, sender: str | None) -> str | None:
    """Why a message was sent by a machine, not a person (RFC 3834 and common practice)."""
    submitted = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted[:60]}"
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "an automatic reply (X-Autoreply)"
    return_path = str(message.get("Return-Path", "") or "").strip()
    if return_path == "<>":
        return "a null sender (Return-Path: <>)"
    if sender and sender.partition("@")[0] in NULL_SENDERS:
        return f"a mail system sender ({sender})"
    return None


def _ids(message: EmailMessage, header: str) -> list[str]:
    values = message.get_all(header) or []
    return [found for value in values for found in _MSGID.findall(str(value))][:50]


def _first_id(value: object) -> str | None:
    found = _MSGID.findall(str(value or ""))
    return found[0] if found else None


def _body(message: EmailMessage) -> tuple[str, bool]:
    """The message's text: its plain part, else its HTML part made plain."""
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None and not _is_attachment(plain):
        return tidy(_content(plain)), False
    rich = message.get_body(preferencelist=("html",))
    if rich is not None and not _is_attachment(rich):
        return html_to_text(_content(rich)), True
    return "", False


def _content(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset, bad encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _is_attachment(part: MIMEPart) -> bool:
    return part.get_content_disposition() == "attachment"


def _files(message: EmailMessage) -> list[MailFile]:
    """The files attached to the message (not its text or HTML body)."""
    files = []
    body_parts = {id(p) for p in (message.get_body(preferencelist=("plain",)),
                                  message.get_body(preferencelist=("html",))) if p is not None}
    for part in message.iter_attachments() if message.is_multipart() else []:
        files.extend(_files_in(part, body_parts))
    return files


def _files_in(part: MIMEPart, body_parts: set[int]) -> list[MailFile]:
    if part.is_multipart():  # a nested multipart/related or /mixed: its files count too
        return [f for sub in part.iter_parts() for f in _files_in(sub, body_parts)
                if id(sub) not in body_parts]
    if id(part) in body_parts:
        return []
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return []
    name = part.get_filename() or f"attachment.{part.get_content_subtype() or 'bin'}"
    return [MailFile(_one_line(name), part.get_content_type(), data)]


def html_to_text(markup: str) -> str:
    """The text a reader sees in an HTML message: no scripts, styles or tags; entities decoded."""
    data = markup.encode("utf-8", "replace")[:MAX_HTML_BYTES]
    if not data.strip():
        return ""
    parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                                  remove_blank_text=False, huge_tree=False,
                                  default_doctype=False, encoding="utf-8")
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    out: list[str] = []
    _walk(root, out)
    return tidy("".join(out))


def _walk(element: etree._Element, out: list[str]) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in SKIPPED:
        if element.tail:
            out.append(element.tail)
        return
    if tag in BLOCKS:
        out.append("\n")
    if tag == "li":
        out.append("- ")
    if element.text and isinstance(element.tag, str):
        out.append(element.text)
    for child in element:
        _walk(child, out)
    if tag in BLOCKS:
        out.append("\n")
    if element.tail:
        out.append(element.tail)


def tidy(text: str) -> str:
    """Text with spaces collapsed per line, at most one blank line in a row, no control chars."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

