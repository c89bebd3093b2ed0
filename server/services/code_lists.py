"""Administered code lists: products, categories and causes, each code labelled in two languages.

Reports group on codes, people read labels. `label` and `choices` serve the dashboard,
filters and forms; choice_titles takes a field's titles from here when a list exists for
it (FIELD_LISTS). Codes are never deleted, only switched off: a switched-off code keeps
its label on old cases but is no longer offered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..formkit.check_lists import code_list_problems
from ..formkit.fields import CODE_LIST, CodeLists, code_list
from ..models import CodeEntry, utcnow
from ..models.code_list import FIELD_LISTS, LISTS
from . import lookups, system_log
from .actors import Actor

_CODE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_ARABIC = re.compile(r"[\u0600-\u06FF]")
MAX_LABEL = 200
MAX_CODE = 64


@dataclass
class EntryForm:
    """What the add and edit forms send, kept as typed when refused."""

    code: str = ""
    label_en: str = ""
    label_ar: str = ""
    position: str = ""
    active: bool = True

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> EntryForm:
        """The form from posted values."""
        return cls(str(values.get("code") or "").strip(),
                   " ".join(str(values.get("label_en") or "").split()),
                   " ".join(str(values.get("label_ar") or "").split()),
                   str(values.get("position") or "").strip(), "active" in values)

    @classmethod
    def of(cls, entry: CodeEntry) -> EntryForm:
        """The form filled with an entry's values."""
        return cls(entry.code, entry.label_en, entry.label_ar, str(entry.position),
                   entry.active)


def _locale(locale: str | None) -> str:
    return locale or language()


def language() -> str:
    """The language labels are given in when none is asked for: the page's, else English."""
    return str(get_locale() or "en") if has_request_context() else "en"


def list_for_field(field: str) -> str | None:
    """The code list that titles a form field's answers, if any."""
    return FIELD_LISTS.get(field)


def entries(list_name: str, include_inactive: bool = True) -> list[CodeEntry]:
    """A list's entries in their order."""
    query = select(CodeEntry).where(CodeEntry.list_name == list_name)
    if not include_inactive:
        query = query.where(CodeEntry.active)
    return list(db.session.scalars(query.order_by(CodeEntry.position, CodeEntry.code)))


def titles(list_name: str, locale: str | None = None) -> dict[str, str]:
    """Code -> label of every entry of a list (switched-off ones too: old cases hold them)."""
    shown = _locale(locale)
    return {entry.code: entry.label(shown) for entry in entries(list_name)}


def label(list_name: str, code: str | None, locale: str | None = None) -> str | None:
    """The label of a code in a language; the code itself when the list does not have it."""
    if not code:
        return code
    entry = db.session.scalar(select(CodeEntry).where(CodeEntry.list_name == list_name,
                                                      CodeEntry.code == code))
    return entry.label(_locale(locale)) if entry is not None else code


def choices(list_name: str, locale: str | None = None) -> list[tuple[str, str]]:
    """(code, label) of the codes that may be chosen now, in the list's order."""
    shown = _locale(locale)
    return [(entry.code, entry.label(shown))
            for entry in entries(list_name, include_inactive=False)]


def form_problems(forms: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(form file, message) for every field that names no list of ours (a deploy check)."""
    return [(name, _("not supported in forms: %(problem)s", problem=problem))
            for name, schema in sorted(forms.items())
            for problem in code_list_problems(schema, LISTS)]


def for_form(schema: Any, locale: str | None = None) -> CodeLists:
    """The entries of every code list a form's fields name, labelled in a language."""
    named = {code_list(spec) for spec in _specs(schema)} - {None}
    shown = _locale(locale)
    return {name: [(e.code, e.label(shown), e.active) for e in entries(name)]
            for name in sorted(n for n in named if n)}


def _specs(node: Any) -> list[dict[str, Any]]:
    """Every dict in a schema that names a code list (fields in branches and groups too)."""
    found: list[dict[str, Any]] = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if CODE_LIST in item:
                found.append(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def codes(list_name: str) -> frozenset[str]:
    """Every code of a list, switched-off ones too (old answers stay valid).

    Kept per settings stamp (services/lookups.py): every submitted form with a list asks.
    """
    return lookups.setting(("code_lists.codes", list_name), lambda: frozenset(
        db.session.scalars(select(CodeEntry.code).where(CodeEntry.list_name == list_name))))


def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def known(list_name: str) -> str:
    """The list name, if Plaint has such a list; NotFound otherwise."""
    if list_name not in LISTS:
        raise NotFound(_("There is no code list called %(list)s.", list=list_name))
    return list_name


def _check(form: EntryForm, errors: dict[str, list[str]], new: bool) -> int:
    """Note what is wrong with a form; return its position (0 when not given)."""
    if new and not _CODE.match(form.code):
        errors["code"] = [_("Codes are lowercase letters and digits joined by underscores, "
                            "e.g. credit_card.")]
    elif new and len(form.code) > MAX_CODE:
        errors["code"] = [_("Use at most %(count)s characters.", count=MAX_CODE)]
    if not form.label_en:
        errors["label_en"] = [_("Give the English label people will see.")]
    elif len(form.label_en) > MAX_LABEL:
        errors["label_en"] = [_("Use at most %(count)s characters.", count=MAX_LABEL)]
    if not form.label_ar:
        errors["label_ar"] = [_("Give the Arabic label people will see.")]
    elif len(form.label_ar) > MAX_LABEL:
        errors["label_ar"] = [_("Use at most %(count)s characters.", count=MAX_LABEL)]
    elif not _ARABIC.search(form.label_ar):
        errors["label_ar"] = [_("Write the Arabic label in Arabic script.")]
    if not form.position:
        return 0
    if not form.position.isdigit() or int(form.position) > 100000:
        errors["position"] = [_("Give a whole number from 0 to 100000, or leave it empty.")]
        return 0
    return int(form.position)


def _values(entry: CodeEntry) -> dict[str, Any]:
    return {"label_en": entry.label_en, "label_ar": entry.label_ar,
            "position": entry.position, "active": entry.active}


def add(list_name: str, form: EntryForm, by: Actor) -> CodeEntry:
    """Add a code to a list; a code already in the list is refused."""
    known(list_name)
    errors: dict[str, list[str]] = {}
    position = _check(form, errors, new=True)
    begin_write()
    if "code" not in errors and db.session.scalar(select(CodeEntry.id).where(
            CodeEntry.list_name == list_name, CodeEntry.code == form.code)):
        errors["code"] = [_("The %(list)s list already has the code %(code)s: edit that entry "
                            "instead (switched-off entries can be switched on).",
                            list=list_name, code=form.code)]
    if errors:
        _refuse(errors)
    if not form.position:  # at the end of the list
        position = (db.session.scalar(select(func.max(CodeEntry.position)).where(
            CodeEntry.list_name == list_name)) or 0) + 10
    entry = CodeEntry(list_name=list_name, code=form.code, label_en=form.label_en,
                      label_ar=form.label_ar, position=position, active=True,
                      updated_at=utcnow())
    db.session.add(entry)
    system_log.record(by, "codes.added", f"Code list {list_name}: added {form.code} "
                      f"({form.label_en})", {"list": list_name, "code": form.code,
                                             "before": None, "after": _values(entry)})
    db.session.commit()
    return entry


def get(list_name: str, code: str) -> CodeEntry:
    """One entry of a list."""
    entry = db.session.scalar(select(CodeEntry).where(
        CodeEntry.list_name == known(list_name), CodeEntry.code == code))
    if entry is None:
        raise NotFound(_("The %(list)s list has no code %(code)s.", list=list_name, code=code))
    return entry


def update(list_name: str, code: str, form: EntryForm, by: Actor) -> CodeEntry:
    """Change an entry's labels, position and whether it may be chosen; the code stays."""
    errors: dict[str, list[str]] = {}
    position = _check(form, errors, new=False)
    if errors:
        _refuse(errors)
    begin_write()
    entry = get(list_name, code)
    before = _values(entry)
    entry.label_en, entry.label_ar, entry.active = form.label_en, form.label_ar, form.active
    entry.position = position if form.position else entry.position
    after = _values(entry)
    if after != before:
        entry.updated_at = utcnow()
        system_log.record(by, "codes.changed", f"Code list {list_name}: changed {code}",
                          {"list": list_name, "code": code, "before": before, "after": after})
    db.session.commit()
    return entry


def set_active(list_name: str, code: str, active: bool, by: Actor) -> CodeEntry:
    """Switch a code off (no longer offered; old cases keep its label) or on again."""
    begin_write()
    entry = get(list_name, code)
    if entry.active != active:
        entry.active, entry.updated_at = active, utcnow()
        system_log.record(by, "codes.activated" if active else "codes.deactivated",
                          f"Code list {list_name}: {code} switched "
                          f"{'on' if active else 'off'}",
                          {"list": list_name, "code": code, "before": {"active": not active},
                           "after": {"active": active}})
    db.session.commit()
    return entry
