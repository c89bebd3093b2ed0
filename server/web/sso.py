"""Single sign-on with OpenID Connect: off to the provider and back, then signed in here.

Authlib's Flask client does the protocol: discovery, the authorization code flow with PKCE
(S256), state and nonce kept in the session, and the ID token checked (signature against
the provider's keys, issuer, audience, expiry, nonce). The verified claims go to
services/sso.py, which says who the person is here; `finish_sign_in` does the rest.
Every failure comes back to the sign-in page with a message, never as an error page.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from requests import RequestException

from .. import oidc_config
from ..access import landing, public
from ..config import ConfigError
from ..errors import Forbidden, InvalidInput, NotFound
from ..services import sso
from .inputs import same_site
from .signin import finish_sign_in

bp = Blueprint("sso", __name__)
CLIENT = "plaint.sso"
NEXT = "sso_next"
STATE_PREFIX = "_state_oidc_"  # where Authlib keeps a sign-in's state, nonce and verifier
LEEWAY = 60  # seconds of clock difference allowed with the provider
# Claims that, when the ID token lacks them, the userinfo answer may give.
WANTED = ("preferred_username", "email", "name")
log = logging.getLogger(__name__)


class ProviderFailed(Exception):
    """The provider could not be reached or answered something unusable."""


def init_app(app: Flask) -> None:
    """Check the settings and, with an issuer set, register the provider's client."""
    try:
        oidc_config.check(app.config)
    except oidc_config.OidcConfigError as exc:
        raise ConfigError(str(exc)) from None
    app.jinja_env.globals["sso_label"] = lambda: (
        oidc_config.label(current_app.config) if oidc_config.enabled(current_app.config)
        else None)
    if not oidc_config.enabled(app.config):
        return
    oauth = OAuth(app)
    app.extensions[CLIENT] = oauth.register(
        "oidc", client_id=app.config["PLAINT_OIDC_CLIENT_ID"],
        client_secret=app.config["PLAINT_OIDC_CLIENT_SECRET"],
        server_metadata_url=oidc_config.metadata_url(app.config["PLAINT_OIDC_ISSUER"]),
        client_kwargs={"scope": app.config["PLAINT_OIDC_SCOPES"],
                       "code_challenge_method": "S256",
                       "default_timeout": app.config["PLAINT_OIDC_TIMEOUT"]})


def _client() -> Any:
    """The provider's client; 404 while single sign-on is off."""
    client = current_app.extensions.get(CLIENT)
    if client is None:
        raise NotFound(_("Single sign-on is not set up here. Sign in with your password."))
    return client


def _label() -> str:
    """The provider's name on the button and in messages."""
    return oidc_config.label(current_app.config)


def _metadata(client: Any) -> dict[str, Any]:
    """The provider's discovery document, refused unless it names the configured issuer."""
    metadata: dict[str, Any] = client.load_server_metadata()
    issuer = current_app.config["PLAINT_OIDC_ISSUER"]
    if metadata.get("issuer") != issuer:
        # OpenID Connect Discovery 4.3: another issuer's document must not be used.
        log.error("the provider at %s calls itself %r, not PLAINT_OIDC_ISSUER %r",
                  oidc_config.metadata_url(issuer), metadata.get("issuer"), issuer)
        raise ProviderFailed("issuer mismatch")
    return metadata


def _back_to_sign_in(message: str, status: int) -> ResponseReturnValue:
    """The sign-in page with what went wrong, for any failure of single sign-on."""
    session.pop(NEXT, None)
    return render_template("auth/login.html", username="", errors={}, message=message), status


def _unreachable() -> ResponseReturnValue:
    """The sign-in page saying the provider cannot be reached (a 502: the fault is not here)."""
    return _back_to_sign_in(_("The sign-in service %(label)s cannot be reached just now. Try "
                              "again in a moment, or sign in with a password if you have one.",
                              label=_label()), 502)


def _did_not_sign_in(status: int) -> ResponseReturnValue:
    """The sign-in page saying the provider did not sign the person in."""
    return _back_to_sign_in(_("%(label)s did not sign you in. Try again, or ask an "
                              "administrator.", label=_label()), status)


def _refused_at_provider(error: str) -> ResponseReturnValue:
    """The sign-in page after the provider said no: consent refused, or another error."""
    # The description is the provider's (or whoever made the link): logged, not shown.
    log.info("the provider refused single sign-on: %r (%r)", error,
             request.args.get("error_description"))
    if error == "access_denied":
        return _back_to_sign_in(_("You did not let %(label)s sign you in to Plaint, so you "
                                  "are not signed in.", label=_label()), 403)
    return _did_not_sign_in(403)


@bp.get("/login/sso")
@public
def start() -> ResponseReturnValue:
    """Send the person to the provider to sign in; the provider sends them back below."""
    client = _client()
    if current_user.is_authenticated:
        return redirect(landing(current_user))
    for stale in [key for key in session if key.startswith(STATE_PREFIX)]:
        # Sign-ins begun and never finished would fill the session cookie: one at a time.
        session.pop(stale)
    try:
        _metadata(client)
        answer = client.authorize_redirect(
            current_app.config["PLAINT_PUBLIC_URL"] + url_for("sso.callback"))
    except (ProviderFailed, RequestException, AuthlibBaseError, ValueError, KeyError,
            RuntimeError) as exc:
        log.warning("single sign-on could not start: %r", exc)
        return _unreachable()
    session[NEXT] = same_site(request.args.get("next"), "")
    return answer


@bp.get("/login/sso/callback")
@public
def callback() -> ResponseReturnValue:
    """Where the provider sends the person back: verify the answer, then sign them in."""
    client = _client()
    if request.args.get("error"):
        return _refused_at_provider(request.args["error"])
    try:
        person = _verified_identity(client)
        signed = sso.sign_in(person)
    except MismatchingStateError:
        return _back_to_sign_in(_("This sign-in answer does not belong to a sign-in started "
                                  "in this browser, or it was already used. Start again."), 400)
    except JoseError as exc:
        log.warning("single sign-on: the ID token was refused: %r", exc)
        return _back_to_sign_in(_("The answer from %(label)s could not be verified, so you are "
                                  "not signed in. Start again; if it keeps happening, tell an "
                                  "administrator.", label=_label()), 400)
    except (InvalidInput, Forbidden) as exc:
        return _back_to_sign_in(exc.message, exc.status)
    except AuthlibBaseError as exc:  # the token endpoint refused the code
        log.warning("single sign-on: the provider refused the code: %r", exc)
        return _did_not_sign_in(400)
    except (ProviderFailed, RequestException, ValueError, KeyError, RuntimeError) as exc:
        log.warning("single sign-on could not finish: %r", exc)
        return _unreachable()
    next_url = session.pop(NEXT, "") or ""
    if signed.no_role:
        flash(_("None of your groups at %(label)s gives you a role in Plaint yet. Ask an "
                "administrator.", label=_label()), "warning")
        next_url = ""
    return finish_sign_in(signed.user, method="oidc",
                          second_factor_done=person.second_factor, next_url=next_url)


def _verified_identity(client: Any) -> sso.Identity:
    """The person the provider's answer names, once the ID token checks out."""
    config = current_app.config
    _metadata(client)
    if not request.args.get("state"):
        raise MismatchingStateError()
    token = client.authorize_access_token(
        leeway=LEEWAY,
        claims_options={"iss": {"essential": True, "value": config["PLAINT_OIDC_ISSUER"]},
                        "aud": {"essential": True, "value": config["PLAINT_OIDC_CLIENT_ID"]},
                        "exp": {"essential": True}})
    claims = token.get("userinfo")
    if not claims:
        # A token answer without an ID token (or without our nonce) proves nobody.
        raise JoseError("the provider sent no ID token")
    userinfo = None
    groups_claim = config["PLAINT_OIDC_GROUPS_CLAIM"]
    if any(name not in claims for name in (groups_claim, *WANTED)) and \
            client.load_server_metadata().get("userinfo_endpoint"):
        userinfo = dict(client.userinfo(token=token))
    return sso.identity(config["PLAINT_OIDC_ISSUER"], dict(claims), userinfo, groups_claim)
