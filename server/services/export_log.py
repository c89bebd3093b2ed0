"""Exports noted in the system log: personal or management data leaving Plaint as a file.

Every download of a report or list goes through `record` (or, for the management-review
pack, review_pack.make's own note of the same kind of facts): who, what, with which
filters or period, in which format. The kinds are below; `recent` lists them for the
exports page an auditor reads (/reports/exports).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..database import begin_write
from ..extensions import db
from ..models import SystemEvent
from . import system_log
from .actors import Actor
from .conformance_figures import PACK_EVENT

REPORT = "reports.exported"   # a dashboard report or the cases behind a figure, CSV or XLSX
RETURN = "returns.exported"   # a regulator return, CSV or XLSX
CASES = "cases.exported"      # the case search, CSV
AUDIT = "audit.exported"      # an audit sample's findings, CSV
ACCESS = "access_log.exported"  # the access log (who read which case), CSV
KINDS = (REPORT, RETURN, CASES, AUDIT, ACCESS, PACK_EVENT)  # the pack: PDF or XLSX, made or mailed


@dataclass(frozen=True)
class Export:
    """One export as the exports page shows it."""

    at: datetime
    actor: str
    kind: str
    summary: str
    format: str
    filters: str  # "from=2026-03-01; to=2026-03-31; category=billing"


def record(actor: Actor | str, kind: str, what: str, fmt: str,
           filters: Mapping[str, Any]) -> None:
    """Note one export in the system log, in a transaction of its own."""
    begin_write()
    system_log.record(actor, kind, f"{what} exported as {fmt.upper()}",
                      {"what": what, "format": fmt, "filters": dict(filters)})
    db.session.commit()


def _shown(event: SystemEvent) -> Export:
    """An export's log entry in a line: its format and filters read from the entry's data."""
    try:
        data = json.loads(event.data or "{}")
    except ValueError:
        data = {}
    asked = data.get("filters") or data.get("period") or {}
    if data.get("language"):
        asked = {**asked, "lang": data["language"]}
    if data.get("recipients"):
        asked = {**asked, "to": ", ".join(map(str, data["recipients"]))}
    filters = "; ".join(f"{key}={value}" for key, value in asked.items()) \
        if isinstance(asked, dict) else str(asked)
    shown = data.get("format") or ", ".join(data.get("formats") or [])
    return Export(event.at, event.actor, event.kind, event.summary, str(shown).upper(), filters)


def recent(limit: int = 200) -> list[Export]:
    """The newest exports, newest first."""
    return [_shown(event) for event in db.session.scalars(
        select(SystemEvent).where(SystemEvent.kind.in_(KINDS))
        .order_by(SystemEvent.at.desc(), SystemEvent.id.desc()).limit(limit))]
