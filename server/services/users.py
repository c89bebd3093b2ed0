"""Staff accounts, roles and lane mappings: creating, changing and guarding them."""

from __future__ import annotations

import logging
import re
import secrets
from typing import NoReturn

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import LaneMapping, Role, User, utcnow
from ..models.user import user_roles
from . import passwords, system_log
from .actors import Actor
from .processes import role_slug

MIN_PASSWORD = passwords.MIN_LENGTH
ADMIN = "admin"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_RESERVED = {"new"}  # /admin/users/new is the form, so no account can live at that address
_ROLE_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")  # what role_slug() can produce
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
log = logging.getLogger(__name__)


def generate_password() -> str:
    """A random password to hand out once (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    # Release the write lock now: a view that re-renders the form keeps the session open.
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def _password_errors(password: str, *about: str | None) -> list[str]:
    """The one password rule (services/passwords.py), with what is known of the account."""
    return passwords.problems(password, about)


def _details(display_name: str | None, email: str | None,
             errors: dict[str, list[str]]) -> tuple[str, str | None]:
    """Tidy a display name and e-mail, noting what is wrong with them."""
    name = " ".join((display_name or "").split())
    if len(name) > 200:
        errors["display_name"] = [_("Use at most 200 characters.")]
    address = (email or "").strip() or None
    if address is not None and (len(address) > 254 or not _EMAIL.match(address)):
        errors["email"] = [_("Enter an e-mail address like name@example.com, or leave it empty.")]
    return name, address


def _roles(names: list[str], errors: dict[str, list[str]]) -> list[Role]:
    known = {r.name: r for r in db.session.scalars(select(Role))}
    unknown = sorted(set(names) - set(known))
    if unknown:
        errors["roles"] = [_("Unknown role(s): %(unknown)s. Roles: %(known)s.",
                             unknown=", ".join(unknown), known=", ".join(sorted(known)))]
    elif not names:
        errors["roles"] = [_("Choose at least one role.")]
    return [known[n] for n in sorted(set(names)) if n in known]


def create_user(username: str, roles: list[str], password: str | None = None,
                display_name: str | None = None, email: str | None = None,
                by: Actor | None = None) -> tuple[User, str]:
    """Create an account; return it with its password (generated when none is given)."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        errors["username"] = [_("Usernames are 2-64 lowercase letters, digits, dots, dashes or "
                                "underscores.")]
    elif username in _RESERVED:
        errors["username"] = [_("The username %(username)s is reserved; choose another.",
                                username=username)]
    name, address = _details(display_name, email, errors)
    password = generate_password() if password is None else password
    if problems := _password_errors(password, username, name, address):
        errors["password"] = problems
    begin_write()
    if "username" not in errors and db.session.scalar(
            select(User.id).where(User.username == username)):
        errors["username"] = [_("There is already an account called %(username)s.",
                                username=username)]
    chosen = _roles(roles, errors)
    if errors:
        _refuse(errors)
    user = User(username=username, display_name=name or username, email=address, roles=chosen)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    system_log.record(_who(by), "account.created", f"Account {username} created",
                      {"username": username, "roles": [r.name for r in chosen]})
    db.session.commit()
    log.info("%s created account %s with roles %s", _who(by), username,
             ",".join(r.name for r in chosen))
    return user, password


def end_sessions(user_id: int) -> None:
    """Sign an account out on every device, in the caller's write transaction.

    Sessions carry the epoch they began under (User.get_id); raising it in one statement
    means two changes at once cannot both write the same next value.
    """
    db.session.execute(update(User).where(User.id == user_id)
                       .values(session_epoch=User.session_epoch + 1))


def reset_password(username: str, password: str | None = None, by: Actor | None = None) -> str:
    """Set a new password for an account and end its sessions; return the password."""
    user = _user(username)
    password = generate_password() if password is None else password
    if problems := _password_errors(password, user.username, user.display_name, user.email):
        _refuse({"password": problems})
    begin_write()
    user = _user(username)
    user.set_password(password)
    end_sessions(user.id)
    system_log.record(_who(by), "account.password_set",
                      f"New password for {user.username}; signed out everywhere",
                      {"username": user.username})
    db.session.commit()
    log.info("%s set a new password for %s (signed out everywhere)", _who(by), user.username)
    return password


def change_password(user_id: int, current: str, new: str, by: Actor) -> User:
    """A person sets their own new password; their other sessions end (not this one's
    account: the caller signs this browser in again)."""
    begin_write()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("There is no such account."))
    errors: dict[str, list[str]] = {}
    if not user.check_password(current or ""):
        errors["current_password"] = [_("Your current password is not right.")]
    if problems := _password_errors(new or "", user.username, user.display_name, user.email):
        errors["new_password"] = problems
    elif current == new:
        errors["new_password"] = [_("Choose a password different from the one you have.")]
    if errors:
        _refuse(errors)
    user.set_password(new)
    end_sessions(user.id)
    system_log.record(by, "account.password_changed",
                      f"{user.username} changed their password; other sessions ended",
                      {"username": user.username})
    db.session.commit()
    return user


def list_users() -> list[User]:
    """Every account, by username."""
    return list(db.session.scalars(select(User).order_by(User.username)))


def get_user(username: str) -> User:
    """The account with this username."""
    return _user(username)


def update_user(username: str, display_name: str | None, email: str | None,
                roles: list[str], active: bool, by: Actor) -> User:
    """Change an account's details, roles and whether it may sign in.

    Taking a role away or switching the account off ends every session of the account,
    so that nobody keeps, in a browser left open, what they may no longer do. Nobody
    may lock themselves out (drop their own admin role or switch themselves off), and
    the last active administrator keeps the role, so someone can always manage accounts.
    """
    errors: dict[str, list[str]] = {}
    name, address = _details(display_name, email, errors)
    begin_write()
    # Serialise changes that may take away an administrator: two admins demoting each
    # other at once on PostgreSQL would otherwise both see the other still in place.
    db.session.scalar(select(Role).where(Role.name == ADMIN).with_for_update())
    user = _user(username)
    chosen = _roles(roles, errors)
    loses_admin = user.has_role(ADMIN) and ADMIN not in roles
    switched_off = user.active and not active
    if user.id == by.user_id:
        if loses_admin:
            errors.setdefault("roles", []).append(
                _("You cannot remove your own admin role: ask another administrator."))
        if switched_off:
            errors["active"] = [_("You cannot switch off your own account: ask another "
                                  "administrator.")]
    elif (loses_admin or switched_off) and user.active and user.has_role(ADMIN) \
            and _other_active_admins(user.id) == 0:
        message = _("%(username)s is the last active administrator: give another account the "
                    "admin role first.", username=user.username)
        errors.setdefault("roles" if loses_admin else "active", []).append(message)
    if errors:
        _refuse(errors)
    ends_sessions = switched_off or bool(user.role_names - {r.name for r in chosen})
    before = {"display_name": user.display_name, "email": user.email,
              "roles": sorted(user.role_names), "active": user.active}
    if active and not user.active:
        user.enabled_at = utcnow()  # a dormant account counts its idle days from here
    user.display_name = name or user.username
    user.email = address
    user.roles = chosen
    user.active = active
    if ends_sessions:
        end_sessions(user.id)
    after = {"display_name": user.display_name, "email": user.email,
             "roles": sorted(r.name for r in chosen), "active": active}
    system_log.record(by, "account.changed", f"Account {user.username} changed",
                      {"username": user.username, "before": before, "after": after})
    db.session.commit()
    log.info("%s updated account %s: roles %s, %s%s", _who(by), user.username,
             ",".join(r.name for r in chosen), "active" if active else "switched off",
             " (signed out everywhere)" if ends_sessions else "")
    return user


def _other_active_admins(user_id: int) -> int:
    return int(db.session.scalar(
        select(func.count()).select_from(User)
        .join(user_roles, user_roles.c.user_id == User.id)
        .where(user_roles.c.role_name == ADMIN, User.active.is_(True), User.id != user_id))
        or 0)


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(_("There is no account called %(username)s.", username=username))
    return user


def _who(by: Actor | None) -> str:
    return by.name if by is not None else "command line"


def list_roles() -> list[Role]:
    """Every role, by name."""
    return list(db.session.scalars(select(Role).order_by(Role.name)))


def add_role(name: str, description: str, by: Actor | None = None) -> Role:
    """Create a role that lanes and accounts can then use."""
    name = (name or "").strip()
    description = " ".join((description or "").split())
    errors: dict[str, list[str]] = {}
    if len(name) > 64 or not _ROLE_NAME.match(name):
        errors["name"] = [_("Use lowercase letters and digits joined by single underscores, "
                            "e.g. complaints_officer (at most 64).")]
    if len(description) > 255:
        errors["description"] = [_("Use at most 255 characters.")]
    begin_write()
    if "name" not in errors and db.session.get(Role, name) is not None:
        errors["name"] = [_("There is already a role called %(name)s.", name=name)]
    if errors:
        _refuse(errors)
    role = Role(name=name, description=description)
    db.session.add(role)
    system_log.record(_who(by), "role.added", f"Role {name} added",
                      {"name": name, "description": description})
    db.session.commit()
    log.info("%s added role %s", _who(by), name)
    return role


def lane_mappings() -> list[LaneMapping]:
    """Lanes (by their slug) that go to a role of another name."""
    return list(db.session.scalars(select(LaneMapping).order_by(LaneMapping.lane)))


def map_lane(lane: str, role_name: str, by: Actor | None = None) -> LaneMapping:
    """Send the tasks of lanes with this name to a role; the lane is stored as its slug.

    Deploys look lanes up by slug, so 'Complaints Officer' and 'complaints officer' are the
    same lane. The mapping applies to diagrams deployed from now on.
    """
    slug = role_slug(lane or "")
    errors: dict[str, list[str]] = {}
    if not slug or len(slug) > 255:
        errors["lane"] = [_("Enter the lane name as it appears in the diagram (at most 255 "
                            "characters, with at least one letter or digit).")]
    begin_write()
    if db.session.get(Role, role_name or "") is None:
        errors["role"] = [_("Choose one of the roles.")]
    elif slug == role_name:
        errors["lane"] = [_("A lane named like this already goes to the role %(role)s.",
                            role=role_name)]
    if slug and (existing := db.session.get(LaneMapping, slug)) is not None:
        errors["lane"] = [_("The lane %(lane)s already goes to %(role)s: remove that mapping "
                            "first.", lane=slug, role=existing.role_name)]
    if errors:
        _refuse(errors)
    mapping = LaneMapping(lane=slug, role_name=role_name)
    db.session.add(mapping)
    system_log.record(_who(by), "lane.mapped", f"Lane {slug} goes to role {role_name}",
                      {"lane": slug, "role": role_name})
    db.session.commit()
    log.info("%s mapped lane %s to role %s", _who(by), slug, role_name)
    return mapping


def unmap_lane(lane: str, by: Actor | None = None) -> None:
    """Remove a lane mapping; lanes of that name go back to the role of the same name."""
    begin_write()
    mapping = db.session.get(LaneMapping, role_slug(lane or ""))
    if mapping is None:
        raise NotFound(_("There is no mapping for the lane %(lane)s.", lane=lane))
    db.session.delete(mapping)
    system_log.record(_who(by), "lane.unmapped", f"Mapping of lane {mapping.lane} removed",
                      {"lane": mapping.lane, "role": mapping.role_name})
    db.session.commit()
    log.info("%s removed the mapping of lane %s", _who(by), mapping.lane)
