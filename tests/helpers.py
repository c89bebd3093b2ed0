"""Shared helpers for tests that drive the engine without a database."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from server.engine import Bundle, ProcessRuntime, WorkingTime, load_bundle
from server.engine.serializer import load_specs

REPO = Path(__file__).resolve().parent.parent
ROLES = {"handler", "supervisor", "complaints_manager", "specialist", "process_owner", "admin",
         "auditor"}
# Engine tests run without a database, so without the business calendar: round-the-clock
# hours and these targets stand in for it (the services tests use the real one).
TARGET_HOURS = {"acknowledge": 48, "response": 72, "resolution": 120}
REMIND_HOURS = 8
NEXT_LEVEL_HOURS = 24


def _received(data: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(data["received_at"])


def _paused(data: Mapping[str, Any], kind: str) -> timedelta:
    return timedelta(hours=(data.get("clock_paused_hours") or {}).get(kind, 0))


def _deadline(data: Mapping[str, Any], kind: str) -> datetime:
    return _received(data) + timedelta(hours=TARGET_HOURS[kind]) + _paused(data, kind)


ROUND_THE_CLOCK = WorkingTime(
    helpers={"working_days": lambda n: (datetime.now(UTC) + timedelta(days=n)).isoformat(),
             "working_hours": lambda n: (datetime.now(UTC) + timedelta(hours=n)).isoformat()},
    data_helpers={
        "deadline": lambda data, kind: _deadline(data, kind).isoformat(),
        "reminder": lambda data, kind: (_deadline(data, kind)
                                        - timedelta(hours=REMIND_HOURS)).isoformat(),
        "next_level": lambda data, kind: (_deadline(data, kind)
                                          + timedelta(hours=NEXT_LEVEL_HOURS)).isoformat()},
    add_hours=lambda at, hours: at + timedelta(hours=hours),
    hours_between=lambda start, end: max(0.0, (end - start).total_seconds() / 3600),
)


def resolve(name: str) -> str | None:
    slug = name.strip().lower().replace(" ", "_")
    return slug if slug in ROLES else None


def reference_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for folder in ("workflows", "forms")
            for p in (REPO / folder).iterdir() if p.is_file()}


def bundle(files: dict[str, bytes] | None = None) -> Bundle:
    return load_bundle(files if files is not None else reference_files(), resolve)


def runtime(files: dict[str, bytes] | None = None, time_limit: float = 0.5) -> ProcessRuntime:
    """A runtime built the way the server builds it: from the stored spec JSON."""
    b = bundle(files)
    spec, subprocess_specs = load_specs(b.spec_json)
    return ProcessRuntime(spec, subprocess_specs, b.role_map, time_limit, ROUND_THE_CLOCK)


def reference_bpmn() -> str:
    return (REPO / "workflows" / "complaint.bpmn").read_text()


def with_bpmn(text: str) -> dict[str, bytes]:
    """The reference bundle with its diagram replaced."""
    files = reference_files()
    files["complaint.bpmn"] = text.encode()
    return files


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Poll `condition` until it holds or `seconds` pass (a bound, not a speed check)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
