"""Signing in and posting forms through the test client, CSRF token included."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from server.services.users import create_user

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page that has a form."""
    for page in (path, "/login", "/"):
        match = _TOKEN.search(client.get(page).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError(f"no CSRF token on {path}")


def make_user(username: str, *roles: str) -> None:
    create_user(username, list(roles), PASSWORD, display_name=username.title())


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token(client)})


_HIDDEN = re.compile(r'<input type="hidden" name="(case_version)" value="([^"]*)"')


def submit(client: FlaskClient, path: str, values: dict, **kwargs):
    """Open a form page and send it back with `values`, as a browser would."""
    page = client.get(path).get_data(as_text=True)
    hidden = dict(_HIDDEN.findall(page))
    match = _TOKEN.search(page)
    assert match, f"no form on {path}"
    return client.post(path, data={**hidden, **values, "csrf_token": match.group(1)}, **kwargs)


def post(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """POST a form the way the browser would, with the session's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": token(client, "/")}, **kwargs)
