"""Settings of single sign-on with OpenID Connect (PLAINT_OIDC_* variables).

Read by config.from_environment at start and checked again by create_app (tests and
embedders pass settings directly); a bad value stops the start with a message that says
what to write instead. With no PLAINT_OIDC_ISSUER single sign-on is off.
"""

from __future__ import annotations

import os
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

DEFAULTS: dict[str, Any] = {
    "PLAINT_OIDC_ISSUER": "",  # empty: single sign-on is off, the sign-in page is passwords only
    "PLAINT_OIDC_CLIENT_ID": "",
    "PLAINT_OIDC_CLIENT_SECRET": "",
    # The claim (in the ID token or the userinfo answer) listing the person's groups.
    "PLAINT_OIDC_GROUPS_CLAIM": "groups",
    # The words of the sign-in button after "Sign in with"; empty: the issuer's host name.
    "PLAINT_OIDC_LABEL": "",
    "PLAINT_OIDC_SCOPES": "openid profile email",
    "PLAINT_OIDC_TIMEOUT": 10.0,  # seconds per request to the provider
}
TEXTS = ("PLAINT_OIDC_ISSUER", "PLAINT_OIDC_CLIENT_ID", "PLAINT_OIDC_CLIENT_SECRET",
         "PLAINT_OIDC_GROUPS_CLAIM", "PLAINT_OIDC_LABEL", "PLAINT_OIDC_SCOPES")
LOOPBACK_NAMES = ("localhost",)


class OidcConfigError(ValueError):
    """A single sign-on setting that cannot be used."""


def read(settings: dict[str, Any]) -> None:
    """Read the PLAINT_OIDC_* variables into `settings` (over DEFAULTS) and check them."""
    for key in TEXTS:
        if os.environ.get(key) is not None:
            settings[key] = os.environ[key] if key == "PLAINT_OIDC_CLIENT_SECRET" \
                else os.environ[key].strip()
    raw = os.environ.get("PLAINT_OIDC_TIMEOUT")
    if raw is not None:
        try:
            settings["PLAINT_OIDC_TIMEOUT"] = float(raw)
        except ValueError:
            raise OidcConfigError(f"PLAINT_OIDC_TIMEOUT={raw!r} is not a number") from None
    check(settings)


def enabled(settings: Any) -> bool:
    """Whether single sign-on is on (an issuer is set)."""
    return bool(settings.get("PLAINT_OIDC_ISSUER"))


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's own (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check(settings: Any) -> None:
    """Refuse settings single sign-on cannot work with, saying what to write instead."""
    issuer = settings.get("PLAINT_OIDC_ISSUER") or ""
    if not issuer:
        return
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query \
            or parts.fragment:
        raise OidcConfigError(
            f"PLAINT_OIDC_ISSUER={issuer!r}: give the provider's issuer URL exactly as its "
            "discovery document names it, e.g. https://login.microsoftonline.com/<tenant>/v2.0 "
            "or https://keycloak.example.com/realms/staff")
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise OidcConfigError(
            f"PLAINT_OIDC_ISSUER={issuer!r}: the issuer must use https (plain http is "
            "allowed only for a provider on this machine, 127.0.0.1 or localhost)")
    for key in ("PLAINT_OIDC_CLIENT_ID", "PLAINT_OIDC_CLIENT_SECRET"):
        if not settings.get(key):
            raise OidcConfigError(
                f"PLAINT_OIDC_ISSUER is set but {key} is not: give the client id and secret "
                "the provider issued when Plaint was registered as an application")
    if not (settings.get("PLAINT_OIDC_GROUPS_CLAIM") or "").strip():
        raise OidcConfigError("PLAINT_OIDC_GROUPS_CLAIM is empty: name the claim that lists "
                              "a person's groups (e.g. groups, roles)")
    if "openid" not in (settings.get("PLAINT_OIDC_SCOPES") or "").split():
        raise OidcConfigError(f"PLAINT_OIDC_SCOPES={settings.get('PLAINT_OIDC_SCOPES')!r}: "
                              "the scopes must include openid (e.g. openid profile email)")
    if float(settings.get("PLAINT_OIDC_TIMEOUT") or 0) < 1:
        raise OidcConfigError("PLAINT_OIDC_TIMEOUT must be at least 1 (seconds)")


def label(settings: Any) -> str:
    """The words after "Sign in with": the configured label, else the issuer's host."""
    return str(settings.get("PLAINT_OIDC_LABEL") or
               urlsplit(settings.get("PLAINT_OIDC_ISSUER") or "").hostname or "")


def metadata_url(issuer: str) -> str:
    """Where OpenID Connect Discovery puts the provider's configuration."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"
