"""Which language each page speaks, and the switch between English and Arabic.

Per request: on a complaint's own pages its preferred language; for signed-in staff the
language in their profile; then the switch's cookie; then the browser's Accept-Language;
then English. The switch posts here: on a complaint's page it changes that complaint's
language (services/languages.py), for staff their profile, for anyone else the cookie.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, get_translations, refresh
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..access import current_actor, public
from ..errors import PlaintError
from ..models import Case
from ..services import languages, portal, process_texts, recording
from ..services.actors import Actor
from .inputs import same_site

bp = Blueprint("language", __name__)
COOKIE = "plaint_language"
COOKIE_AGE = 365 * 24 * 3600


def select() -> str:
    """The language of this request (Flask-Babel's locale selector)."""
    if not has_request_context():  # e-mails and jobs choose theirs with force_locale
        return languages.DEFAULT
    case_language = g.get("case_language")
    if case_language in languages.LANGUAGES:
        return str(case_language)
    if not has_request_context():  # a job or a service called outside a request
        return languages.DEFAULT
    if current_user.is_authenticated and current_user.language in languages.LANGUAGES:
        return str(current_user.language)
    cookie = request.cookies.get(COOKIE)
    if cookie in languages.LANGUAGES:
        return str(cookie)
    return request.accept_languages.best_match(tuple(languages.LANGUAGES)) or languages.DEFAULT


def speak_as(case: Case) -> Case:
    """Serve this page in the complaint's preferred language; the case, for chaining."""
    if case.preferred_language in languages.LANGUAGES:
        g.case_language = case.preferred_language
        refresh()  # anything translated before this point used the request's other choice
    return case


@bp.post("/language")
@public
def switch() -> ResponseReturnValue:
    """Change language and go back to the page the person was on."""
    chosen = request.form.get("language", "")
    back = _page(request.form.get("next"))
    token = request.form.get("token", "")
    response = redirect(back)
    try:
        languages.known(chosen)
        if token:  # a complainant on their complaint's pages
            case = portal.case_for_token(token)
            languages.set_case_language(case.reference, chosen, Actor.complainant())
        elif current_user.is_authenticated:
            languages.set_user_language(current_user, chosen, current_actor())
    except PlaintError:
        return response  # an unknown language or a stale link: nothing to change
    response.set_cookie(COOKIE, chosen, max_age=COOKIE_AGE, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response


def _page(target: str | None) -> str:
    """Where to go back to: the page the switch was on when it can be fetched, else home.

    A form that was posted and came back with errors sits at an address only POST
    reaches; the person lands on the home page rather than on a "method not allowed".
    """
    home = url_for("public.index")
    back = same_site(target, home)
    try:
        current_app.url_map.bind("localhost").match(back.split("?", 1)[0], method="GET")
    except RequestRedirect:
        return back
    except HTTPException:
        return home
    return back


def reader() -> str:
    """The language this page is written in (after `speak_as`, the complaint's)."""
    return str(get_locale() or languages.DEFAULT)


def process_text(version_id: int | None, source: str | None) -> str:
    """A text of a process version (a status label, a task title) in the reader's language."""
    return process_texts.text(version_id, source, reader())


def task_flag(version_id: int | None, flag: str | None) -> str:
    """What a task is flagged with (an inboxFlag of the diagram, or Plaint's own note that
    nobody may do it) in the reader's language."""
    if flag == recording.NOBODY_ELIGIBLE:
        return _("Nobody may do this: all who hold the role handled the case")
    return process_text(version_id, flag)


def process_form(version_id: int | None, schema: dict[str, Any], ui: dict[str, Any] | None
                 ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A form of a process version with its titles, help, labels and button in the
    reader's language."""
    return process_texts.form(version_id, schema, ui, reader())


_FOUND = "plaint_translations"


def translations() -> Any:
    """The translations of the language this page speaks now, as Flask-Babel finds them.

    Found once per locale in effect: a page asks for hundreds of strings, and Flask-Babel
    looks its context, domain and locale up again for each. Keyed by the locale object
    itself, which `refresh()` (speak_as) and `force_locale` replace, so a page that
    switches language gets the other language's strings from there on.
    """
    state = g.get("_flask_babel") if g else None
    locale = getattr(state, "babel_locale", None)
    if locale is None:  # not chosen yet in this context: Flask-Babel chooses it
        return get_translations()
    found: tuple[Any, Any] | None = getattr(state, _FOUND, None)
    if found is not None and found[0] is locale:
        return found[1]
    chosen = get_translations()
    setattr(state, _FOUND, (locale, chosen))
    return chosen


def init_app(app: Flask) -> None:
    """Offer the switch on every page: the languages, each named in itself; and the
    process's own texts in the page's language (`process_text(version_id, text)`)."""
    # Templates' _() and ngettext(), as Flask-Babel installs them, through `translations`.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["site_languages"] = languages.LANGUAGES
    app.jinja_env.globals["text_direction"] = languages.direction
    app.jinja_env.globals["process_text"] = process_text
    app.jinja_env.globals["task_flag"] = task_flag
