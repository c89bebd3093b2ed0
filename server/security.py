"""Security headers, size caps on anonymous posts, request JSON that cannot crash, clean logs.

Every response gets the headers; every anonymous post its cap (text, or text and the
documents the limits allow); every JSON body is refused as malformed when it would crash
a later step; and no log line names a tracking link.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from .access import PUBLIC
from .formkit.check import not_text

F = TypeVar("F", bound=Callable[..., Any])
# Scripts only from our own files: data reaches them in data- attributes or JSON blocks.
SCRIPT_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'{styles}; "
                 "img-src 'self' data:; font-src 'self' data:; object-src 'none'; "
                 "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Pages whose styles are set inline by code we do not write: bpmn-js and dmn-js in the
# studio, the e-mail HTML (inline styles, as mail clients need) shown in a sandboxed frame.
INLINE_STYLES = {"studio.editor", "admin_outbox.outbox_message"}
# Pages the same for everyone, holding nothing personal: a browser may keep them, so going
# back to the complaint form after a refused post finds what was typed.
BLANK_PAGES = {"static", "public.index", "public.health", "portal.new_complaint", "auth.login"}
MULTIPART_FRAMING = 64 * 1024  # part headers and boundaries around the fields and documents
HSTS = "max-age=31536000"
_TRACKING_PATH = re.compile(r"(/track/)[^/\s?#\"']+")
REDACTED = r"\1[redacted]"
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def takes_documents(view: F) -> F:
    """Declare a public form that accepts documents, so its size cap leaves room for them."""
    setattr(view, "plaint_documents", True)  # noqa: B010 - a function attribute mypy cannot see
    return view


def _public_view(endpoint: str | None) -> Any:
    """The view of an endpoint if anyone may post to it, else None."""
    view = current_app.view_functions.get(endpoint or "")
    return view if PUBLIC in getattr(view, "plaint_access", ()) else None


def _text_cap() -> int:
    """The most text an anonymous form may send."""
    return int(current_app.config["PLAINT_MAX_PUBLIC_FORM_BYTES"])


def _document_cap() -> int:
    """The most a public form with documents can need: the documents the limits allow and text."""
    config = current_app.config
    return (int(config["PLAINT_MAX_ATTACHMENT_BYTES"])
            * int(config["PLAINT_MAX_ATTACHMENTS_PER_UPLOAD"])
            + _text_cap() + MULTIPART_FRAMING)


class PlaintRequest(Request):
    """A request whose size limit is the anonymous form's own when it posts to one.

    The limit must hold before anything reads the body, and CSRF protection reads it in
    the first before_request hook; so the request itself knows its limit.
    """

    @property
    def max_content_length(self) -> int | None:
        """The global limit, or the lower one of a public form (text only, or with documents)."""
        limit = super().max_content_length
        view = _public_view(self.endpoint) if self.method == "POST" and current_app else None
        if view is None:
            return limit
        own = _document_cap() if getattr(view, "plaint_documents", False) \
            and self.mimetype == "multipart/form-data" else _text_cap()
        return own if limit is None else min(limit, own)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """No text field of a public form is larger than all the text it may send."""
        limit = super().max_form_memory_size
        if self.method != "POST" or not current_app or _public_view(self.endpoint) is None:
            return limit
        return _text_cap() if limit is None else min(limit, _text_cap())

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value


def _cap_public_text() -> None:
    """Refuse a public form whose text fields together are over the cap, documents aside."""
    if request.method != "POST" or request.mimetype != "multipart/form-data" \
            or (request.content_length is not None and request.content_length <= _text_cap()) \
            or _public_view(request.endpoint) is None:
        return
    sent = sum(len(value.encode("utf-8")) for _name, value in request.form.items(multi=True))
    if sent > _text_cap():
        raise RequestEntityTooLarge()


def _secure_headers(response: Response) -> Response:
    """Content-Security-Policy and friends on every response; no-store on every page."""
    headers = response.headers
    styles = " 'unsafe-inline'" if request.endpoint in INLINE_STYLES else ""
    headers.setdefault("Content-Security-Policy", SCRIPT_POLICY.format(styles=styles))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # same-origin, not no-referrer: the tracking link never leaves the site, and CSRF
    # protection over HTTPS still sees the Referer it checks.
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "Cache-Control" not in headers and \
            (request.method != "GET" or request.endpoint not in BLANK_PAGES):
        # Pages hold tracking links or personal data: never kept by a cache or the history.
        headers["Cache-Control"] = "no-store"
    return response


class _RequestJSON(DefaultJSONProvider):
    """JSON from requests: what would crash later is malformed now (a 400, not a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; too deep a nesting or half a surrogate pair raises ValueError."""
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        text = s if isinstance(s, str) else s.decode("utf-8", "replace")
        if _SURROGATE_ESCAPE.search(text) and not_text(value):
            # Such a string cannot be stored or shown: every later step would fail on it.
            raise ValueError("the JSON holds an unpaired surrogate escape")
        return value


def redact(text: str) -> str:
    """The text with every tracking link's secret replaced."""
    return _TRACKING_PATH.sub(REDACTED, text)


class RedactTrackingLinks(logging.Filter):
    """Keep tracking-link secrets out of log lines (access logs print every path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) without the secret; never drop it."""
        message = record.getMessage()
        if "/track/" in message:
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "/track/" in record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


REDACTING = RedactTrackingLinks()


def init_app(app: Flask) -> None:
    """Install the request class, the header and size hooks, and the log filter."""
    app.request_class = PlaintRequest
    app.json = _RequestJSON(app)
    app.before_request(_cap_public_text)
    app.after_request(_secure_headers)
    for logger in (*map(logging.getLogger, LOGGERS), app.logger):
        logger.addFilter(REDACTING)  # the same filter object: adding it twice is a no-op
