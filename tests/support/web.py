"""The test client as a browser: CSRF tokens, forms, filing a complaint, accounts, signing in."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import Flask, has_app_context
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.services.users import create_user

from .data import PASSWORD, PUBLIC_FORM
from .second_factor import code_for, enrol_if_required

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(case_version)" value="([^"]*)"')
_REFERENCE = re.compile(r"<strong>(CMP-\d{4}-\d{6})</strong>")
_TRACKING = re.compile(r'id="tracking-link">([^<]+)<')


def form_token(page: str) -> str:
    """The CSRF token of the form on a page."""
    match = _TOKEN.search(page)
    assert match, "no form on the page"
    return match.group(1)


def token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page that has a form."""
    for page in (path, "/login", "/"):
        match = _TOKEN.search(client.get(page).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on {path}")


def make_user(username: str, *roles: str, email: str | None = None) -> None:
    """An account with these roles and the test password (needs an app context)."""
    create_user(username, list(roles), PASSWORD, display_name=username.title(), email=email)
    enrol_if_required(username)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    """Send the sign-in form, and the code when it asks for one; the last answer."""
    answer = client.post("/login", data={"username": username, "password": password,
                                         "csrf_token": token(client)})
    if answer.status_code == 302 and answer.headers["Location"].endswith(SECOND_FACTOR):
        return send_code(client, code_for(client.application, username))
    return answer


SECOND_FACTOR = "/login/code"


def send_code(client: FlaskClient, code: str) -> TestResponse:
    """Send the second-factor form with `code`."""
    return client.post(SECOND_FACTOR, data={"code": code,
                                            "csrf_token": token(client, SECOND_FACTOR)})


def submit(client: FlaskClient, path: str, values: dict, **kwargs: Any) -> TestResponse:
    """Open a form page and send it back with `values`, as a browser would."""
    page = client.get(path).get_data(as_text=True)
    hidden = dict(_HIDDEN.findall(page))
    match = _TOKEN.search(page)
    assert match, f"no form on {path}"
    return client.post(path, data={**hidden, **values, "csrf_token": match.group(1)}, **kwargs)


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs: Any) -> TestResponse:
    """POST a form the way the browser would, with the session's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": token(client, "/")}, **kwargs)


def send(client: FlaskClient, path: str, values: dict | None = None,
         files: Iterable[tuple[str, bytes]] = (), page: str | None = None,
         **kwargs: Any) -> TestResponse:
    """Post a multipart form with documents as the browser would: CSRF token from `page`
    (or `path`)."""
    html = client.get(page or path).get_data(as_text=True)
    data = {**(values or {}), "csrf_token": form_token(html),
            "documents": [(io.BytesIO(content), name, "application/pdf")
                          for name, content in files]}
    return client.post(path, data=data, content_type="multipart/form-data", **kwargs)


def reference_on(page: str) -> str:
    """The case reference a confirmation page gives."""
    match = _REFERENCE.search(page)
    assert match, "no case reference on the page"
    return match.group(1)


def file_complaint(client: FlaskClient, files: Iterable[tuple[str, bytes]] = (),
                   **values: str) -> tuple[str, str]:
    """File a complaint on the public form; return its reference and tracking path.

    The form is PUBLIC_FORM with `values` changed, sent with `files` as its documents.
    """
    sent = send(client, "/complaints/new", {**PUBLIC_FORM, **values}, files)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]
    done = client.get(sent.headers["Location"]).get_data(as_text=True)
    link = _TRACKING.search(done)
    assert link, "no tracking link on the confirmation page"
    return reference_on(done), link.group(1).replace("http://localhost", "")


class AuthActions:
    """Accounts and signing in, as flaskr's tests have them: `auth.login("hana", "handler")`.

    Accounts are made when first named (the roles are needed then) with the test password.
    """

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self._app = app
        self._client = client

    def _context(self) -> AbstractContextManager[object]:
        # The test's own app context when it holds one (one session for both), else ours.
        return nullcontext() if has_app_context() else self._app.app_context()

    def add_user(self, username: str, *roles: str) -> None:
        """An account with these roles."""
        with self._context():
            make_user(username, *roles)

    def login(self, username: str, *roles: str, client: FlaskClient | None = None) -> None:
        """Sign the test client (or `client`) in, making the account if roles are given."""
        if roles:
            self.add_user(username, *roles)
        signed = sign_in(client or self._client, username)
        assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]

    def logout(self, client: FlaskClient | None = None) -> TestResponse:
        """Sign the test client (or `client`) out."""
        return post(client or self._client, "/logout")

    def signed_in(self, username: str, *roles: str) -> FlaskClient:
        """Another browser, signed in as this person."""
        client = self._app.test_client()
        self.login(username, *roles, client=client)
        return client
