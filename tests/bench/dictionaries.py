"""Make the preset dictionaries of server/packing from the reference process.

`TZ=UTC .venv/bin/python -m tests.bench.dictionaries STATE_NUMBER HISTORY_NUMBER` runs a
case of the reference process through the services (with sample texts of its own, none of
the values tests or benchmarks use), asking the complainant once, up to its closing; then
writes what every case repeats: the states' and the history entries' JSON with the ids,
timestamps and the sample's own texts taken out. A shipped dictionary is never rewritten
(old rows name it): a new one takes a new number, listed in server/packing FILES/CURRENT.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from server.packing import unpack

WINDOW = 32 * 1024  # zlib reads no further back than this
# Sample free text: taken out again, so only the process's own words stay.
TEXTS = {"complainant_name": "Sample Person", "complainant_email": "sample@example.org",
         "product_service": "Sample product", "description": "Sample description.",
         "remedy_sought": "Sample remedy", "acknowledgement_message": "Sample note.",
         "findings": "Sample findings.", "question_to_complainant": "Sample question?",
         "response": "Sample response.", "remedy_offered": "Sample offer",
         "information": "Sample answer."}
NOISE = re.compile(
    rb'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'  # task ids
    rb'|\d{4}-\d\d-\d\dT[\d:.]+(?:\+00:00|Z)'  # times
    rb'|[0-9a-f]{32,}'  # the stored form's table of task ids
    rb'|\d{10}\.\d+'  # last_state_change
    rb'|(?i:sample)[^"]*')


def sample_case() -> tuple[list[bytes], list[bytes]]:
    """The states after each step and the history entries of one sample case."""
    from server import create_app
    from server.extensions import db
    from server.models import Case, CaseEvent, HumanTask
    from server.services import cases
    from tests.support import data as c

    folder = Path(tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'd.db'}",
                      "SECRET_KEY": "dictionaries"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    t = TEXTS
    intake = {k: t[k] for k in ("complainant_name", "complainant_email", "product_service",
                                "description", "remedy_sought")} | {"consent": True}
    steps: list[tuple[str, Any]] = [
        ("task", {"acknowledgement_channel": "letter",
                  "acknowledgement_message": t["acknowledgement_message"]}),
        ("task", {"in_scope": True, "category": "service_quality", "product": "other",
                  "severity": "minor", "complexity": "complex", "vulnerable_customer": True,
                  "regulator_involved": False, "immediate_action_needed": False}),
        ("task", {"findings": t["findings"], "need_information": True,
                  "question_to_complainant": t["question_to_complainant"]}),
        ("message", ("complainant_information", {"information": t["information"]})),
        ("task", {"findings": t["findings"], "need_information": False}),
        ("task", {"outcome": "partly_upheld", "response": t["response"],
                  "remedy_offered": t["remedy_offered"]}),
        ("message", ("complainant_response", {"accepted": True})),
        ("task", {"closure_reason": "accepted", "final_outcome": "partly_upheld",
                  "root_cause": "communication", "corrective_action_needed": False}),
    ]
    states: list[bytes] = []
    with app.app_context():
        case = cases.start_case(intake, "web", c.HANDLER).case
        reference, case_id = case.reference, case.id
        states.append(unpack(case.workflow_state))
        for what, values in steps:
            if what == "task":
                task_id = db.session.scalar(select(HumanTask.task_id).where(
                    HumanTask.case_id == case_id).order_by(HumanTask.id))
                case = cases.complete_task(reference, task_id, values, c.HANDLER)
            else:
                case = cases.send_message(reference, values[0], values[1], c.HANDLER)
            states.append(unpack(db.session.get(Case, case_id).workflow_state))
        assert not db.session.get(Case, case_id).is_open
        events = [e.encode() for e in db.session.scalars(
            select(CaseEvent.data).where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.seq))]
        db.engine.dispose()
    return states, events


def build(parts: list[bytes]) -> bytes:
    """A dictionary of the parts' shared text, the most common last (nearest the data)."""
    text = b"".join(NOISE.sub(b"", part) for part in parts)
    return text[-WINDOW:]


def main() -> None:
    state_number, history_number = (int(a) for a in sys.argv[1:3])
    folder = Path(__file__).resolve().parents[2] / "server" / "packing"
    states, events = sample_case()
    # The closed state last: a case spends most of its stored life closed.
    for number, data in ((state_number, build(states[::3] + states[-1:])),
                         (history_number, build(events))):
        target = folder / f"{'state' if number == state_number else 'history'}-{number}.zdict"
        if target.exists() and "--replace" not in sys.argv:
            raise SystemExit(f"{target} exists: old rows may name it; use a new number")
        target.write_bytes(data)
        print(f"{target}: {len(data)} bytes")


if __name__ == "__main__":
    main()
