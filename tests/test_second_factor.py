"""The second factor: setting it up on one's own page, signing in with a code or a
recovery code (each accepted once), roles that must have one, and an administrator's
reset of a lost device."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import RecoveryCode, SystemEvent, User
from server.services import users
from tests.support.data import PASSWORD
from tests.support.second_factor import code_for
from tests.support.web import make_user, post, send_code, submit, token

pytestmark = pytest.mark.usefixtures("app_ctx")

ENROL = "/account/second-factor"
_SECRET_SHOWN = re.compile(r'id="totp-secret" dir="ltr">([A-Z2-7 ]+)<')
_CODES = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")


def password_only(client: FlaskClient, username: str) -> str:
    """Send the password form alone; where it sends the person."""
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": token(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    return str(answer.headers["Location"])


def signed_in_as(client: FlaskClient) -> bool:
    """Whether the client can open a page any signed-in person may."""
    return client.get("/account").status_code == 200


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Set up a second factor on the account page as a person would; secret and codes."""
    page = client.get(ENROL).get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline
    shown = _SECRET_SHOWN.search(page)
    assert shown, "no secret to type on the page"
    secret = shown.group(1).replace(" ", "")
    done = submit(client, ENROL, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    return secret, _CODES.findall(done.get_data(as_text=True))


def events(kind: str) -> list[SystemEvent]:
    """The system log's events of a kind."""
    db.session.remove()
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.kind == kind)))


def test_a_handler_sets_up_a_second_factor_and_then_needs_a_code(app, client, auth) -> None:
    auth.login("hana", "handler")
    wrong = submit(client, ENROL, {"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.get_data(as_text=True)
    secret, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalar(select(User).where(User.username == "hana"))
    assert stored.totp_secret and secret not in stored.totp_secret  # kept encrypted
    assert len(db.session.scalars(select(RecoveryCode.code_hash)).all()) == 10
    assert not any(code in h for h in db.session.scalars(select(RecoveryCode.code_hash))
                   for code in codes)
    assert [e.summary for e in events("account.second_factor_enrolled")] == [
        "hana set up a second factor"]
    assert "recovery codes are left" in client.get(ENROL).get_data(as_text=True)

    auth.logout()
    browser = app.test_client()
    assert password_only(browser, "hana").endswith("/login/code")
    assert not signed_in_as(browser)  # the password alone signs nobody in
    refused = send_code(browser, "123456")
    assert refused.status_code == 422
    assert "That code is not right" in refused.get_data(as_text=True)
    assert not signed_in_as(browser)
    # The code of this 30 seconds went to the set-up: the app's next one (a step ahead is
    # allowed for clocks a little apart).
    code = pyotp.TOTP(secret).at(int(time.time()) + 30)
    assert send_code(browser, code).status_code == 302
    assert signed_in_as(browser)

    # The same code, in another sign-in within its 30 seconds, is refused.
    thief = app.test_client()
    password_only(thief, "hana")
    assert send_code(thief, code).status_code == 422
    assert not signed_in_as(thief)


def test_a_recovery_code_signs_in_once(app, auth) -> None:
    client = app.test_client()
    auth.login("hana", "handler", client=client)
    _secret, codes = enrol(client)
    for attempt, expected in ((codes[0], 302), (codes[0].upper(), 422), (codes[1], 302)):
        browser = app.test_client()
        password_only(browser, "hana")
        assert send_code(browser, attempt).status_code == expected
        assert signed_in_as(browser) is (expected == 302)
    assert "8 recovery codes are left" in client.get(ENROL).get_data(as_text=True)


def test_wrong_codes_are_paused_like_passwords(app, auth) -> None:
    make_user("root", "admin")
    browser = app.test_client()
    password_only(browser, "root")
    for _attempt in range(5):
        assert send_code(browser, "000000").status_code == 422
    paused = send_code(browser, code_for(app, "root"))
    assert paused.status_code == 429
    assert "Too many failed sign-ins" in paused.get_data(as_text=True)
    assert not signed_in_as(browser)


def test_a_pending_sign_in_ends_when_the_account_changes(app, auth) -> None:
    make_user("root", "admin")
    browser = app.test_client()
    password_only(browser, "root")
    users.reset_password("root", "a fresh unrelated passphrase")  # raises the session epoch
    answer = send_code(browser, code_for(app, "root"))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert not signed_in_as(browser)


def test_an_admin_without_a_second_factor_can_only_set_one_up(app) -> None:
    users.create_user("root", ["admin"], PASSWORD)  # made without the test support's factor
    browser = app.test_client()
    assert password_only(browser, "root").endswith(ENROL)
    for page in ("/admin/users", "/studio/", "/account"):
        answer = browser.get(page)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(ENROL)
    enrol(browser)
    assert browser.get("/admin/users").status_code == 200


def test_roles_an_admin_chooses_must_set_up_a_second_factor(app, auth) -> None:
    admin = auth.signed_in("root", "admin")
    hana = auth.signed_in("hana", "handler")
    assert hana.get("/tasks").status_code == 200
    page = admin.get("/admin/security").get_data(as_text=True)
    assert 'value="admin" id="role-admin"\n             checked disabled' in page
    saved = post(admin, "/admin/security", {"roles": ["handler", "auditor"]})
    assert saved.status_code == 302
    assert [e.summary for e in events("security.second_factor_roles")] == [
        "Roles that need a second factor: auditor, handler"]
    sent = hana.get("/tasks")  # an open session is sent to set one up at once
    assert sent.status_code == 302 and sent.headers["Location"].endswith(ENROL)
    enrol(hana)
    assert hana.get("/tasks").status_code == 200
    refused = post(admin, "/admin/security", {"roles": ["nobody"]})
    assert refused.status_code == 422 and "Unknown role(s): nobody." in \
        refused.get_data(as_text=True)


def test_an_admin_resets_a_lost_device(app, auth) -> None:
    admin = auth.signed_in("root", "admin")
    lina = auth.signed_in("lina", "process_owner")  # enrolled by the test support
    assert "Reset the second factor" in admin.get("/admin/users/lina").get_data(as_text=True)
    assert post(admin, "/admin/users/lina/second-factor/reset").status_code == 302
    assert not signed_in_as(lina)  # signed out everywhere
    stored = db.session.scalar(select(User).where(User.username == "lina"))
    assert stored.totp_secret is None
    assert db.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == stored.id)).all() == []
    assert [e.data for e in events("account.second_factor_reset")] == [
        '{"had_second_factor": true, "username": "lina"}']
    assert events("account.second_factor_reset")[0].actor == "root"
    # Their role needs one: the next sign-in leads to setting it up again.
    assert password_only(app.test_client(), "lina").endswith(ENROL)
    assert "Their roles need one" in admin.get("/admin/users/lina").get_data(as_text=True)


def test_a_sign_in_that_already_showed_a_second_factor_is_not_asked_again(app: Flask) -> None:
    from server.web.signin import finish_sign_in

    make_user("root", "admin")
    user = db.session.scalar(select(User).where(User.username == "root"))
    with app.test_request_context("/"):
        answer = finish_sign_in(user, method="oidc", second_factor_done=True)
        assert answer.status_code == 302 and "/login/code" not in answer.headers["Location"]
    with app.test_request_context("/"):
        answer = finish_sign_in(user, method="password")
        assert answer.headers["Location"].endswith("/login/code")


def test_single_sign_on_with_the_providers_second_factor_meets_the_rule(app: Flask) -> None:
    from server.web.signin import finish_sign_in

    users.create_user("root", ["admin"], PASSWORD)  # no second factor of ours
    user = db.session.scalar(select(User).where(User.username == "root"))
    with app.test_request_context("/"):
        answer = finish_sign_in(user, method="oidc", second_factor_done=True)
        assert not answer.headers["Location"].endswith(ENROL)
    with app.test_request_context("/"):
        answer = finish_sign_in(user, method="oidc")
        assert answer.headers["Location"].endswith(ENROL)


def test_the_command_line_resets_a_lost_device(runner) -> None:
    make_user("root", "admin")
    done = runner.invoke(args=["reset-second-factor", "root"])
    assert done.exit_code == 0, done.output
    assert account_factor("root") is None
    assert [e.actor for e in events("account.second_factor_reset")] == ["command line"]
    assert runner.invoke(args=["reset-second-factor", "nobody"]).exit_code == 1


def account_factor(username: str) -> str | None:
    """The stored (sealed) second factor of an account."""
    db.session.remove()
    return db.session.scalar(select(User.totp_secret).where(User.username == username))
