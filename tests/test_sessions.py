"""Sessions and sign-in: ending every session of a person, throttling that cannot be raced
or turned against the owner, and the client address behind a proxy."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from server.config import ConfigError, from_environment, trusted_proxies
from server.errors import PlaintError
from server.extensions import db
from server.models import User
from server.services import auth
from tests.support.data import PASSWORD
from tests.support.web import make_user, post, sign_in, submit

# These tests call the services (accounts, sign-in) directly, in the test's app context.
pytestmark = pytest.mark.usefixtures("app_ctx")

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.4"
PROXY = "10.0.0.2"
WRONG = "wrong password!"


def captured(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second client holding a copy of the first one's session cookie, as a thief would."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, FlaskClient]:
    """The person's own client, signed in, and a thief's copy of its cookie (checked to work)."""
    own = app.test_client()
    assert sign_in(own, username).status_code == 302
    thief = captured(app, own)
    assert thief.get("/tasks").status_code == 200
    return own, thief


def signed_out(client: FlaskClient) -> bool:
    """Whether a staff page sends this client to sign in."""
    page = client.get("/tasks")
    return page.status_code == 302 and "/login" in page.headers["Location"]


def admin(app: Flask) -> FlaskClient:
    make_user("root", "admin")
    client = app.test_client()
    assert sign_in(client, "root").status_code == 302
    return client


def edit(client: FlaskClient, username: str, roles: list[str], active: bool = True):
    values: dict = {"display_name": username.title(), "email": "", "roles": roles}
    if active:
        values["active"] = "1"
    return submit(client, f"/admin/users/{username}", values)


def at(client: FlaskClient, address: str, forwarded: str | None = None) -> FlaskClient:
    """Send this client's requests from `address`, optionally with an X-Forwarded-For."""
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded is None:
        client.environ_base.pop("HTTP_X_FORWARDED_FOR", None)
    else:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded
    return client


# --- every session ends ------------------------------------------------------------------

def test_signing_out_ends_a_captured_cookie_and_every_other_device(app) -> None:
    make_user("hana", "handler")
    own, thief = signed_in(app, "hana")
    laptop = app.test_client()
    sign_in(laptop, "hana")
    assert post(own, "/logout").status_code == 302
    assert signed_out(thief) and signed_out(laptop) and signed_out(own)
    assert sign_in(app.test_client(), "hana").status_code == 302  # signing in again works


def test_an_admin_password_reset_ends_every_session_of_the_account(app) -> None:
    root = admin(app)
    make_user("hana", "handler")
    _own, thief = signed_in(app, "hana")
    assert post(root, "/admin/users/hana/password").status_code == 302
    assert signed_out(thief)
    assert root.get("/admin/users").status_code == 200  # the admin stays signed in


def test_a_password_reset_from_the_command_line_ends_every_session(app) -> None:
    make_user("hana", "handler")
    _own, thief = signed_in(app, "hana")
    result = app.test_cli_runner().invoke(args=["reset-password", "hana"])
    assert result.exit_code == 0, result.output
    assert signed_out(thief)


def test_an_admin_resetting_their_own_password_keeps_this_session_only(app) -> None:
    root = admin(app)
    other_device = captured(app, root)
    assert post(root, "/admin/users/root/password").status_code == 302
    page = root.get("/admin/users/root")
    assert page.status_code == 200 and 'id="new-password"' in page.get_data(as_text=True)
    assert other_device.get("/admin/users").status_code == 302


def test_removing_a_role_ends_every_session_but_adding_one_does_not(app) -> None:
    root = admin(app)
    make_user("hana", "handler", "supervisor")
    _own, thief = signed_in(app, "hana")
    assert edit(root, "hana", ["handler", "supervisor", "auditor"]).status_code == 302
    assert thief.get("/tasks").status_code == 200
    assert edit(root, "hana", ["handler"]).status_code == 302
    assert signed_out(thief)
    assert thief.get("/tasks?view=team").status_code == 302  # no supervisor view left open


def test_switching_an_account_off_ends_its_sessions_for_good(app) -> None:
    root = admin(app)
    make_user("hana", "handler")
    _own, thief = signed_in(app, "hana")
    assert edit(root, "hana", ["handler"], active=False).status_code == 302
    assert signed_out(thief)
    assert edit(root, "hana", ["handler"], active=True).status_code == 302
    assert signed_out(thief)  # switching it back on does not bring the old cookie back
    assert sign_in(app.test_client(), "hana").status_code == 302


def test_a_cookie_from_before_this_version_is_not_honoured(app) -> None:
    make_user("hana", "handler")
    client, _thief = signed_in(app, "hana")
    hana = db.session.scalar(db.select(User).where(User.username == "hana"))
    with client.session_transaction() as session:
        session["_user_id"] = str(hana.id)  # the bare id older session cookies hold
    assert signed_out(client)


def test_a_cookie_replayed_from_another_browser_is_refused(app) -> None:
    make_user("hana", "handler")
    _own, thief = signed_in(app, "hana")
    thief.environ_base["HTTP_USER_AGENT"] = "another browser"
    assert signed_out(thief)  # session_protection = "strong"


# --- throttling --------------------------------------------------------------------------

def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(app, monkeypatch) -> None:
    make_user("hana", "handler")
    checks = []
    real_check = User.check_password

    def counted(user: User, password: str) -> bool:
        checks.append(password)
        return real_check(user, password)

    monkeypatch.setattr(User, "check_password", counted)
    start = threading.Barrier(30)
    outcomes: list[str] = []

    def guess() -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                auth.authenticate("hana", WRONG, ATTACKER)
            except PlaintError as exc:
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    # The clock stands still, so no pause can run out while the threads race.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        threads = [threading.Thread(target=guess) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert len(checks) == auth.PER_ACCOUNT.limit
    assert sorted(outcomes) == sorted(["InvalidInput"] * auth.PER_ACCOUNT.limit
                                      + ["TooManyAttempts"] * (30 - auth.PER_ACCOUNT.limit))


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(app) -> None:
    make_user("hana", "handler")
    attacker = at(app.test_client(), ATTACKER)
    answers = [sign_in(attacker, "hana", WRONG) for _ in range(50)]
    assert [a.status_code for a in answers[:5]] == [422] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert "Try again in" in answers[-1].get_data(as_text=True)
    assert sign_in(attacker, "hana").status_code == 429  # even the right password, from there
    owner = at(app.test_client(), OWNER)
    assert sign_in(owner, "hana").status_code == 302
    assert owner.get("/tasks").status_code == 200


def test_the_wait_grows_with_each_failure_and_a_success_clears_it(app) -> None:
    make_user("hana", "handler")
    client = at(app.test_client(), OWNER)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        for _ in range(5):
            assert sign_in(client, "hana", WRONG).status_code == 422
        paused = sign_in(client, "hana")
        assert paused.status_code == 429
        assert "Too many failed sign-ins" in paused.get_data(as_text=True)
        assert "Try again in 16 seconds" in paused.get_data(as_text=True)
        clock.shift(timedelta(seconds=17))
        assert sign_in(client, "hana", WRONG).status_code == 422
        assert "Try again in 32 seconds" in sign_in(client, "hana").get_data(as_text=True)
        clock.shift(timedelta(seconds=33))
        assert sign_in(client, "hana").status_code == 302
        post(client, "/logout")
        for _ in range(5):  # a success starts the count again
            assert sign_in(client, "hana", WRONG).status_code == 422
        assert sign_in(client, "hana", WRONG).status_code == 429


def test_the_wait_is_capped_and_says_minutes(app) -> None:
    make_user("hana", "handler")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        for n in range(20):  # each after the last pause ran out, within the hour
            if n:
                clock.shift(timedelta(hours=1) - timedelta(seconds=1))
            with pytest.raises(PlaintError, match="not right"):
                auth.authenticate("hana", WRONG, ATTACKER)
        with pytest.raises(PlaintError, match="Try again in 15 minutes"):
            auth.authenticate("hana", PASSWORD, ATTACKER)


def test_an_address_trying_many_accounts_is_paused_for_every_account(app) -> None:
    make_user("hana", "handler")
    sprayer = at(app.test_client(), ATTACKER)
    for n in range(auth.PER_ADDRESS.limit):
        assert sign_in(sprayer, f"user{n}", WRONG).status_code == 422
    paused = sign_in(sprayer, "hana")
    assert paused.status_code == 429 and "Try again in" in paused.get_data(as_text=True)
    assert sign_in(at(app.test_client(), OWNER), "hana").status_code == 302


# --- the client address behind a proxy ---------------------------------------------------

def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(app) -> None:
    make_user("hana", "handler")
    attacker = app.test_client()
    for n in range(5):
        at(attacker, ATTACKER, forwarded=f"192.0.2.{n}")
        assert sign_in(attacker, "hana", WRONG).status_code == 422
    at(attacker, ATTACKER, forwarded=OWNER)
    assert sign_in(attacker, "hana").status_code == 429  # counted on its real address
    assert sign_in(at(app.test_client(), OWNER), "hana").status_code == 302


def test_with_one_trusted_hop_the_proxy_s_view_of_the_client_is_counted(app) -> None:
    app.config["PLAINT_TRUSTED_PROXIES"] = trusted_proxies("1")
    make_user("hana", "handler")
    attacker = at(app.test_client(), PROXY, forwarded=ATTACKER)
    for _ in range(5):
        assert sign_in(attacker, "hana", WRONG).status_code == 422
    # What the client puts in front of the proxy's own entry does not matter.
    at(attacker, PROXY, forwarded=f"{OWNER}, {ATTACKER}")
    assert sign_in(attacker, "hana").status_code == 429
    owner = at(app.test_client(), PROXY, forwarded=OWNER)  # through the same proxy
    assert sign_in(owner, "hana").status_code == 302


def test_with_trusted_networks_the_first_untrusted_hop_from_the_right_is_counted(app) -> None:
    app.config["PLAINT_TRUSTED_PROXIES"] = trusted_proxies("10.0.0.0/8, 127.0.0.1")
    make_user("hana", "handler")
    attacker = at(app.test_client(), PROXY, forwarded=f"{OWNER}, {ATTACKER}, 10.1.2.3")
    for _ in range(5):
        assert sign_in(attacker, "hana", WRONG).status_code == 422
    assert sign_in(attacker, "hana").status_code == 429
    # A peer outside the trusted networks cannot choose its address with the header.
    outsider = at(app.test_client(), "192.0.2.50", forwarded=ATTACKER)
    assert sign_in(outsider, "hana").status_code == 302
    owner = at(app.test_client(), PROXY, forwarded=f"{OWNER}, 10.9.9.9")
    assert sign_in(owner, "hana").status_code == 302


def test_trusted_proxies_come_from_the_environment(monkeypatch, tmp_path) -> None:
    assert from_environment(str(tmp_path))["PLAINT_TRUSTED_PROXIES"] == 0
    monkeypatch.setenv("PLAINT_TRUSTED_PROXIES", "2")
    assert from_environment(str(tmp_path))["PLAINT_TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("PLAINT_TRUSTED_PROXIES", "10.0.0.0/8, 2001:db8::/32,192.168.1.1")
    assert from_environment(str(tmp_path))["PLAINT_TRUSTED_PROXIES"] == (
        ip_network("10.0.0.0/8"), ip_network("2001:db8::/32"), ip_network("192.168.1.1/32"))
    monkeypatch.setenv("PLAINT_TRUSTED_PROXIES", "the load balancer")
    with pytest.raises(ConfigError, match="PLAINT_TRUSTED_PROXIES"):
        from_environment(str(tmp_path))

