"""Single sign-on settings and claims: what start-up refuses, and who a token says someone is."""

from __future__ import annotations

import pytest

from server import config
from server.errors import InvalidInput
from server.services.sso import identity

ISSUER = "https://login.example.com/tenant/v2.0"


@pytest.mark.parametrize(("settings", "says"), [
    ({"PLAINT_OIDC_ISSUER": "http://sso.example.com"}, "must use https"),
    ({"PLAINT_OIDC_ISSUER": "login.example.com"}, "give the provider's issuer URL"),
    ({"PLAINT_OIDC_ISSUER": ISSUER, "PLAINT_OIDC_CLIENT_ID": ""}, "PLAINT_OIDC_CLIENT_ID is not"),
    ({"PLAINT_OIDC_ISSUER": ISSUER, "PLAINT_OIDC_CLIENT_SECRET": ""},
     "PLAINT_OIDC_CLIENT_SECRET is not"),
    ({"PLAINT_OIDC_ISSUER": ISSUER, "PLAINT_OIDC_SCOPES": "profile email"}, "include openid"),
    ({"PLAINT_OIDC_ISSUER": ISSUER, "PLAINT_OIDC_GROUPS_CLAIM": " "}, "GROUPS_CLAIM is empty"),
    ({"PLAINT_OIDC_ISSUER": ISSUER, "PLAINT_OIDC_TIMEOUT": "soon"}, "is not a number"),
])
def test_start_up_refuses_single_sign_on_settings_it_cannot_use(
        monkeypatch: pytest.MonkeyPatch, tmp_path, settings: dict[str, str], says: str) -> None:
    monkeypatch.setenv("PLAINT_OIDC_CLIENT_ID", "plaint")
    monkeypatch.setenv("PLAINT_OIDC_CLIENT_SECRET", "secret")
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(config.ConfigError, match=says):
        config.from_environment(str(tmp_path))


@pytest.mark.parametrize("issuer", ["https://login.example.com/realms/staff",
                                    "http://127.0.0.1:8080", "http://localhost:8080/",
                                    "http://[::1]:9000"])
def test_https_issuers_and_loopback_ones_are_accepted(
        monkeypatch: pytest.MonkeyPatch, tmp_path, issuer: str) -> None:
    monkeypatch.setenv("PLAINT_OIDC_ISSUER", issuer)
    monkeypatch.setenv("PLAINT_OIDC_CLIENT_ID", "plaint")
    monkeypatch.setenv("PLAINT_OIDC_CLIENT_SECRET", "secret")
    settings = config.from_environment(str(tmp_path))
    assert settings["PLAINT_OIDC_ISSUER"] == issuer  # kept exactly: tokens must name it so
    assert settings["PLAINT_OIDC_GROUPS_CLAIM"] == "groups"


def test_without_an_issuer_single_sign_on_is_off(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path) -> None:
    monkeypatch.delenv("PLAINT_OIDC_ISSUER", raising=False)
    assert config.from_environment(str(tmp_path))["PLAINT_OIDC_ISSUER"] == ""


def test_settings_given_to_the_app_directly_are_checked_too(tmp_path) -> None:
    from server import create_app
    with pytest.raises(config.ConfigError, match="must use https"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "SECRET_KEY": "x", "PLAINT_OIDC_ISSUER": "http://sso.example.com",
                    "PLAINT_OIDC_CLIENT_ID": "a", "PLAINT_OIDC_CLIENT_SECRET": "b"})


def test_a_token_names_the_person_their_groups_and_their_second_factor() -> None:
    person = identity(ISSUER, {"sub": "42", "preferred_username": "Sara@Bank.example",
                               "name": "Sara Saleh", "amr": ["pwd", "mfa"]},
                      None, "groups")
    assert (person.subject, person.username, person.display_name) == \
        ("42", "Sara@Bank.example", "Sara Saleh")
    assert person.second_factor and person.groups == ()
    # Groups may come from userinfo; a one-name claim (Google's hd) is one group.
    hosted = identity(ISSUER, {"sub": "42", "hd": "bank.example"}, {"sub": "42"}, "hd")
    assert hosted.groups == ("bank.example",) and not hosted.second_factor
    listed = identity(ISSUER, {"sub": "42"}, {"sub": "42", "groups": ["a", "b", "a", ""]},
                      "groups")
    assert listed.groups == ("a", "b")


def test_second_factor_is_read_from_the_signed_token_only() -> None:
    person = identity(ISSUER, {"sub": "42"}, {"sub": "42", "amr": ["otp"]}, "groups")
    assert not person.second_factor


def test_an_unverified_e_mail_is_not_used_and_a_userinfo_about_someone_else_is_refused() -> None:
    person = identity(ISSUER, {"sub": "42", "email": "x@bank.example", "email_verified": False,
                               "given_name": "Sara", "family_name": "Saleh"}, None, "groups")
    assert person.email is None and person.display_name == "Sara Saleh"
    assert person.username == ""
    with pytest.raises(InvalidInput):
        identity(ISSUER, {"sub": "42"}, {"sub": "43", "groups": ["admins"]}, "groups")
    with pytest.raises(InvalidInput):
        identity(ISSUER, {"name": "nobody"}, None, "groups")
