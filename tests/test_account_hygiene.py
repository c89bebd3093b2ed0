"""Password and account hygiene: common and guessable passwords refused wherever one is
set, idle sessions ended, unused accounts switched off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import SystemEvent, User
from server.services import dormant, users
from server.services.actors import Actor
from tests.support.api import api_token, bearer
from tests.support.data import PASSWORD
from tests.support.web import form_token, make_user, sign_in, submit

pytestmark = pytest.mark.usefixtures("app_ctx")

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def account(username: str) -> User:
    """The account as the database holds it now."""
    db.session.remove()
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_an_admin_cannot_give_a_new_account_a_common_or_guessable_password(client,
                                                                           auth) -> None:
    auth.login("root", "admin")
    for password, message in (
            ("password123456", "lists of common and breached passwords"),
            ("qwertyuiop123", "lists of common and breached passwords"),
            ("mariam.haddad99", "mostly your username, name or e-mail"),
            ("short", "Use at least 12 characters")):
        page = submit(client, "/admin/users/new", {
            "username": "mariam", "display_name": "Mariam Haddad", "roles": ["handler"],
            "password_mode": "typed", "password": password})
        assert page.status_code == 422, password
        body = page.get_data(as_text=True)
        assert message in body, password
        assert 'value="Mariam Haddad"' in body  # what was typed is kept
    kept = submit(client, "/admin/users/new", {
        "username": "mariam", "display_name": "Mariam Haddad", "roles": ["handler"],
        "password_mode": "typed", "password": "orchard lantern velvet"})
    assert kept.status_code == 302


def test_the_command_line_refuses_a_common_password_too(runner) -> None:
    refused = runner.invoke(args=["create-user", "nadia", "--role", "handler",
                                  "--password", "iloveyou12345"])
    assert refused.exit_code != 0
    assert "common and breached passwords" in refused.output
    assert db.session.scalar(select(User).where(User.username == "nadia")) is None
    assert runner.invoke(args=["create-user", "nadia", "--role", "handler", "--password",
                               "orchard lantern velvet"]).exit_code == 0


def test_people_change_their_own_password_under_the_same_rule(app, client, auth) -> None:
    auth.login("hana", "handler")
    laptop = auth.signed_in("hana")
    wrong = submit(client, "/account/password", {"current_password": "not it at all",
                                                 "new_password": "orchard lantern velvet"})
    assert wrong.status_code == 422
    assert "Your current password is not right." in wrong.get_data(as_text=True)
    common = submit(client, "/account/password", {"current_password": "correct horse battery",
                                                  "new_password": "password123456"})
    assert common.status_code == 422
    assert "lists of common and breached passwords" in common.get_data(as_text=True)
    done = submit(client, "/account/password", {"current_password": "correct horse battery",
                                                "new_password": "orchard lantern velvet"})
    assert done.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays signed in
    assert laptop.get("/account").status_code == 302  # every other session ends
    assert sign_in(app.test_client(), "hana", "orchard lantern velvet").status_code == 302
    logged = db.session.scalars(select(SystemEvent.summary).where(
        SystemEvent.kind == "account.password_changed")).all()
    assert logged == ["hana changed their password; other sessions ended"]


def test_an_idle_session_ends_and_sign_in_goes_back_to_the_page(app, client, auth) -> None:
    app.config["PLAINT_IDLE_TIMEOUT_MINUTES"] = 30  # the default (tests run with a long one)
    with time_machine.travel(START, tick=False) as clock:
        auth.login("hana", "handler")
        assert client.get("/cases").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get("/cases").status_code == 200  # used: the 30 minutes start again
        clock.shift(timedelta(minutes=29))
        assert client.get("/cases?q=refund").status_code == 200
        clock.shift(timedelta(minutes=31))
        ended = client.get("/cases?q=refund")
        assert ended.status_code == 302
        assert ended.headers["Location"] == "/login?next=/cases?q%3Drefund"
        page = client.get(ended.headers["Location"]).get_data(as_text=True)
        assert "You were signed out after 30 minutes without using Plaint." in page
        back = client.post(ended.headers["Location"], data={
            "username": "hana", "password": PASSWORD, "csrf_token": form_token(page)})
        assert back.headers["Location"] == "/cases?q=refund"


def test_the_session_cookie_is_rewritten_at_most_once_a_minute(client, auth) -> None:
    with time_machine.travel(START, tick=False) as clock:
        auth.login("hana", "handler")
        client.get("/cases")
        clock.shift(timedelta(seconds=20))
        assert "Set-Cookie" not in client.get("/cases").headers
        clock.shift(timedelta(seconds=50))
        assert "session=" in client.get("/cases").headers.get("Set-Cookie", "")


def test_an_idle_time_out_does_not_touch_api_calls(app, client) -> None:
    app.config["PLAINT_IDLE_TIMEOUT_MINUTES"] = 30
    token = api_token(app, "crm", "read", acting="hana")
    with time_machine.travel(START, tick=False) as clock:
        assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
        clock.shift(timedelta(hours=5))
        answer = client.get("/api/v1/cases", headers=bearer(token))
        assert answer.status_code == 200
        assert "Set-Cookie" not in answer.headers


def test_unused_accounts_are_switched_off_and_an_admin_can_switch_them_on(app, auth) -> None:
    with time_machine.travel(START, tick=False) as clock:
        make_user("root", "admin")
        make_user("hana", "handler")
        make_user("omar", "handler")
        make_user("robot", "handler")
        api_token(app, "crm", "work", acting="robot")
        clock.shift(timedelta(days=60))
        assert sign_in(app.test_client(), "omar").status_code == 302
        assert account("omar").last_sign_in_at == START + timedelta(days=60)
        clock.shift(timedelta(days=31))  # hana and root: 91 days since they were made
        assert dormant.switch_off_dormant() == ["hana"]  # root: the last administrator
        assert not account("hana").active
        assert account("omar").active and account("robot").active  # signed in; API client
        event = db.session.scalar(select(SystemEvent).where(
            SystemEvent.kind == "account.dormant_switched_off"))
        assert event.summary == "Account hana switched off: not used for 90 days"
        refused = sign_in(app.test_client(), "hana")
        assert refused.status_code == 403

        admin = auth.signed_in("root")
        page = admin.get("/admin/users/robot").get_data(as_text=True)
        assert "acting user of an active API client" in page
        users.update_user("hana", "Hana", None, ["handler"], True, Actor.for_user(
            account("root")))
        clock.shift(timedelta(days=1))
        assert dormant.switch_off_dormant() == []  # switched on again: counted from then
        assert account("hana").active
        clock.shift(timedelta(days=90))
        assert "hana" in dormant.switch_off_dormant()


def test_a_dormant_days_setting_of_zero_keeps_every_account(app) -> None:
    app.config["PLAINT_DORMANT_DAYS"] = 0
    with time_machine.travel(START, tick=False) as clock:
        make_user("hana", "handler")
        clock.shift(timedelta(days=1000))
        assert dormant.switch_off_dormant() == []
    assert account("hana").active
