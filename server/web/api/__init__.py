"""The REST API under /api/v1: bearer tokens of API clients, problem details, OpenAPI 3.1.

spectree validates every request against the pydantic models of api/models.py and builds
the OpenAPI document from the same models; its own documentation pages (which load from
a CDN) are switched off: /api/docs serves swagger-ui from static/vendor.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from ...access import public
from ...extensions import csrf
from . import problems
from .auth import after, before, check_request, keep_answer

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(check_request)
bp.after_request(keep_answer)
VERSION = "1"
spec = SpecTree(
    "flask", mode="strict", path="apidoc-unused", page_templates={}, annotations=False,
    title="Plaint API", version=VERSION, before=before, after=after, validation_error_status=422,
    validation_error_model=problems.Problem, naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    description="File complaints, read cases, follow them by tracking token and work "
                "tasks. Authenticate with 'Authorization: Bearer <token>' of an API client "
                "(created by an administrator). Errors are RFC 9457 problem details.",
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(
        type=SecureType.HTTP, scheme="bearer",
        description="An API client's token, shown once when created."))],
    security={"bearer": []})


@bp.get("/v1/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document, generated from the request and response models."""
    return current_app.json.response(problem_media(spec.spec))


@bp.get("/docs")
@public
def docs() -> ResponseReturnValue:
    """The API document in swagger-ui, served from our own static files."""
    return render_template("api/docs.html")


def problem_media(document: dict[str, object]) -> dict[str, object]:
    """The document with error answers as application/problem+json, which is what they are.

    spectree names every answer application/json; the error models are the same, only
    their media type differs.
    """
    paths = document.get("paths")
    for operations in (paths or {}).values() if isinstance(paths, dict) else ():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content") or {}
                if status >= "400" and "application/json" in content:
                    answer["content"] = {problems.MEDIA_TYPE: content["application/json"]}
    return document


def init_app(app: Flask) -> None:
    """Register the API: its views, its hooks, CSRF exemption (no cookies authenticate it)."""
    from . import cases, complaints, events, tasks  # noqa: F401 - they add their views to bp

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.extensions["plaint.api_problem"] = problems.answer
