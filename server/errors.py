"""Domain errors, each with a message a person can act on, and the one place that answers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_request_context, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .extensions import db


class PlaintError(Exception):
    """Something the person asking can fix or should know; never a bug."""

    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(PlaintError):
    """No such case, task or version (or not one this person may see)."""

    status = 404


class Forbidden(PlaintError):
    """The person is signed in but may not do this."""

    status = 403


class Unauthenticated(PlaintError):
    """An API call without a valid token (cookies never authenticate one)."""

    status = 401

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))


class TooManyAttempts(Forbidden):
    """Refused for now because of repeated failures; try again later."""

    status = 429


class Conflict(PlaintError):
    """The record changed since it was read; reload and try again."""

    status = 409


class InvalidInput(PlaintError):
    """Submitted data failed validation; `field_errors` maps each field to its messages."""

    status = 422

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.field_errors = field_errors or {}


class ProcessFailed(PlaintError):
    """The diagram could not go on from here (a failing expression or script)."""

    status = 422


class DeployRefused(PlaintError):
    """A bundle was not deployed; `issues` lists every problem with its element."""

    status = 422

    def __init__(self, message: str, issues: list[Any]) -> None:
        super().__init__(message)
        self.issues = issues


F = TypeVar("F", bound=Callable[..., Any])


def answers_json(view: F) -> F:
    """Declare a view that answers JSON, its errors included (the studio editor's calls)."""
    setattr(view, "plaint_json", True)  # noqa: B010 - a function attribute mypy cannot see
    return view


def _wants_json() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.path.startswith("/api/") or getattr(view, "plaint_json", False):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > \
        request.accept_mimetypes["text/html"]


def _api_answer(exc: BaseException) -> Any:
    """The API's problem document for an error of an API call (web/api/problems.py), or None."""
    answer = current_app.extensions.get("plaint.api_problem")
    if answer is None or not request.path.startswith("/api/v") or not has_request_context():
        return None
    return answer(exc)


def init_app(app: Flask) -> None:
    """Answer domain and HTTP errors as JSON for the API and HTML for pages."""

    @app.errorhandler(PlaintError)
    def plaint_error(exc: PlaintError) -> Any:
        db.session.rollback()
        if (api := _api_answer(exc)) is not None:
            return api
        # Errors that carry located problems (a studio draft's) list them; others say one.
        located = getattr(exc, "problems", None) or []
        problems = [p.as_dict() for p in located] or [_problem(exc.message)]
        issues = [str(i) for i in exc.issues] if isinstance(exc, DeployRefused) else \
            [p["message"] if p["file"] is None else f"{p['file']}: {p['message']}"
             for p in problems if located]
        if _wants_json():
            body: dict[str, Any] = {"error": exc.message, "problems": problems}
            if isinstance(exc, InvalidInput):
                body["fields"] = exc.field_errors
            if isinstance(exc, DeployRefused):
                body["issues"] = issues
            return jsonify(body), exc.status
        return render_template("error.html", status=exc.status, message=exc.message,
                               issues=issues), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        db.session.rollback()
        if (api := _api_answer(exc)) is not None:
            return api
        if _wants_json():
            return jsonify({"error": exc.description,
                            "problems": [_problem(str(exc.description))]}), exc.code
        return render_template("error.html", status=exc.code, message=exc.description,
                               issues=[]), exc.code

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        if (api := _api_answer(exc)) is not None:
            return api
        # Werkzeug stops reading before the view runs: say what to do, not "capacity limit".
        # The limit is this request's own (a public form's is lower than the global one);
        # when the body was within it, a text field was over the text limit.
        limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0
        text_only = request.mimetype != "multipart/form-data"
        if request.content_length is not None and request.content_length <= limit:
            limit, text_only = request.max_form_memory_size or limit, True
        per_file = app.config.get("PLAINT_MAX_ATTACHMENT_BYTES", 0) // (1024 * 1024)
        if request.blueprint == "studio":
            message = gettext(
                "The upload is larger than the %(total)d MB accepted at once, so nothing was "
                "saved. Upload the process's files without anything else.",
                total=(request.max_content_length or 0) // (1024 * 1024))
        elif text_only:
            message = gettext(
                "What you sent is larger than the %(total)d KB we accept at once, so nothing "
                "was saved. Go back (what you typed is still in the form), shorten the longest "
                "text and send again.", total=limit // 1024)
        else:
            message = gettext(
                "What you sent is larger than the %(total)d MB we accept at once, so nothing "
                "was saved. Go back, choose fewer or smaller documents (each can be at most "
                "%(each)d MB) and send again; you can add more documents later.",
                total=limit // (1024 * 1024), each=per_file)
        if _wants_json():
            return jsonify({"error": message, "problems": [_problem(message)]}), 413
        return render_template("error.html", status=413, message=message, issues=[]), 413

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("unhandled error")
        if (api := _api_answer(exc)) is not None:
            return api
        message = ("Something went wrong on our side. Nothing you entered was saved; "
                   "please try again.")
        if _wants_json():
            return jsonify({"error": message, "problems": [_problem(message)]}), 500
        return render_template("error.html", status=500, message=message, issues=[]), 500


def _problem(message: str) -> dict[str, Any]:
    """A message as the studio editor lists problems: not tied to a file or element."""
    return {"file": None, "element_id": None, "line": None, "message": message}
