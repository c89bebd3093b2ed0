"""The reference process on the engine alone, without a database: bundles, runtimes, a driver."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from server.engine import Bundle, ProcessRuntime, WorkingTime, load_bundle
from server.engine.serializer import load_specs

from .data import ACK, ASSESS, INTAKE, INVESTIGATE, RESPOND

REPO = Path(__file__).resolve().parents[2]
ROLES = {"handler", "supervisor", "complaints_manager", "specialist", "process_owner", "admin",
         "auditor", "privacy_officer"}
# Engine tests run without a database, so without the business calendar: round-the-clock
# hours and these targets stand in for it (the services tests use the real one).
TARGET_HOURS = {"acknowledge": 48, "response": 72, "resolution": 120, "data_request": 720}
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


XXE = """<?xml version="1.0"?>
<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation>
  </bpmn:process>
</bpmn:definitions>"""

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&lol3;</bpmn:documentation>
  </bpmn:process>
</bpmn:definitions>"""


class Driver:
    """Drives one workflow, optionally saving and reloading it after every step."""

    def __init__(self, round_trip: bool, rt: ProcessRuntime | None = None) -> None:
        self.rt = rt or runtime()
        self.round_trip = round_trip
        self.workflow, self.snapshot = self.rt.start(dict(INTAKE))
        self.sizes = [len(self.rt.dump(self.workflow))]

    def _reload(self) -> None:
        if self.round_trip:
            state = self.rt.dump(self.workflow)
            self.sizes.append(len(state))
            self.workflow = self.rt.load(state)

    def ready(self) -> list[str]:
        """The BPMN ids of the ready tasks."""
        return [t.bpmn_id for t in self.snapshot.ready]

    def complete(self, bpmn_id: str, values: dict) -> None:
        """Complete the ready task with this BPMN id."""
        self._reload()
        task = next(t for t in self.snapshot.ready if t.bpmn_id == bpmn_id)
        self.snapshot = self.rt.complete(self.workflow, task.task_id, values)

    def message(self, name: str, payload: dict) -> None:
        """Deliver a message the workflow waits for."""
        self._reload()
        self.snapshot = self.rt.message(self.workflow, name, payload)

    def fire(self) -> list[str]:
        """Fire the timers that are due; return the ids of those that fired."""
        self._reload()
        self.snapshot = self.rt.fire_timers(self.workflow)
        return self.snapshot.fired


round_trip = pytest.mark.parametrize("round_trip", [False, True], ids=["in-memory", "saved"])


def to_decision(d: Driver, respond: dict | None = None) -> None:
    """Acknowledge, assess, investigate and decide, with no approval needed."""
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE), ("respond", respond or RESPOND)):
        d.complete(bpmn_id, values)
