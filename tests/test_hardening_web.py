"""Headers, leaks and odd input: what a hostile page, log reader or request cannot get."""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from server.engine.errors import EngineError
from server.engine.runtime import ProcessRuntime
from server.extensions import db
from server.models import HumanTask
from server.services import audit, cases

from .support.data import ACK, ASSESS, HANDLER, INVESTIGATE, RESPOND
from .support.web import make_user, post, sign_in, submit, token

# These tests also call the services directly, in the test's app context.
pytestmark = pytest.mark.usefixtures("app_ctx")

TEMPLATES = Path(__file__).resolve().parent.parent / "server" / "templates"
GOOD = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
        "description": "I was charged twice for one transfer.", "consent": "true"}
SECRET_DETAIL = "NameError: internal_fraud_score is not defined"


def file_complaint(client) -> tuple[str, str]:
    """File a complaint; return its reference and tracking path."""
    sent = submit(client, "/complaints/new", GOOD)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    done = client.get(sent.headers["Location"])
    assert done.headers["Cache-Control"] == "no-store"  # the page with the link
    page = done.get_data(as_text=True)
    reference = re.search(r"<strong>(CMP-\d{4}-\d{6})</strong>", page).group(1)
    link = re.search(r'id="tracking-link">([^<]+)<', page).group(1)
    return reference, link.replace("http://localhost", "")


def staff(app, username: str, *roles: str):
    """A new client signed in as a new account with these roles."""
    client = app.test_client()
    make_user(username, *roles)
    assert sign_in(client, username).status_code == 302
    return client


def policy(response) -> dict[str, str]:
    """The Content-Security-Policy as directive -> sources."""
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in response.headers["Content-Security-Policy"]
                         .split(";")) if part}


# -- headers ------------------------------------------------------------------------------

def test_every_page_forbids_inline_script_framing_plugins_and_foreign_forms(app, client) -> None:
    reference, link = file_complaint(client)
    handler = staff(app, "hana", "handler")
    for who, path in ((client, "/"), (client, "/complaints/new"), (client, link),
                      (handler, f"/cases/{reference}"), (handler, "/tasks")):
        answer = who.get(path)
        assert answer.status_code == 200, path
        csp = policy(answer)
        assert csp["script-src"] == "'self'", path
        assert "'unsafe-inline'" not in csp["style-src"], path
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert csp["base-uri"] == "'none'" and csp["form-action"] == "'self'"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
        assert "Strict-Transport-Security" not in answer.headers  # plain HTTP


def test_the_studio_editor_allows_inline_styles_but_never_inline_script(app) -> None:
    owner = staff(app, "olga", "process_owner")
    version = owner.get("/studio/").get_data(as_text=True)
    edit = re.search(r'action="(/studio/versions/\d+/edit)"', version).group(1)
    editor = owner.get(post(owner, edit).headers["Location"])
    assert editor.status_code == 200
    csp = policy(editor)
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self' 'unsafe-inline'"


def test_hsts_is_sent_over_https_and_when_cookies_are_secure(app, client) -> None:
    assert client.get("/", base_url="https://localhost").headers[
        "Strict-Transport-Security"].startswith("max-age=")
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Strict-Transport-Security" in client.get("/").headers


def test_pages_with_a_tracking_link_or_personal_data_are_never_stored(app, client) -> None:
    reference, link = file_complaint(client)
    handler = staff(app, "hana", "handler")
    task_id = db.session.scalar(select(HumanTask.task_id))
    admin = staff(app, "ada", "admin")
    for who, path in ((client, link), (handler, f"/cases/{reference}"),
                      (handler, f"/cases/{reference}/tasks/{task_id}"), (handler, "/tasks"),
                      (handler, "/cases"), (admin, "/admin/users"), (admin, "/admin/outbox")):
        answer = who.get(path)
        assert answer.status_code == 200, path
        assert "no-store" in answer.headers["Cache-Control"], path
    refused = submit(client, "/complaints/new", {**GOOD, "complainant_email": "x"})
    assert refused.status_code == 422 and refused.headers["Cache-Control"] == "no-store"
    # The blank form may be kept, so that Back after a refused post finds what was typed.
    assert "no-store" not in client.get("/complaints/new").headers.get("Cache-Control", "")


def test_no_template_holds_an_inline_script_or_event_handler() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                        re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    for path in TEMPLATES.rglob("*.html"):
        if path.parent.name == "email":
            continue  # e-mails are not pages; mail clients run no script
        text = path.read_text()
        assert not inline.search(text), path
        assert not handler.search(text), path
        assert "javascript:" not in text, path


def test_the_letter_prints_from_a_script_file(app) -> None:
    page = (TEMPLATES / "letters" / "page.html").read_text()
    assert "data-print" in page and "js/print.js" in page and "<style" not in page
    client = app.test_client()
    assert client.get("/static/js/print.js").status_code == 200
    sheet = client.get("/static/css/letter.css")
    assert sheet.status_code == 200 and b"@media print" in sheet.get_data()


# -- the tracking link stays out of logs --------------------------------------------------

def test_the_access_log_never_shows_a_tracking_link(app, client, caplog) -> None:
    _reference, link = file_complaint(client)
    secret = link.rsplit("/", 1)[1]
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in (link, link + "/letter", "/track/not-a-real-token"):
                try:
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{server.server_port}{path}", timeout=10).close()
                except urllib.error.HTTPError:
                    pass  # the wrong link and the letter before a decision are 404s
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len([line for line in lines if "GET /track/[redacted]" in line]) == 3, lines
    assert not any(secret in line or "not-a-real-token" in line for line in lines), lines


def test_gunicorn_and_error_logs_are_redacted_too(app, caplog) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("gunicorn.access").info(
            '%(h)s "%(r)s" %(s)s "%(f)s"', {"h": "10.0.0.1", "r": "GET /track/SeCrEt123 HTTP/1.1",
                                            "s": "200", "f": "https://x.example/track/SeCrEt123"})
        try:
            raise RuntimeError("while opening /track/SeCrEt123/letter")
        except RuntimeError:
            app.logger.exception("failed on /track/SeCrEt123")
    assert len(caplog.records) == 2
    text = caplog.text
    assert "SeCrEt123" not in text and text.count("/track/[redacted]") >= 3


# -- redirects stay on the site -----------------------------------------------------------

OFF_SITE = ["/\t/evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example",
            "/\n/evil.example", "https://evil.example/", "javascript:alert(1)", " /tasks",
            "/\r\n/evil.example", "http:/evil.example", "/\\/evil.example"]


def test_the_inbox_goes_back_only_to_pages_of_this_site(app) -> None:
    handler = staff(app, "hana", "handler")
    action = "/cases/CMP-1999-999999/tasks/x/claim"
    for target in OFF_SITE:
        answer = post(handler, action, {"back": target})
        assert answer.status_code == 302 and answer.headers["Location"] == "/tasks", target
    kept = post(handler, action, {"back": "/tasks?view=team&page=2"})
    assert kept.headers["Location"] == "/tasks?view=team&page=2"


def test_sign_in_goes_on_only_to_pages_of_this_site(app, client) -> None:
    make_user("hana", "handler")
    for target in OFF_SITE:
        answer = client.post("/login", query_string={"next": target}, data={
            "username": "hana", "password": "correct horse battery",
            "csrf_token": token(client)})
        assert answer.status_code == 302 and answer.headers["Location"] == "/tasks", target
        client.post("/logout", data={"csrf_token": token(client, "/tasks")})


# -- complainants never see the diagram's error text --------------------------------------

def failing(*_args, **_kwargs):  # type: ignore[no-untyped-def]
    raise EngineError(f"Script_risk: {SECRET_DETAIL}", "Script_risk")


def test_a_failing_intake_shows_the_complainant_a_plain_message_and_logs_the_cause(
        client, monkeypatch, caplog) -> None:
    monkeypatch.setattr(ProcessRuntime, "start", failing)
    with caplog.at_level(logging.ERROR):
        refused = submit(client, "/complaints/new", GOOD)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert SECRET_DETAIL not in body and "Script_risk" not in body
    number = re.search(r"error number ([0-9a-f]{8})", body).group(1)
    assert "charged twice" in body  # what was typed is still there
    assert any(number in r.getMessage() and SECRET_DETAIL in r.getMessage()
               for r in caplog.records)


def test_staff_still_see_why_the_process_failed(app, monkeypatch) -> None:
    handler = staff(app, "hana", "handler")
    monkeypatch.setattr(ProcessRuntime, "start", failing)
    refused = submit(handler, "/cases/new", {**GOOD, "channel": "phone"})
    assert refused.status_code == 422 and SECRET_DETAIL in refused.get_data(as_text=True)


def test_a_failing_answer_shows_the_case_reference_and_no_internals(
        client, monkeypatch, caplog) -> None:
    reference, link = file_complaint(client)
    case = cases.get_case(reference)
    for values in (ACK, ASSESS, INVESTIGATE, RESPOND):
        task_id = db.session.scalar(select(HumanTask.task_id).where(
            HumanTask.case_id == case.id))
        cases.complete_task(reference, task_id, values, HANDLER)
    monkeypatch.setattr(ProcessRuntime, "message", failing)
    with caplog.at_level(logging.ERROR):
        refused = post(client, f"{link}/complainant_response",
                       {"accepted": "false", "reason": "Not enough"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert SECRET_DETAIL not in body and "Script_risk" not in body
    assert reference in body and "Not enough" in body
    assert any(SECRET_DETAIL in r.getMessage() and reference in r.getMessage()
               for r in caplog.records)


# -- odd input is a 4xx, never a 500 ------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


def test_json_nested_100000_deep_is_a_400(app) -> None:
    owner = staff(app, "olga", "process_owner")
    header = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"',
                                       owner.get("/studio/").get_data(as_text=True)).group(1),
              "Content-Type": "application/json"}
    answer = owner.post("/studio/forms/preview", data=DEEP, headers=header)
    assert answer.status_code == 400 and answer.get_json()["problems"]
    edit = re.search(r'action="(/studio/versions/\d+/edit)"',
                     owner.get("/studio/").get_data(as_text=True)).group(1)
    draft = post(owner, edit).headers["Location"]
    deployed = owner.post(f"{draft}/deploy", data='{"comment": ' + DEEP + "}", headers=header)
    assert deployed.status_code == 400 and deployed.get_json()["problems"]


@pytest.mark.parametrize("page", ["9" * 5000, "9" * 4000, "-1", "0", "²", "٣", "1e9", "", "x"])
def test_any_page_number_shows_a_page(app, page: str) -> None:
    handler = staff(app, "hana", "handler")
    assert handler.get("/tasks", query_string={"page": page}).status_code == 200
    admin = staff(app, "ada", "admin")
    assert admin.get("/admin/outbox", query_string={"page": page}).status_code == 200


def test_a_schema_or_body_that_is_not_text_is_refused_never_a_500(app) -> None:
    owner = staff(app, "olga", "process_owner")
    header = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"',
                                       owner.get("/studio/").get_data(as_text=True)).group(1)}
    for schema in ('{"type": "object", "title": "\\ud800", "properties": {}}',
                   '{"type": "object", "properties": {"a": {"type": "integer", "default": '
                   + "9" * 5000 + "}}}"):
        answer = owner.post("/studio/forms/preview", headers=header,
                            json={"schema": schema, "uischema": ""})
        assert answer.status_code == 422 and answer.get_json()["problems"], schema[:60]
    edit = re.search(r'action="(/studio/versions/\d+/edit)"',
                     owner.get("/studio/").get_data(as_text=True)).group(1)
    draft = post(owner, edit).headers["Location"]
    deployed = owner.post(f"{draft}/deploy", data='{"comment": "half a pair \\udc00"}',
                          headers={**header, "Content-Type": "application/json"})
    assert deployed.status_code == 400 and deployed.get_json()["problems"]
    fine = owner.post(f"{draft}/deploy", data='{"comment": "a whole pair \\ud83d\\ude00"}',
                      headers={**header, "Content-Type": "application/json"})
    assert fine.status_code == 200, fine.get_json()


# -- a GET never writes ---------------------------------------------------------------------

def test_the_case_bundle_is_a_post_and_a_get_records_nothing(app, client) -> None:
    reference, _link = file_complaint(client)
    handler = staff(app, "hana", "handler")
    assert handler.get(f"/cases/{reference}/bundle.zip").status_code == 405
    assert handler.post(f"/cases/{reference}/bundle.zip").status_code == 400  # no CSRF token
    db.session.rollback()
    assert "case.exported" not in [e.kind for e in audit.history(cases.get_case(reference))]
    page = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert f'method="post" action="/cases/{reference}/bundle.zip"' in page
    made = post(handler, f"/cases/{reference}/bundle.zip")
    assert made.status_code == 200 and made.headers["Content-Type"] == "application/zip"
    db.session.rollback()
    assert audit.history(cases.get_case(reference))[-1].kind == "case.exported"
