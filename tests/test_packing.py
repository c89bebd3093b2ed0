"""Stored size: workflow states and history entries are packed, and old rows still work.

A case worked and closed before packing (zlib states, plain history text) still loads:
the complainant takes the survey on it, its history reads the same, and `flask
verify-audit` passes over its old and new entries alike. A packed closed case keeps every
later step of the process.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from server.engine import runtime as engine_runtime
from server.engine import serializer
from server.engine.state_form import compact, expand
from server.extensions import db
from server.models import CaseEvent
from server.models import types as column_types
from server.packing import MARK, PackingError, dictionary, pack, unpack
from server.services import cases, portal

from .support.cases import drive, file_case, fill
from .support.data import CLOSE
from .support.process import Driver, to_decision
from .support.web import AuthActions, post


def _old_dump(workflow: Any) -> bytes:
    """How states were saved before packing: the serializer's JSON, zlib level 6."""
    return zlib.compress(serializer._STATE.serialize_json(workflow).encode("utf-8"), 6)


def _old_history(backend: str) -> Any:
    """How history data was written before packing: the text (UTF-8 bytes on PostgreSQL,
    as migration 0038 converts it)."""
    return lambda text, kind: text.decode("utf-8") if backend == "sqlite" else text


def _raw(reference_id: int) -> tuple[bytes, list[bytes]]:
    """The case's stored state and history data, as the database holds them."""
    state = db.session.execute(text('SELECT workflow_state FROM "case" WHERE id = :i'),
                               {"i": reference_id}).scalar_one()
    data = db.session.execute(text("SELECT data FROM case_event WHERE case_id = :i "
                                   "ORDER BY seq"), {"i": reference_id}).scalars()
    return bytes(state), [d.encode() if isinstance(d, str) else bytes(d) for d in data]


def _history(case_id: int) -> list[tuple[str, str, str]]:
    """What the case page and exports read of each history entry."""
    return [(e.kind, e.summary, e.data) for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))]


def _closed(reference: str) -> None:
    """Work the case through the reference process until it is closed."""
    drive(reference, lambda data: not cases.get_case(reference).is_open)


@pytest.fixture
def checkpoints(app: Flask, tmp_path: Path) -> None:
    """verify-audit's checkpoints in this test's own folder."""
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(tmp_path / "checkpoints")


def test_a_case_closed_before_packing_takes_the_survey_and_still_verifies(
        app_ctx: None, runner: Any, checkpoints: None, backend: str, client: FlaskClient,
        auth: AuthActions, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as old:
        old.setattr(engine_runtime, "dump_state", _old_dump)
        old.setattr(column_types, "pack", _old_history(backend))
        reference, _token = file_case()
        _closed(reference)
        db.session.commit()
    case = cases.get_case(reference)
    state, data = _raw(case.id)
    assert state[0] == 0x78 and all(d[:1] == b"{" for d in data)  # the old formats
    before = _history(case.id)

    [survey] = [q for q in portal.questions(case)
                if "satisfaction" in q["schema"].get("properties", {})]
    portal.answer(case, survey, fill(survey["schema"], {"satisfaction": 4}))
    db.session.commit()

    case = cases.get_case(reference)
    assert cases.case_data(case)["survey"]["satisfaction"] == 4
    state, data = _raw(case.id)
    assert state[0] == MARK and data[-1][0] == MARK  # what is written now is packed
    assert data[0][:1] == b"{"  # the old entries stay as they were written
    after = _history(case.id)
    assert after[:len(before)] == before and len(after) > len(before)
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    # The case page and the case's bundle read the old entries and the new one alike.
    auth.login("hana", "handler")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert all(html.escape(summary, quote=False) in page for _kind, summary, _data in after)
    bundle = post(client, f"/cases/{reference}/bundle.zip")
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        record = json.loads(archive.read("record.json"))
    assert [(e["kind"], e["summary"], e["data"]) for e in record["history"]] == after


def test_a_packed_closed_case_is_smaller_and_reads_the_same(app_ctx: None, runner: Any,
                                                           checkpoints: None) -> None:
    reference, _token = file_case()
    _closed(reference)
    db.session.commit()
    case = cases.get_case(reference)
    state, data = _raw(case.id)
    assert state[0] == MARK and all(d[0] == MARK for d in data)
    plain = unpack(state)
    assert len(state) < len(zlib.compress(plain, 6))
    for (_kind, _summary, readable), stored in zip(_history(case.id), data, strict=True):
        assert readable.startswith("{") and len(stored) < len(readable)
    # The closed case still waits for the complainant's survey (a later step).
    assert any("satisfaction" in q["schema"].get("properties", {})
               for q in portal.questions(case))
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output


def test_a_value_naming_an_unknown_dictionary_is_refused_not_misread() -> None:
    packed = pack(b'{"a": 1}', "history")
    assert unpack(packed) == b'{"a": 1}'
    with pytest.raises(PackingError):
        unpack(bytes((MARK, 99)) + packed[2:])
    with pytest.raises(zlib.error):
        unpack(b"not a workflow")


def test_a_closed_state_comes_back_exactly_from_its_stored_form() -> None:
    d = Driver(False)
    to_decision(d)
    d.message("complainant_response", {"accepted": True})
    d.complete("close", CLOSE)
    dct = serializer._STATE.to_dict(d.workflow)
    stored = json.loads(json.dumps(compact(json.loads(json.dumps(dct, default=str))),
                                   default=str))
    assert "tasks" in stored and isinstance(stored["tasks"], list)
    assert expand(stored) == json.loads(json.dumps(dct, default=str))
    # A dict SpiffWorkflow wrote before (no stored form) is read as it is.
    plain = json.loads(json.dumps(dct, default=str))
    assert expand(json.loads(json.dumps(plain))) == plain


def test_packing_one_value_after_another_gives_each_the_bytes_of_a_fresh_compressor() -> None:
    # pack() copies one compressor primed with the dictionary: every value must come out
    # as a compressor made for it alone makes it, and the next value must not see this one.
    state = b'{"tasks":[{"task_spec":"acknowledge","state":16}],"data":{"a":1}}'
    other = b'{"tasks":[],"data":{"b":2}}'

    def fresh(text: bytes) -> bytes:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY,
                                  dictionary(1))
        return bytes((MARK, 1)) + packer.compress(text) + packer.flush()

    assert [pack(state, "state"), pack(other, "state"), pack(state, "state")] == [
        fresh(state), fresh(other), fresh(state)]
    assert unpack(pack(other, "state")) == other
