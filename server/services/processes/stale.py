"""A draft made from an older version than the active one: warn before it replaces it.

While a process owner edits a draft, someone else may deploy (or roll back to) another
version. Deploying the draft then replaces that version, and what changed in it is lost
unless the draft has it too. So such a deploy needs a confirmation that names the version
it replaces: a confirmation for a version that is no longer active does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ...errors import PlaintError
from ...extensions import db
from ...models import ProcessVersion
from .checks import Problem
from .diff import diff


@dataclass(frozen=True)
class NewerVersion:
    """The version active now, which is not the one a draft was made from."""

    base_number: int | None
    active_id: int
    active_number: int
    process_id: str
    deployed_by: str
    deployed_at: datetime
    diff: dict[str, Any]  # from the active version to the draft
    # What the active version changed from the draft's base (None: no base to compare):
    # what deploying the draft loses unless the draft has it too.
    theirs: dict[str, Any] | None = None

    @property
    def message(self) -> str:
        """What the person must know before they confirm."""
        made = f"made from version {self.base_number}" if self.base_number else \
            "not made from a deployed version"
        return (f"Version {self.active_number} of {self.process_id} (deployed by "
                f"{self.deployed_by}) is active now, and this draft was {made}. Deploying it "
                f"replaces version {self.active_number}: what changed there is lost unless the "
                "draft has it too. Look at the differences, then confirm.")


class StaleDraft(PlaintError):
    """A draft's deploy would replace a version its owner has not confirmed replacing."""

    status = 409

    def __init__(self, newer: NewerVersion) -> None:
        super().__init__(newer.message)
        self.newer = newer
        self.problems = [Problem(None, None, None, newer.message)]


def newer_version(base_id: int | None, files: dict[str, bytes]) -> NewerVersion | None:
    """The active version when a draft with these files, made from `base_id`, would replace
    another version than its own; None when it would replace its base (or nothing)."""
    active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    if active is None or active.id == base_id:
        return None
    base = db.session.get(ProcessVersion, base_id) if base_id else None
    return NewerVersion(
        base_number=base.number if base else None, active_id=active.id,
        active_number=active.number, process_id=active.process_id,
        deployed_by=active.created_by, deployed_at=active.created_at,
        diff=diff({f.name: f.content for f in active.files}, files),
        theirs=diff({f.name: f.content for f in base.files},
                    {f.name: f.content for f in active.files}) if base else None)


def refuse_unconfirmed(base_id: int | None, files: dict[str, bytes],
                       confirmed: int | None) -> None:
    """Raise StaleDraft unless the draft replaces its base, or `confirmed` names the version
    it would replace now."""
    newer = newer_version(base_id, files)
    if newer is not None and newer.active_id != confirmed:
        raise StaleDraft(newer)
