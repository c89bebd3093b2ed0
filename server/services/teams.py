"""Teams (or branches): the admin's list of teams and members, the routing table, and how
the write path projects a case's team.

A case belongs to one team. The diagram names it in the data variable `team` (a team's
name, set by a script, a form or a decision table); when the diagram names none, the
admin's routing table gives the team of the case's category. Nothing here knows a step.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, insert, select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Case, Team, TeamRoute, User
from ..models.team import team_members
from . import lookups, system_log
from .actors import Actor

VARIABLE = "team"  # the workflow data variable naming the case's team
MAX_NAME = 100
# Built once: the write path asks one of these on every step of a case without a team.
_TEAM_NAMED = select(Team.__table__.c.id).where(Team.__table__.c.name == bindparam("name"))


def listing() -> list[Team]:
    """Every team, by name."""
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def get(team_id: int) -> Team:
    """One team, or NotFound."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(_("There is no such team."))
    return team


def names() -> dict[int, str]:
    """Team ids and names, for labels and filters."""
    return dict(db.session.execute(select(Team.id, Team.name).order_by(Team.name)).all())


def routes() -> dict[str, int]:
    """The routing table: category code -> team id."""
    return dict(db.session.execute(select(TeamRoute.category, TeamRoute.team_id)).all())


def teams_of(user_id: int) -> list[str]:
    """The names of the teams a person is in."""
    return list(db.session.scalars(
        select(Team.name).join(team_members, team_members.c.team_id == Team.id)
        .where(team_members.c.user_id == user_id).order_by(Team.name)))


def _clean_name(name: str, keep: int | None = None) -> str:
    """A team name, tidied; InvalidInput saying what to fix."""
    tidy = " ".join((name or "").split())
    message = None
    if not tidy:
        message = _("Give the team a name.")
    elif len(tidy) > MAX_NAME:
        message = _("Use at most %(count)s characters.", count=MAX_NAME)
    elif db.session.scalar(select(Team.id).where(func.lower(Team.name) == tidy.lower(),
                                                 Team.id != (keep or 0))) is not None:
        message = _("There is a team called %(name)s already.", name=tidy)
    if message:
        db.session.rollback()
        raise InvalidInput(message, {"name": [message]})
    return tidy


def _users(usernames: list[str]) -> list[User]:
    """The accounts named, or InvalidInput naming those that do not exist."""
    wanted = sorted({u.strip().lower() for u in usernames if u.strip()})
    found = list(db.session.scalars(select(User).where(User.username.in_(wanted))))
    missing = sorted(set(wanted) - {u.username for u in found})
    if missing:
        db.session.rollback()
        message = _("There is no account called %(names)s.", names=", ".join(missing))
        raise InvalidInput(message, {"members": [message]})
    return found


def create(name: str, usernames: list[str], by: Actor) -> Team:
    """Create a team with its members; logged in the system log."""
    begin_write()
    team = Team(name=_clean_name(name))
    team.members = _users(usernames)
    db.session.add(team)
    db.session.flush()
    system_log.record(by, "team.created", f"Team {team.name} created",
                      {"team": team.name, "members": [u.username for u in team.members]})
    db.session.commit()
    return team


def update(team_id: int, name: str, usernames: list[str], by: Actor) -> Team:
    """Rename a team and set its members; logged with what changed."""
    begin_write()
    team = get(team_id)
    before = {"name": team.name, "members": [u.username for u in team.members]}
    team.name = _clean_name(name, keep=team.id)
    team.members = _users(usernames)
    db.session.flush()
    after = {"name": team.name, "members": sorted(u.username for u in team.members)}
    system_log.record(by, "team.changed", f"Team {team.name} changed",
                      {"before": before, "after": after})
    db.session.commit()
    return team


def set_routes(chosen: dict[str, str], by: Actor) -> None:
    """Replace the routing table (category -> team id as text, "" for none); logged."""
    begin_write()
    known = set(names())
    table: dict[str, int] = {}
    for category, value in chosen.items():
        if not value:
            continue
        if not value.isdigit() or int(value) not in known:
            db.session.rollback()
            message = _("Choose a team from the list.")
            raise InvalidInput(message, {f"route-{category}": [message]})
        table[category[:64]] = int(value)
    before = routes()
    db.session.execute(delete(TeamRoute))
    if table:
        db.session.execute(insert(TeamRoute), [{"category": c, "team_id": t}
                                               for c, t in table.items()])
    system_log.record(by, "team.routes", "Team routing table changed",
                      {"before": before, "after": table})
    db.session.commit()


def projected(current: int | None, data: dict[str, Any], category: str | None) -> int | None:
    """The case's team after a step: the diagram's `team` variable, else the routing table.

    A name that is no team leaves the team as it was; the routing table only fills a case
    that has none, so a team named by the diagram or set earlier stays.
    """
    named = data.get(VARIABLE)
    if isinstance(named, str) and named.strip():
        found = db.session.connection().execute(_TEAM_NAMED, {"name": named.strip()}).scalar()
        return found if found is not None else current
    if current is None and category:
        # The routing table, kept per settings stamp (services/lookups.py).
        return lookups.setting("teams.routes", routes).get(category)
    return current


def team_name(case: Case) -> str | None:
    """The name of the case's team, or None."""
    return case.team.name if case.team_id is not None and case.team else None
