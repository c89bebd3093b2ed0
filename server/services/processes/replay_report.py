"""A preview's report: per case what the draft changes, and the KPIs before and predicted.

"Before" is the same recorded inputs replayed on the case's own version, so both sides
are measured the same way (a case's own history may hold steps no replay reproduces,
such as staff actions outside the diagram). On target: resolved by the resolution
deadline of the escalation policy (counted from `received_at` in the business calendar,
for the case's priority and category); time to resolve in working hours.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...engine.replay import Replayed
from .. import calendar, policy

MAX_LISTED = 500  # cases listed one by one; the totals count them all
DRAFT, OWN = "draft", "own"  # whose title a step has: the draft's, or the case's version's


@dataclass
class Tally:
    """Running totals of a preview, and the cases it lists."""

    cases: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    unreplayable: list[dict[str, Any]] = field(default_factory=list)
    route_changed: int = 0
    priority_changed: int = 0
    deadlines_moved: int = 0
    stopped: int = 0
    on_target: dict[str, list[bool]] = field(default_factory=lambda: {"before": [], "after": []})
    hours: dict[str, list[float]] = field(default_factory=lambda: {"before": [], "after": []})

    def refuse(self, reference: str, version: int | None, reason: dict[str, Any]) -> None:
        """List a case that cannot be replayed, with why (a kind of reason and its data)."""
        self.cases += 1
        self.unreplayable.append({"reference": reference, "version": version,
                                  "reason": reason})

    def add(self, reference: str, version: int | None, category: str | None,
            received: datetime, until: datetime, before: Replayed, after: Replayed,
            what_if: Callable[[], AbstractContextManager[object]] | None = None) -> None:
        """Compare one case's two replays and count it (the draft's inside the what-if)."""
        self.cases += 1
        for side, run in (("before", before), ("after", after)):
            with what_if() if side == "after" and what_if else nullcontext():
                hit, hours = _resolution(run, category, received, until)
            if hit is not None:
                self.on_target[side].append(hit)
            if hours is not None:
                self.hours[side].append(hours)
        # Steps as [English title, "draft" or "own"]: worded in the reader's language
        # through that side's translations when the report is shown (replay_texts.py).
        added = [[after.titles.get(s, s), DRAFT] for s in _new(after.route + after.waiting,
                                                                before.route + before.waiting)]
        skipped = [[before.titles.get(s, s), OWN] for s in _new(before.route + before.waiting,
                                                                 after.route + after.waiting)]
        moved = [[_step(k, after, before),
                  before.deadlines[k].isoformat() if k in before.deadlines else None,
                  after.deadlines[k].isoformat() if k in after.deadlines else None]
                 for k in sorted(set(before.deadlines) | set(after.deadlines))
                 if before.deadlines.get(k) != after.deadlines.get(k)]
        priority = [before.priority, after.priority]
        self.route_changed += bool(added or skipped)
        self.priority_changed += before.priority != after.priority
        self.deadlines_moved += bool(moved)
        self.stopped += bool(after.stopped)
        if (added or skipped or moved or before.priority != after.priority or after.stopped) \
                and len(self.changed) < MAX_LISTED:
            self.changed.append({"reference": reference, "version": version,
                                 "priority": priority, "added": added, "skipped": skipped,
                                 "deadlines": moved,
                                 "stopped": [after.titles.get(after.stopped, after.stopped),
                                             DRAFT] if after.stopped else None})

    def report(self) -> dict[str, Any]:
        """The report as stored on the job (JSON)."""
        return {
            "totals": {"cases": self.cases, "unreplayable": len(self.unreplayable),
                       "route_changed": self.route_changed,
                       "priority_changed": self.priority_changed,
                       "deadlines_moved": self.deadlines_moved, "stopped": self.stopped},
            "kpis": {side: {"on_target": _percent(self.on_target[side]),
                            "median_hours": round(statistics.median(self.hours[side]), 1)
                            if self.hours[side] else None}
                     for side in ("before", "after")},
            "cases": self.changed, "unreplayable": self.unreplayable[:MAX_LISTED],
        }


def _step(key: str, after: Replayed, before: Replayed) -> list[str]:
    """A deadline's step as [English title, the side whose title it is]."""
    if key in after.titles:
        return [after.titles[key], DRAFT]
    return [before.titles.get(key, key), OWN]


def _new(these: list[str], those: list[str]) -> list[str]:
    """Steps of `these` that `those` lacks, once each, in order."""
    seen = set(those)
    return list(dict.fromkeys(s for s in these if s not in seen))


def _resolution(run: Replayed, category: str | None, received: datetime,
                until: datetime) -> tuple[bool | None, float | None]:
    """Whether the run resolved by its deadline (None: not yet due), and in how many hours."""
    due = policy.deadline("resolution", priority=run.priority, category=category,
                          since=received)
    resolved = run.milestones.get("resolved")
    if resolved is None:
        return (False if until > due else None), None
    return resolved <= due, round(calendar.working_hours_between(received, resolved), 2)


def _percent(flags: list[bool]) -> float | None:
    """The share of True, in percent with one decimal."""
    return round(100.0 * sum(flags) / len(flags), 1) if flags else None
