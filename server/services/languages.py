"""The languages Plaint speaks, and the choices people make between them.

A complainant's pages follow the complaint's preferred language (the one they chose when
filing, which its e-mails and letters use too); changing language on those pages changes
that choice, recorded in the case history. A member of staff keeps a language in their
profile. Everyone else is served by an explicit switch, kept in a cookie, then by what
the browser asks for (web/language.py decides per request).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import bindparam

from ..database import begin_write
from ..errors import InvalidInput
from ..extensions import db
from ..models import Case, User, utcnow
from . import recording, system_log
from .actors import Actor

# Each language named in itself: how the switch offers it to someone who cannot read the other.
LANGUAGES: dict[str, str] = {"en": "English", "ar": "العربية"}
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT = "en"

_CASES = Case.__table__
_SET_LANGUAGE = _CASES.update().where(_CASES.c.id == bindparam("case_id")).values(
    preferred_language=bindparam("language"))


def known(language: str | None) -> str:
    """`language` if Plaint speaks it; a clear refusal otherwise."""
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose English or Arabic."), {"language": [
            _("Choose English or Arabic.")]})
    return language


def direction(language: str) -> str:
    """The writing direction of a language, for <html dir>."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def set_case_language(reference: str, language: str, actor: Actor) -> None:
    """Change the language a complaint's pages, e-mails and letters use; kept in its history."""
    language = known(language)
    begin_write()
    case = recording.load_case(reference)
    before = case.preferred_language
    if before == language:
        db.session.commit()
        return
    db.session.connection().execute(_SET_LANGUAGE, {"case_id": case.id, "language": language})
    recording.record_event(
        case, actor, "case.language_changed",
        f"Preferred language changed from {before or 'none'} to {language}",
        {"from": before, "to": language}, utcnow())


def set_user_language(user: User, language: str | None, actor: Actor) -> None:
    """Keep a member of staff's language (None: follow the browser)."""
    if language is not None:
        language = known(language)
    begin_write()
    user = db.session.get(User, user.id) or user
    if user.language == language:
        db.session.commit()
        return
    before, user.language = user.language, language
    system_log.record(actor, "user.language_changed",
                      f"{user.username} reads Plaint in {language or 'the browser language'}",
                      {"user": user.username, "from": before, "to": language})
    db.session.commit()
