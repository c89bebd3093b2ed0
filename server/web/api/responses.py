"""Small helpers the API's views share: declared answers, the JSON body, If-Match."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel
from spectree import Response

from ...errors import InvalidInput, PlaintError
from .problems import Problem

F = TypeVar("F", bound=Callable[..., Any])
# What an API view returns: a response model, alone or with a status and headers, which
# spectree checks against the declared answers and serializes.
Answer = BaseModel | tuple[BaseModel, int, dict[str, str]]


class UnsupportedMediaType(PlaintError):
    """A body in a media type the call does not take."""

    status = 415


def answers(status: int, model: type[BaseModel] | None, *errors: int) -> Response:
    """The answers a view declares: its success with its model, and its problems."""
    declared: dict[str, Any] = {f"HTTP_{code}": Problem for code in (*errors, 500)}
    declared[f"HTTP_{status}"] = model
    return Response(**declared)


def accepts(*media: str) -> Callable[[F], F]:
    """Refuse (415) a body in another media type, before the body is validated."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.mimetype not in media:
                raise UnsupportedMediaType(_("Send the body as %(media)s.",
                                             media=" or ".join(media)))
            return view(*args, **kwargs)
        return cast(F, wrapper)
    return decorate


def json_body() -> dict[str, Any]:
    """The request's JSON object (spectree has validated it against the view's model)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def if_match() -> int | None:
    """The case version an If-Match header names ("3", or the ETag "\\"3\\""), if sent."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 12:
        message = _("If-Match carries the case version (its ETag), like \"3\".")
        raise InvalidInput(message, {"If-Match": [message]})
    return int(text)
