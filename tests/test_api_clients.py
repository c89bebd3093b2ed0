"""Administrators manage API clients: the token is shown once, kept hashed, logged."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import ApiClient, SystemEvent
from tests.support.api import bearer
from tests.support.web import make_user, post, submit

_TOKEN = re.compile(r'id="issued-token">.*?<code[^>]*>(plt_[A-Za-z0-9_-]+)</code>', re.DOTALL)


def test_an_admin_creates_a_client_whose_token_is_shown_once_and_stored_hashed(
        app: Flask, client: FlaskClient, auth) -> None:
    auth.login("root", "admin")
    auth.add_user("hana", "handler")
    created = submit(client, "/admin/api-clients", {
        "name": "crm", "scopes": ["read", "work"], "acting_user": "hana", "rate_limit": "120"})
    assert created.status_code == 201, created.get_data(as_text=True)[:2000]
    assert created.headers["Cache-Control"] == "no-store"
    token = _TOKEN.search(created.get_data(as_text=True)).group(1)
    listing = client.get("/admin/api-clients").get_data(as_text=True)
    assert token not in listing and 'id="client-crm"' in listing
    with app.app_context():
        stored = db.session.scalar(select(ApiClient).where(ApiClient.name == "crm"))
        assert stored.token_hash != token and token not in stored.token_hash
        assert stored.scope_set == {"read", "work"} and stored.rate_limit == 120
        assert "api_client.created" in db.session.scalars(select(SystemEvent.kind))
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    # A new token replaces the old one at once; revoking closes the door.
    with app.app_context():
        client_id = stored.id
    renewed = post(client, f"/admin/api-clients/{client_id}/token")
    fresh = _TOKEN.search(renewed.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/cases", headers=bearer(fresh)).status_code == 200
    assert post(client, f"/admin/api-clients/{client_id}/revoke").status_code == 302
    assert client.get("/api/v1/cases", headers=bearer(fresh)).status_code == 401


def test_the_work_scope_needs_an_acting_member_of_staff_and_errors_keep_the_input(
        app: Flask, client: FlaskClient, auth) -> None:
    auth.login("root", "admin")
    with app.app_context():
        make_user("reader", "auditor")
    refused = submit(client, "/admin/api-clients", {
        "name": "Bad Name!", "scopes": ["work"], "acting_user": "reader", "rate_limit": "0"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="acting_user-error"' in page
    assert 'id="rate_limit-error"' in page and 'value="Bad Name!"' in page
    with app.app_context():
        assert db.session.scalar(select(ApiClient.id)) is None


def test_only_administrators_manage_api_clients(client: FlaskClient, auth) -> None:
    auth.login("hana", "handler")
    assert client.get("/admin/api-clients").status_code == 403


def test_an_admin_changes_a_clients_scopes_and_the_change_is_logged(
        app: Flask, client: FlaskClient, auth) -> None:
    auth.login("root", "admin")
    created = submit(client, "/admin/api-clients", {
        "name": "crm", "scopes": ["read"], "acting_user": "", "rate_limit": "60"})
    token = _TOKEN.search(created.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/complaints", headers=bearer(token)).status_code == 405
    refused = client.post("/api/v1/complaints", headers=bearer(token), json={"fields": {}})
    assert refused.status_code == 403
    with app.app_context():
        client_id = db.session.scalar(select(ApiClient.id).where(ApiClient.name == "crm"))
    changed = submit(client, f"/admin/api-clients/{client_id}", {
        "scopes": ["read", "intake"], "acting_user": "", "rate_limit": "30"})
    assert changed.status_code == 302
    allowed = client.post("/api/v1/complaints", headers=bearer(token), json={"fields": {}})
    assert allowed.status_code == 422  # in now: the empty complaint is what is refused
    with app.app_context():
        event = db.session.scalar(select(SystemEvent).where(
            SystemEvent.kind == "api_client.changed"))
        assert event is not None and "intake" in event.data
