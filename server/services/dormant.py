"""Dormant accounts: switch off accounts nobody signed in to for PLAINT_DORMANT_DAYS.

An account counts its idle days from its last sign-in, else from when an administrator
last switched it on, else from its creation. The acting user of an active API client is
kept on while the client is active: the client works with that account's roles. The last
active administrator is kept on too, or nobody could switch the others on again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..database import begin_write
from ..extensions import db
from ..models import ApiClient, User, utcnow
from . import system_log, users

ACTOR = "system:dormant-accounts"


@dataclass(frozen=True)
class Dormancy:
    """When an account was last used and when it would be switched off."""

    last_used: datetime
    switch_off_at: datetime | None  # None: dormant accounts are kept (PLAINT_DORMANT_DAYS=0)
    kept_for_api: bool  # the acting user of an active API client


def last_used(user: User) -> datetime:
    """The latest of the account's last sign-in, re-enabling and creation."""
    return max(t for t in (user.last_sign_in_at, user.enabled_at, user.created_at)
               if t is not None)


def _api_users() -> set[int]:
    return {uid for uid in db.session.scalars(
        select(ApiClient.acting_user_id).where(ApiClient.revoked_at.is_(None)))
        if uid is not None}


def describe(user: User) -> Dormancy:
    """What the account's page says about dormancy."""
    days = int(current_app.config["PLAINT_DORMANT_DAYS"])
    used = last_used(user)
    return Dormancy(used, used + timedelta(days=days) if days else None,
                    user.id in _api_users())


def switch_off_dormant(now: datetime | None = None) -> list[str]:
    """Switch off every active account unused for PLAINT_DORMANT_DAYS; their usernames."""
    days = int(current_app.config["PLAINT_DORMANT_DAYS"])
    if days <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(days=days)
    begin_write()
    kept = _api_users()
    done: list[str] = []
    accounts = list(db.session.scalars(select(User).where(User.active.is_(True))
                                       .order_by(User.username).with_for_update()))
    admins = sum(1 for user in accounts if user.has_role(users.ADMIN))
    for user in accounts:
        used = last_used(user)
        if used >= cutoff or user.id in kept or (user.has_role(users.ADMIN) and admins == 1):
            continue
        admins -= user.has_role(users.ADMIN)
        user.active = False
        users.end_sessions(user.id)
        system_log.record(ACTOR, "account.dormant_switched_off",
                          f"Account {user.username} switched off: not used for {days} days",
                          {"username": user.username, "last_used": used.isoformat(),
                           "days": days})
        done.append(user.username)
    db.session.commit()
    return done
