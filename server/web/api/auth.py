"""Who is calling: the bearer token, the client's rate limit, and Idempotency-Key replays."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, g, request
from flask_babel import gettext as _

from ...access import PUBLIC
from ...errors import InvalidInput, TooManyAttempts, Unauthenticated
from ...services import api_clients, api_idempotency

KEPT_HEADERS = ("Location", "ETag", "Content-Type")


def before(req: Any, resp: Any, error: Any, instance: Any, adapter: Any) -> None:
    """spectree's hook: a request that fails its model is a 422 problem with per-field errors."""
    if error is None:
        return
    fields: dict[str, list[str]] = {}
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "_body"
        fields.setdefault(where, []).append(item.get("msg", ""))
    raise InvalidInput(_("The request does not match the API document: see the errors per "
                         "field."), fields)


def after(req: Any, resp: Any, error: Any, instance: Any, adapter: Any) -> None:
    """spectree's hook: an answer off the document is our bug, answered as a 500 problem."""
    if error is not None:
        raise RuntimeError(f"the answer to {req.method} {req.path} does not match the API "
                           f"document: {error}")


def _bearer() -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(_("Send your API token as 'Authorization: Bearer <token>'."))
    return token.strip()


def check_request() -> Response | None:
    """Authenticate the caller, count the call, and replay an answered Idempotency-Key."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or PUBLIC in getattr(view, "plaint_access", ()):
        return None
    caller = api_clients.authenticate(_bearer())
    if caller is None:
        raise Unauthenticated(_("This API token is not valid: it is mistyped, was replaced "
                                "by a new one, or the client was revoked."))
    g.api_caller = caller
    wait = api_clients.spend(caller)
    if wait is not None:
        raise TooManyAttempts(_("This client made more calls this minute than its limit "
                                "allows. Try again in %(seconds)d seconds.", seconds=wait),
                              retry_after=wait)
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or key is None:
        return None
    stored = api_idempotency.reserve(caller.client_id, key, _fingerprint())
    if stored is None:
        g.idempotency_key = key
        return None
    answer = current_app.response_class(stored.body, stored.status)
    answer.headers.update(stored.headers)
    answer.headers["Idempotent-Replayed"] = "true"
    return answer


def _fingerprint() -> str:
    """What makes two POSTs the same request: path and body (a form's fields and files)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        files = []
        for name, upload in request.files.items(multi=True):
            files.append([name, upload.filename or "",
                          hashlib.sha256(upload.stream.read()).hexdigest()])
            upload.stream.seek(0)
        digest.update(json.dumps([sorted(request.form.items(multi=True)), sorted(files)])
                      .encode())
    else:
        digest.update(request.mimetype.encode() + b"\n" + request.get_data())
    return digest.hexdigest()


def keep_answer(response: Response) -> Response:
    """Keep a successful answer to an Idempotency-Key; give the key back after a failure."""
    key = g.pop("idempotency_key", None)
    if key is None:
        return response
    caller = g.api_caller
    if 200 <= response.status_code < 300:
        api_idempotency.finish(caller.client_id, key, response.status_code,
                               response.get_data(as_text=True),
                               {h: response.headers[h] for h in KEPT_HEADERS
                                if h in response.headers})
    else:
        api_idempotency.release(caller.client_id, key)
    return response
