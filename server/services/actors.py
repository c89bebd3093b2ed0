"""Who is acting: a member of staff, the complainant, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    """The person or process a service acts for, as the event log names it."""

    name: str
    user_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    kind: str = "staff"  # staff, complainant, system, api
    # An API client's acting user: objectivity is by person, so their earlier steps count.
    on_behalf: str | None = None

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        """The actor for a signed-in member of staff."""
        return cls(user.username, user.id, frozenset(user.role_names), "staff")

    @classmethod
    def system(cls, name: str) -> Actor:
        """An actor for work the system does by itself (timers, set-up)."""
        return cls(f"system:{name}", None, frozenset(), "system")

    @classmethod
    def complainant(cls) -> Actor:
        """The complainant, acting through the tracking link."""
        return cls("complainant", None, frozenset(), "complainant")

    @property
    def people(self) -> tuple[str, ...]:
        """The names the actor's earlier steps are recorded under (objectivity checks all)."""
        return (self.name, self.on_behalf) if self.on_behalf else (self.name,)

    def has_role(self, *names: str) -> bool:
        """Whether the actor holds any of the named roles."""
        return bool(self.roles.intersection(names))
