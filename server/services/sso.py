"""Single sign-on accounts: who a verified provider identity is here, and which roles it holds.

The web layer (web/sso.py) speaks OpenID Connect and verifies the ID token; this module
gets the verified claims. An identity (issuer + subject) links to one account, made at its
first sign-in; its roles are set from the provider's groups through the mappings an
administrator keeps, at every sign-in. Changes are in the chained system log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..errors import Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..models import GroupRole, OidcIdentity, Role, User, utcnow
from . import system_log
from .actors import Actor
from .users import end_sessions

# RFC 8176 methods that are, or include, a factor besides a password.
SECOND_FACTORS = frozenset({"mfa", "mca", "otp", "hwk", "swk", "sms", "tel", "sc"})
# No hash a password can match: these accounts sign in at the provider.
UNUSABLE_PASSWORD = "!sso"  # noqa: S105
MAX_GROUPS = 500  # kept per identity; a directory sending more is cut, mapped or not
_SLUG = re.compile(r"[^a-z0-9._-]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_RESERVED = {"new"}
SYNC = Actor.system("sso")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """What a verified sign-in at the provider says about the person."""

    issuer: str
    subject: str
    username: str  # preferred_username, else the e-mail address; may be ""
    display_name: str
    email: str | None
    groups: tuple[str, ...]
    second_factor: bool  # the ID token's amr names a factor besides a password


@dataclass(frozen=True)
class SignedIn:
    """The account an identity signed in to, and what this sign-in changed."""

    user: User
    created: bool
    roles_removed: frozenset[str]
    no_role: bool  # none of the person's groups gives a role here


def _text(value: Any, limit: int) -> str:
    """A claim as one line of text of at most `limit` characters ("" if not text)."""
    return " ".join(str(value).split())[:limit] if isinstance(value, str | int) else ""


def groups_of(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    """The group names a claim holds: a list of names, or one name (Google's `hd`)."""
    value = claims.get(claim)
    items: Iterable[Any] = value if isinstance(value, list) else \
        [value] if isinstance(value, str | int) else []
    seen = dict.fromkeys(name for name in (_text(item, 255) for item in items) if name)
    return tuple(seen)[:MAX_GROUPS]


def identity(issuer: str, id_token: Mapping[str, Any], userinfo: Mapping[str, Any] | None,
             groups_claim: str) -> Identity:
    """The person as the verified ID token and the provider's userinfo answer describe them.

    The ID token wins where both speak; `amr` is read from the signed token only. A
    userinfo answer about another subject is refused (OpenID Connect Core 5.3.2).
    """
    subject = _text(id_token.get("sub"), 255)
    if not subject:
        raise InvalidInput(_("The provider's answer names nobody (no subject)."))
    info = dict(userinfo or {})
    if info and str(info.get("sub")) != subject:
        raise InvalidInput(_("The provider's answer is about someone else."))
    claims = {**info, **id_token}
    name = _text(claims.get("name"), 200) or _text(
        f"{claims.get('given_name') or ''} {claims.get('family_name') or ''}", 200)
    email = _text(claims.get("email"), 254) or None
    if email is not None and (not _EMAIL.match(email) or claims.get("email_verified") is False):
        email = None  # an address the provider does not vouch for is not used
    amr = id_token.get("amr")
    methods = {str(m).lower() for m in amr} if isinstance(amr, list) else set()
    return Identity(issuer, subject, _text(claims.get("preferred_username"), 254) or (email or ""),
                    name, email, groups_of(claims, groups_claim), bool(methods & SECOND_FACTORS))


def sign_in(person: Identity) -> SignedIn:
    """The account of a verified identity, made at its first sign-in, with its roles now.

    A switched-off account stays off. Roles are exactly those the person's groups map to;
    losing one ends the account's other sessions, as an administrator taking it would.
    """
    try:
        return _sign_in(person)
    except IntegrityError:
        # Two first sign-ins of one person (or two people wanting one username) at once
        # on PostgreSQL: the loser finds what the winner made.
        db.session.rollback()
        return _sign_in(person)


def _sign_in(person: Identity) -> SignedIn:
    """One try of `sign_in`, in one write transaction."""
    begin_write()
    link = db.session.scalar(select(OidcIdentity).where(
        OidcIdentity.issuer == person.issuer, OidcIdentity.subject == person.subject))
    created = link is None
    if link is None:
        link = OidcIdentity(issuer=person.issuer, subject=person.subject,
                            user=_new_account(person))
        db.session.add(link)
    user = link.user
    if not user.active:
        db.session.rollback()
        raise Forbidden(_("This account is switched off. Ask an administrator."))
    granted = _mapped_roles(person.groups)
    before = user.role_names
    removed = frozenset(before - {role.name for role in granted})
    user.roles = granted
    user.display_name = person.display_name or user.display_name
    user.email = person.email or user.email
    link.groups = json.dumps(list(person.groups), ensure_ascii=False)
    link.last_sign_in_at = utcnow()
    db.session.flush()
    if created:
        system_log.record(SYNC, "sso.account_created",
                          f"Account {user.username} made at its first single sign-on",
                          {"username": user.username, "issuer": person.issuer,
                           "subject": person.subject, "roles": sorted(user.role_names)})
    elif before != user.role_names:
        system_log.record(SYNC, "sso.roles_changed",
                          f"Roles of {user.username} set from the provider's groups",
                          {"username": user.username, "before": sorted(before),
                           "after": sorted(user.role_names), "groups": list(person.groups)})
    if removed:
        end_sessions(user.id)
    db.session.commit()
    log.info("%s signed in through single sign-on (roles %s)", user.username,
             ",".join(sorted(user.role_names)) or "none")
    return SignedIn(user, created, removed, not granted)


def _mapped_roles(groups: Iterable[str]) -> list[Role]:
    """The roles some of these groups give."""
    names = list(groups)
    if not names:
        return []
    return list(db.session.scalars(
        select(Role).join(GroupRole, GroupRole.role_name == Role.name)
        .where(GroupRole.group.in_(names)).distinct().order_by(Role.name)))


def _new_account(person: Identity) -> User:
    """An account for someone signing in for the first time, with no usable password."""
    base = _username_base(person)
    taken = set(db.session.scalars(select(User.username).where(
        User.username.startswith(base, autoescape=True))))
    username = next(name for name in (base, *(f"{base}-{n}" for n in range(2, 10_000)))
                    if name not in taken and name not in _RESERVED)
    user = User(username=username, display_name=person.display_name or username,
                email=person.email, password_hash=UNUSABLE_PASSWORD, roles=[], active=True,
                session_epoch=0)
    db.session.add(user)
    return user


def _username_base(person: Identity) -> str:
    """A username from the provider's: the part before any @, in the characters allowed."""
    local = person.username.split("@", 1)[0].lower()
    slug = _SLUG.sub("-", local).strip("._-")[:56]
    if len(slug) >= 2:
        return slug
    return "sso-" + hashlib.sha256(f"{person.issuer} {person.subject}".encode()).hexdigest()[:10]


def group_roles() -> list[GroupRole]:
    """Every group-to-role mapping, by group then role."""
    return list(db.session.scalars(select(GroupRole).order_by(GroupRole.group,
                                                              GroupRole.role_name)))


def add_group_role(group: str, role_name: str, by: Actor) -> GroupRole:
    """Give a role to the members of a provider group, from their next sign-in."""
    group = " ".join((group or "").split())
    errors: dict[str, list[str]] = {}
    if not group or len(group) > 255:
        errors["group"] = [_("Enter the group as the provider sends it in the groups claim "
                             "(a name or an id, at most 255 characters).")]
    begin_write()
    if db.session.get(Role, role_name or "") is None:
        errors["role"] = [_("Choose one of the roles.")]
    elif group and db.session.get(GroupRole, (group, role_name)) is not None:
        errors["group"] = [_("The group %(group)s already gives the role %(role)s.",
                             group=group, role=role_name)]
    if errors:
        db.session.rollback()
        raise InvalidInput(" ".join(m for found in errors.values() for m in found), errors)
    mapping = GroupRole(group=group, role_name=role_name)
    db.session.add(mapping)
    system_log.record(by, "sso.mapping_added", f"Group {group} gives the role {role_name}",
                      {"group": group, "role": role_name})
    db.session.commit()
    return mapping


def remove_group_role(group: str, role_name: str, by: Actor) -> None:
    """Stop a group giving a role; its members lose the role at their next sign-in."""
    begin_write()
    mapping = db.session.get(GroupRole, (group or "", role_name or ""))
    if mapping is None:
        db.session.rollback()
        raise NotFound(_("The group %(group)s does not give the role %(role)s.",
                         group=group, role=role_name))
    db.session.delete(mapping)
    system_log.record(by, "sso.mapping_removed",
                      f"Group {group} no longer gives the role {role_name}",
                      {"group": group, "role": role_name})
    db.session.commit()


@dataclass(frozen=True)
class LinkedAccount:
    """An account linked to the provider, as the admin page lists it."""

    username: str
    display_name: str
    active: bool
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    linked_at: Any
    last_sign_in_at: Any


def linked_accounts() -> list[LinkedAccount]:
    """The accounts people sign in to through the provider, by username."""
    links = db.session.scalars(select(OidcIdentity).join(User).order_by(User.username))
    return [LinkedAccount(link.user.username, link.user.display_name, link.user.active,
                          tuple(sorted(link.user.role_names)),
                          tuple(json.loads(link.groups or "[]")), link.linked_at,
                          link.last_sign_in_at) for link in links]
