"""Single sign-on through a real OpenID Connect provider on loopback (node-oidc-provider).

The provider runs for the module; each test's app points at it. People sign in at the
provider's own login page (plain HTTP here, Chromium in test_browser_sso.py) and come back
to Plaint's callback through the test client, as a browser would bring them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from server import create_app
from server.extensions import db
from server.models import OidcIdentity, SystemEvent, User, utcnow
from server.services import users
from server.services.actors import Actor
from server.web import sso as sso_views
from tests.support.app import app_config
from tests.support.oidc import Provider, identity_provider, provider_login
from tests.support.web import make_user, post, sign_in

CALLBACK = "http://127.0.0.1:5000/login/sso/callback"  # PLAINT_PUBLIC_URL's default
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"name": "Alice Amin", "email": "alice@example.com",
              "groups": ["complaints-handlers"]},
    "bob": {"name": "Bob Badr", "email": "bob@example.com", "groups": ["sales"]},
    "carol": {"name": "Carol Chen", "email": "carol@example.com",
              "groups": ["complaints-handlers"], "amr": ["pwd", "otp"]},
}
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The provider for the module's tests."""
    with identity_provider([CALLBACK], ACCOUNTS) as running:
        yield running


@pytest.fixture
def idp(provider: Provider) -> Iterator[Provider]:
    """The provider with the module's accounts, as each test starts."""
    provider.set_accounts(ACCOUNTS)
    yield provider
    provider.set_accounts(ACCOUNTS)


@pytest.fixture
def sso_app(database_url: str, idp: Provider) -> Iterator[Flask]:
    """The app with single sign-on at the test provider, groups mapped by an administrator."""
    application = create_app({**app_config(database_url), **idp.settings()})
    with application.app_context():
        make_user("ada", "admin")
        users.add_role("trainee", "Learning")
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def admin(app: Flask) -> FlaskClient:
    """An administrator's browser."""
    client = app.test_client()
    assert sign_in(client, "ada").status_code == 302
    return client


def map_group(app: Flask, group: str, role: str) -> TestResponse:
    """An administrator maps a provider group to a role on the admin page."""
    return post(admin(app), "/admin/sso/mappings", {"group": group, "role": role})


def through_provider(client: FlaskClient, login: str, *, consent: bool = True,
                     start: str = "/login/sso") -> TestResponse:
    """Sign in at the provider as `login` and come back to Plaint's callback."""
    begun = client.get(start)
    assert begun.status_code == 302, begun.get_data(as_text=True)[:2000]
    back = provider_login(begun.headers["Location"], login, consent=consent)
    assert back.startswith(CALLBACK), back
    return client.get(_path(back))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def account(app: Flask, username: str) -> User:
    """An account as stored now (detached, roles loaded)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, f"no account {username}"
        user.role_names  # noqa: B018 - load the roles before the session goes
        db.session.expunge(user)
        return user


def log_kinds(app: Flask) -> list[str]:
    """The kinds of the system log's events, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(SystemEvent.kind).order_by(SystemEvent.id)))


def test_someone_in_a_mapped_group_signs_in_through_the_provider_and_works_the_inbox(
        sso_app: Flask) -> None:
    assert map_group(sso_app, "complaints-handlers", "handler").status_code == 302
    browser = sso_app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    assert "Sign in with Test Directory" in page
    answer = through_provider(browser, "alice")
    assert answer.status_code == 302 and answer.headers["Location"] == "/tasks"
    inbox = browser.get("/tasks")
    assert inbox.status_code == 200 and "Signed in as Alice Amin." in inbox.get_data(as_text=True)
    alice = account(sso_app, "alice")
    assert alice.role_names == {"handler"}
    assert (alice.display_name, alice.email) == ("Alice Amin", "alice@example.com")
    # The account made for her has no password anyone could use.
    assert sign_in(sso_app.test_client(), "alice", "!sso").status_code == 422
    assert log_kinds(sso_app)[-2:] == ["sso.mapping_added", "sso.account_created"]
    listing = admin(sso_app).get("/admin/sso").get_data(as_text=True)
    assert 'id="linked-alice"' in listing and "<code class=\"me-1\">complaints-handlers" in listing


@sqlite_only
def test_the_second_sign_in_finds_the_same_account_and_a_next_page_is_kept(
        sso_app: Flask) -> None:
    map_group(sso_app, "complaints-handlers", "handler")
    through_provider(sso_app.test_client(), "alice")
    # The sign-in page a locked page sent someone to passes the page on to the provider's way.
    asked = sso_app.test_client().get("/login?next=/cases/new").get_data(as_text=True)
    assert 'href="/login/sso?next=/cases/new"' in asked
    again = through_provider(sso_app.test_client(), "alice",
                             start="/login/sso?next=/cases/new")
    assert again.headers["Location"] == "/cases/new"
    with sso_app.app_context():
        assert db.session.scalar(select(OidcIdentity.subject)) == "alice"
        assert [u.username for u in users.list_users()] == ["ada", "alice"]


def test_groups_changed_at_the_provider_change_the_roles_at_the_next_sign_in(
        sso_app: Flask, idp: Provider) -> None:
    map_group(sso_app, "complaints-handlers", "handler")
    map_group(sso_app, "supervisors", "supervisor")
    first = sso_app.test_client()
    through_provider(first, "alice")
    idp.set_accounts({**ACCOUNTS, "alice": {**ACCOUNTS["alice"],
                                            "groups": ["complaints-handlers", "supervisors"]}})
    second = sso_app.test_client()
    through_provider(second, "alice")
    assert account(sso_app, "alice").role_names == {"handler", "supervisor"}
    assert first.get("/tasks").status_code == 200  # a role given ends no session

    idp.set_accounts({**ACCOUNTS, "alice": {**ACCOUNTS["alice"], "groups": ["supervisors"]}})
    third = sso_app.test_client()
    through_provider(third, "alice")
    assert account(sso_app, "alice").role_names == {"supervisor"}
    # The role taken away ends her other sessions; the one signing in now goes on.
    for elsewhere in (first, second):
        gone = elsewhere.get("/tasks")
        assert gone.status_code == 302 and "/login?next=" in gone.headers["Location"]
    assert third.get("/tasks").status_code == 200
    with sso_app.app_context():
        changed = db.session.scalars(select(SystemEvent).where(
            SystemEvent.kind == "sso.roles_changed").order_by(SystemEvent.id)).all()
    assert [json.loads(e.data)["after"] for e in changed] == [["handler", "supervisor"],
                                                               ["supervisor"]]


@sqlite_only
def test_someone_whose_groups_give_no_role_is_told_so_on_the_no_access_page(
        sso_app: Flask) -> None:
    map_group(sso_app, "complaints-handlers", "handler")
    browser = sso_app.test_client()
    answer = through_provider(browser, "bob", start="/login/sso?next=/tasks")
    assert answer.headers["Location"] == "/no-access"
    page = browser.get("/no-access").get_data(as_text=True)
    assert "None of your groups at Test Directory gives you a role in Plaint yet." in page
    assert account(sso_app, "bob").role_names == set()
    assert browser.get("/tasks").status_code == 403


@sqlite_only
def test_a_switched_off_account_stays_off(sso_app: Flask) -> None:
    map_group(sso_app, "complaints-handlers", "handler")
    through_provider(sso_app.test_client(), "alice")
    with sso_app.app_context():
        users.update_user("alice", "Alice Amin", None, ["handler"], False,
                          by=Actor.for_user(users.get_user("ada")))
    browser = sso_app.test_client()
    refused = through_provider(browser, "alice")
    assert refused.status_code == 403
    assert "This account is switched off. Ask an administrator." in refused.get_data(as_text=True)
    assert browser.get("/tasks").status_code == 302
    assert not account(sso_app, "alice").active


@sqlite_only
def test_local_accounts_keep_signing_in_with_their_passwords(sso_app: Flask) -> None:
    with sso_app.app_context():
        make_user("hana", "handler")
    browser = sso_app.test_client()
    assert sign_in(browser, "hana").headers["Location"] == "/tasks"
    assert browser.get("/tasks").status_code == 200


@sqlite_only
def test_a_second_factor_at_the_provider_is_passed_to_the_sign_in(
        sso_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bool] = {}
    real = sso_views.finish_sign_in

    def watched(user: User, **kwargs: Any) -> Any:
        seen[user.username] = kwargs["second_factor_done"]
        assert kwargs["method"] == "oidc"
        return real(user, **kwargs)

    monkeypatch.setattr(sso_views, "finish_sign_in", watched)
    map_group(sso_app, "complaints-handlers", "handler")
    through_provider(sso_app.test_client(), "carol")  # amr: pwd + otp
    through_provider(sso_app.test_client(), "alice")  # a password only
    assert seen == {"carol": True, "alice": False}


@sqlite_only
def test_refusing_consent_at_the_provider_comes_back_to_the_sign_in_page(
        sso_app: Flask) -> None:
    browser = sso_app.test_client()
    answer = through_provider(browser, "alice", consent=False)
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "You did not let Test Directory sign you in to Plaint" in page
    assert 'id="username"' in page  # the sign-in page itself
    assert browser.get("/tasks").status_code == 302


@sqlite_only
def test_a_forged_absent_or_replayed_state_is_refused(sso_app: Flask) -> None:
    map_group(sso_app, "complaints-handlers", "handler")
    browser = sso_app.test_client()
    begun = browser.get("/login/sso")
    back = _path(provider_login(begun.headers["Location"], "alice"))
    code = parse_qs(urlsplit(back).query)["code"][0]
    message = "does not belong to a sign-in started in this browser"
    forged = browser.get("/login/sso/callback?" + urlencode({"code": code, "state": "forged"}))
    absent = browser.get("/login/sso/callback?" + urlencode({"code": code}))
    # An answer carried to another browser (someone pushing their sign-in on a victim).
    other = sso_app.test_client().get(back)
    for refused in (forged, absent, other):
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert browser.get(back).status_code == 302  # the real answer in its own browser
    replayed = browser.get(back)
    assert replayed.status_code == 400 and message in replayed.get_data(as_text=True)


@sqlite_only
def test_an_id_token_for_another_sign_in_is_refused(sso_app: Flask) -> None:
    browser = sso_app.test_client()
    begun = browser.get("/login/sso")
    back = provider_login(begun.headers["Location"], "alice")
    with browser.session_transaction() as session:
        key = next(k for k in session if k.startswith("_state_oidc_"))
        state = session[key]
        state["data"]["nonce"] = "another-sign-in"
        session[key] = state
    refused = browser.get(_path(back))
    assert refused.status_code == 400
    assert "The answer from Test Directory could not be verified" in refused.get_data(as_text=True)
    assert browser.get("/tasks").status_code == 302
    with sso_app.app_context():
        assert db.session.scalar(select(OidcIdentity)) is None


@sqlite_only
def test_an_expired_id_token_is_refused(sso_app: Flask) -> None:
    browser = sso_app.test_client()
    begun = browser.get("/login/sso")
    back = provider_login(begun.headers["Location"], "alice")
    # The ID token lives an hour at this provider: two hours later it is stale.
    with time_machine.travel(utcnow() + timedelta(hours=2)):
        refused = browser.get(_path(back))
    assert refused.status_code == 400
    assert "could not be verified" in refused.get_data(as_text=True)


@sqlite_only
def test_an_unreachable_provider_is_a_message_on_the_sign_in_page(
        database_url: str, idp: Provider) -> None:
    closed = create_app({**app_config(database_url),
                         **idp.settings(PLAINT_OIDC_ISSUER="http://127.0.0.1:9")})
    answer = closed.test_client().get("/login/sso")
    assert answer.status_code == 502
    assert "The sign-in service Test Directory cannot be reached just now." in \
        answer.get_data(as_text=True)


@sqlite_only
def test_a_provider_that_names_another_issuer_is_not_used(
        database_url: str, idp: Provider) -> None:
    # Same server, another name: its discovery document names 127.0.0.1, not localhost.
    renamed = idp.issuer.replace("127.0.0.1", "localhost")
    app = create_app({**app_config(database_url), **idp.settings(PLAINT_OIDC_ISSUER=renamed)})
    answer = app.test_client().get("/login/sso")
    assert answer.status_code == 502 and "cannot be reached" in answer.get_data(as_text=True)


@sqlite_only
def test_without_an_issuer_the_sign_in_page_is_as_before(app: Flask) -> None:
    browser = app.test_client()
    assert "Sign in with" not in browser.get("/login").get_data(as_text=True)
    assert browser.get("/login/sso").status_code == 404
    assert browser.get("/login/sso/callback?code=x&state=y").status_code == 404


@sqlite_only
def test_an_administrator_maps_groups_to_roles_and_every_change_is_in_the_system_log(
        sso_app: Flask) -> None:
    ada = admin(sso_app)
    page = ada.get("/admin/sso").get_data(as_text=True)
    assert "No mappings yet" in page and "http://127.0.0.1:5000/login/sso/callback" in page
    assert post(ada, "/admin/sso/mappings", {"group": " complaints  handlers ",
                                             "role": "handler"}).status_code == 302
    page = ada.get("/admin/sso").get_data(as_text=True)
    assert "<code>complaints handlers</code>" in page
    # The same mapping again, or a role that does not exist: refused, what was typed kept.
    twice = post(ada, "/admin/sso/mappings", {"group": "complaints handlers", "role": "handler"})
    assert twice.status_code == 422
    assert "The group complaints handlers already gives the role handler." in \
        twice.get_data(as_text=True)
    unknown = post(ada, "/admin/sso/mappings", {"group": "ops", "role": "wizard"})
    assert unknown.status_code == 422
    body = unknown.get_data(as_text=True)
    assert "Choose one of the roles." in body and 'value="ops"' in body
    empty = post(ada, "/admin/sso/mappings", {"group": "", "role": "handler"})
    assert empty.status_code == 422 and "Enter the group as the provider sends it" in \
        empty.get_data(as_text=True)
    removed = post(ada, "/admin/sso/mappings/remove", {"group": "complaints handlers",
                                                       "role": "handler"})
    assert removed.status_code == 302
    assert "No mappings yet" in ada.get("/admin/sso").get_data(as_text=True)
    assert post(ada, "/admin/sso/mappings/remove", {"group": "complaints handlers",
                                                    "role": "handler"}).status_code == 404
    with sso_app.app_context():
        events = db.session.scalars(select(SystemEvent).where(
            SystemEvent.kind.startswith("sso.")).order_by(SystemEvent.id)).all()
        assert [(e.kind, e.actor) for e in events] == [("sso.mapping_added", "ada"),
                                                       ("sso.mapping_removed", "ada")]
        from server.services import system_log
        assert system_log.verify().problems == []


@sqlite_only
def test_only_administrators_open_the_single_sign_on_page(sso_app: Flask) -> None:
    with sso_app.app_context():
        make_user("hana", "handler")
    browser = sso_app.test_client()
    sign_in(browser, "hana")
    assert browser.get("/admin/sso").status_code == 403
    assert post(browser, "/admin/sso/mappings", {"group": "x", "role": "admin"}).status_code \
        == 403


@sqlite_only
def test_usernames_come_from_the_provider_and_are_made_unique(
        sso_app: Flask, idp: Provider) -> None:
    idp.set_accounts({
        "u1": {"name": "Alice One", "preferred_username": "Alice@contoso.com",
               "email": "alice@contoso.com", "groups": []},
        "u2": {"name": "Alice Two", "preferred_username": "alice@fabrikam.com",
               "email": "alice@fabrikam.com", "groups": []},
        "u3": {"name": "", "preferred_username": "!", "email": "new@example.com",
               "groups": []}})
    for login in ("u1", "u2", "u3"):
        through_provider(sso_app.test_client(), login)
    with sso_app.app_context():
        made = {link.subject: (link.user.username, link.user.display_name)
                for link in db.session.scalars(select(OidcIdentity))}
    assert made["u1"] == ("alice", "Alice One")
    assert made["u2"] == ("alice-2", "Alice Two")
    assert made["u3"][0].startswith("sso-")  # "!" has no usable letters


@sqlite_only
def test_a_code_the_provider_does_not_know_is_refused_with_a_message(sso_app: Flask) -> None:
    browser = sso_app.test_client()
    begun = browser.get("/login/sso")
    back = _path(provider_login(begun.headers["Location"], "alice"))
    query = parse_qs(urlsplit(back).query)
    tampered = browser.get("/login/sso/callback?" + urlencode(
        {"code": "not-a-code-it-issued", "state": query["state"][0]}))
    assert tampered.status_code == 400
    assert "Test Directory did not sign you in. Try again, or ask an administrator." in \
        tampered.get_data(as_text=True)
    assert browser.get("/tasks").status_code == 302


@sqlite_only
def test_a_provider_that_goes_away_during_the_sign_in_is_a_message(database_url: str) -> None:
    with identity_provider([CALLBACK], ACCOUNTS) as short_lived:
        app = create_app({**app_config(database_url), **short_lived.settings()})
        browser = app.test_client()
        begun = browser.get("/login/sso")
        back = _path(provider_login(begun.headers["Location"], "alice"))
    answer = browser.get(back)  # the code cannot be exchanged: nobody answers
    assert answer.status_code == 502
    assert "cannot be reached just now" in answer.get_data(as_text=True)
