"""A history that cannot be rewritten unnoticed: what `flask verify-audit` catches.

Each attack is made as someone who can write the database (and drop or disable its
triggers) but holds neither the audit key nor the checkpoint files.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from server import config
from server.extensions import db
from server.models import AuditTombstone, Case, CaseEvent, SystemEvent
from server.services import audit, cases, system_log
from server.services.actors import Actor

from .support.data import ACK, HANDLER, INTAKE


@pytest.fixture(autouse=True)
def checkpoint_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Checkpoints of this test only, in a folder of its own."""
    folder = tmp_path / "checkpoints"
    app.config["PLAINT_AUDIT_CHECKPOINT_DIR"] = str(folder)
    yield folder


def new_case(acknowledged: bool = True) -> Case:
    """A case with two events (received, acknowledged)."""
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    if acknowledged:
        [task] = cases.ready_tasks(case)
        cases.complete_task(case.reference, task.task_id, ACK, HANDLER)
    return cases.get_case(case.reference)


def bypass(*triggers: tuple[str, str]) -> None:
    """Switch off the append-only triggers, as an attacker with database rights can."""
    for table, name in triggers:
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
        else:
            db.session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def verify(runner) -> tuple[int, str]:
    """Run `flask verify-audit` as an operator; its exit code and what it printed."""
    db.session.commit()
    result = runner.invoke(args=["verify-audit"])
    return result.exit_code, result.output


def checkpoint(runner) -> str:
    """Run `flask audit-checkpoint`; return what it printed."""
    db.session.commit()
    result = runner.invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0, result.output
    return result.output


def plain_sha256_rewrite(case: Case, summary: str, unkeyed: bool = True) -> None:
    """Rewrite event 1 and recompute the chain and head with unkeyed SHA-256 (the old way).

    `unkeyed` also marks every event as written before audit keys (alg "sha256").
    """
    bypass(("case_event", "case_event_no_update"))
    prev = audit.GENESIS
    for event in audit.history(case):
        if event.seq == 1:
            event.summary = summary
        material = "\x1f".join([case.reference, str(event.seq), event.at.isoformat(),
                                event.actor, event.kind, event.summary, event.data, prev])
        event.prev_hash = prev
        if unkeyed:
            event.alg = "sha256"
        event.hash = prev = hashlib.sha256(material.encode()).hexdigest()
    case.audit_head = prev
    db.session.commit()


def test_an_untouched_database_passes_and_names_the_checkpoint(app_ctx, runner,
                                                               checkpoint_dir) -> None:
    new_case()
    system_log.record(Actor.system("test"), "policy.test", "A setting changed")
    db.session.commit()
    code, output = verify(runner)
    assert code == 0, output
    assert "No checkpoint file" in output
    written = checkpoint(runner)
    [path] = checkpoint_dir.glob("checkpoint-*.json")
    assert path.name in written
    code, output = verify(runner)
    assert code == 0, output
    assert f"Compared with checkpoint {path.name} (taken " in output
    assert "Checked 1 case(s) with 2 event(s) and" in output and "intact" in output


def test_the_audit_key_is_outside_the_database_in_a_private_file(tmp_path) -> None:
    key = config.instance_secret_key(str(tmp_path), "audit_key")
    path = tmp_path / "audit_key"
    assert path.read_text() == key and key != config.instance_secret_key(str(tmp_path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("unkeyed, problem", [
    (False, "event 1 was altered after it was written (its signature does not match"),
    (True, "event 2 is not signed with the audit key and no checkpoint vouches for it")])
def test_a_rewrite_recomputed_with_plain_sha256_is_detected(app_ctx, runner, unkeyed,
                                                            problem) -> None:
    case = new_case()
    plain_sha256_rewrite(case, "Nothing happened", unkeyed)
    code, output = verify(runner)
    assert code == 1
    assert f"{case.reference}: {problem}" in output


def test_a_rewrite_that_keeps_the_keyed_marker_is_detected(app_ctx, runner) -> None:
    case = new_case()
    bypass(("case_event", "case_event_no_update"))
    db.session.execute(text("UPDATE case_event SET summary = 'Nothing happened' "
                            "WHERE seq = 1 AND case_id = :id"), {"id": case.id})
    db.session.commit()
    code, output = verify(runner)
    assert code == 1 and f"{case.reference}: event 1 was altered" in output


def test_deleting_the_newest_event_and_moving_the_head_back_is_detected(app_ctx,
                                                                       runner) -> None:
    case = new_case()
    checkpoint(runner)
    [first] = [e for e in audit.history(case) if e.seq == 1]
    bypass(("case_event", "case_event_no_delete"))
    db.session.execute(text("DELETE FROM case_event WHERE case_id = :id AND seq = 2"),
                       {"id": case.id})
    db.session.execute(text('UPDATE "case" SET event_count = 1, audit_head = :head, '
                            'status_label = NULL WHERE id = :id'),
                       {"head": first.hash, "id": case.id})
    db.session.commit()
    code, output = verify(runner)
    assert code == 1
    assert f"{case.reference}: 1 events, the checkpoint had 2: events were deleted" in output


def test_history_rows_cannot_be_deleted(app_ctx) -> None:
    case = new_case(acknowledged=False)
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": case.id})
        db.session.commit()
    db.session.rollback()
    assert audit.verify_case(cases.get_case(case.reference)) == []


def test_deleting_a_whole_case_is_detected_against_the_checkpoint(app_ctx, runner) -> None:
    gone, kept = new_case(), new_case(acknowledged=False)
    gone_ref, gone_id, kept_ref = gone.reference, gone.id, kept.reference
    checkpoint(runner)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET session_replication_role = replica"))
    else:
        bypass(("case_event", "case_event_no_delete"))
    db.session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": gone_id})
    db.session.execute(text('DELETE FROM human_task WHERE case_id = :id'), {"id": gone_id})
    db.session.execute(text('DELETE FROM timer WHERE case_id = :id'), {"id": gone_id})
    db.session.execute(text('DELETE FROM "case" WHERE id = :id'), {"id": gone_id})
    db.session.commit()
    code, output = verify(runner)
    assert code == 1
    assert f"{gone_ref}: the case is gone (the checkpoint had 2 events)" in output
    assert kept_ref not in output


@pytest.mark.parametrize("column, value", [
    ("description", "I have no complaint."), ("complainant_email", "mallory@example.org"),
    ("priority", "low"), ("is_open", False)])
def test_changing_the_case_row_without_an_event_is_detected(app_ctx, runner, column,
                                                            value) -> None:
    case = new_case()
    db.session.execute(text(f'UPDATE "case" SET {column} = :value WHERE id = :id'),
                       {"value": value, "id": case.id})
    db.session.commit()
    code, output = verify(runner)
    assert code == 1
    assert f"{case.reference}: the case row" in output and "without a history entry" in output


def test_a_rewritten_system_log_row_is_detected(app_ctx, runner) -> None:
    for n in range(3):
        system_log.record(Actor.system("admin"), "policy.targets", f"Targets set {n}")
        db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE system_event SET actor = 'mallory'"))
        db.session.commit()
    db.session.rollback()
    bypass(("system_event", "system_event_no_update" if db.engine.dialect.name == "sqlite"
            else "system_event_append_only"))
    db.session.execute(text("UPDATE system_event SET actor = 'mallory' "
                            "WHERE summary = 'Targets set 1'"))
    db.session.commit()
    code, output = verify(runner)
    assert code == 1
    assert "system log: system event" in output and "was altered after it was written" in output


def test_system_log_rows_marked_unchained_are_detected(app_ctx, runner) -> None:
    system_log.record(Actor.system("admin"), "policy.targets", "Targets set")
    db.session.commit()
    checkpoint(runner)
    bypass(("system_event", "system_event_no_update" if db.engine.dialect.name == "sqlite"
            else "system_event_append_only"))
    db.session.execute(text("UPDATE system_event SET hash = NULL, prev_hash = NULL, "
                            "summary = 'Nothing'"))
    db.session.execute(text("UPDATE audit_chain_head SET count = 0, hash = :g"),
                       {"g": audit.GENESIS})
    db.session.commit()
    code, output = verify(runner)
    assert code == 1 and "system log:" in output


def test_purge_leaves_a_tombstone_and_verify_passes(app_ctx, runner, checkpoint_dir) -> None:
    case = new_case()
    reference, case_id = case.reference, case.id
    checkpoint(runner)
    db.session.commit()
    result = runner.invoke(args=["purge-case", reference, "--reason",
                                 "Retention: six years after closing"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Case).where(Case.reference == reference)) is None
    assert db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all() == []
    stone = db.session.scalar(select(AuditTombstone))
    assert (stone.reference, stone.event_count, stone.reason) == (
        reference, 2, "Retention: six years after closing")
    [copy] = checkpoint_dir.glob(f"tombstone-{reference}-*.json")
    assert json.loads(copy.read_text())["body"]["head"] == stone.head
    purge_logged = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "audit.purge"))
    assert purge_logged is not None
    code, output = verify(runner)
    assert code == 0, output


def test_a_forged_tombstone_does_not_excuse_a_deleted_case(app_ctx, runner) -> None:
    case = new_case()
    reference, case_id = case.reference, case.id
    checkpoint(runner)
    # The trigger lets a tombstoned case go: a forged tombstone opens that door...
    db.session.add(AuditTombstone(case_id=case_id, reference=reference, event_count=2,
                                  head=case.audit_head, actor="mallory", at=case.received_at,
                                  reason="gone", signature="0" * 64))
    db.session.commit()
    db.session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": case_id})
    db.session.execute(text('DELETE FROM "case" WHERE id = :id'), {"id": case_id})
    db.session.commit()
    code, output = verify(runner)
    # ...but without the key its signature gives it away.
    assert code == 1
    assert f"tombstone of {reference}: its signature does not match" in output
    assert f"{reference}: the case is gone" in output


def test_history_from_before_keys_is_accepted_once_a_checkpoint_vouches_for_it(
        app_ctx, runner) -> None:
    case = new_case()
    reference = case.reference
    plain_sha256_rewrite(case, audit.history(case)[0].summary)  # as migration 0012 leaves it
    code, output = verify(runner)
    assert code == 1 and "no checkpoint vouches for it" in output
    checkpoint(runner)
    code, output = verify(runner)
    assert code == 0, output
    assert "Note: 2 event(s) from before audit keys were checked with plain SHA-256" in output
    # Once vouched for, rewriting them the old way again is caught.
    plain_sha256_rewrite(cases.get_case(reference), "Nothing happened")
    code, output = verify(runner)
    assert code == 1 and f"{reference}: event 2 differs from the checkpoint" in output


def test_a_forged_or_removed_checkpoint_is_detected(app_ctx, runner, checkpoint_dir) -> None:
    new_case()
    checkpoint(runner)
    [path] = checkpoint_dir.glob("checkpoint-*.json")
    signed = json.loads(path.read_text())
    signed["body"]["cases"] = {}
    path.write_text(json.dumps(signed))
    code, output = verify(runner)
    assert code == 1 and f"checkpoint {path.name}: its signature does not match" in output
    path.unlink()
    code, output = verify(runner)
    assert code == 1 and "the database holds 1 checkpoint(s) but no checkpoint file" in output


def test_history_from_before_keys_is_covered_by_the_next_signed_event(app_ctx,
                                                                      runner) -> None:
    case = new_case(acknowledged=False)
    reference = case.reference
    plain_sha256_rewrite(case, audit.history(case)[0].summary)  # as migration 0012 leaves it
    [task] = cases.ready_tasks(case)
    cases.complete_task(reference, task.task_id, ACK, HANDLER)
    code, output = verify(runner)
    assert code == 0, output
    assert "Note: 1 event(s) from before audit keys" in output
    plain_sha256_rewrite(cases.get_case(reference), "Nothing happened", unkeyed=False)
    code, output = verify(runner)
    assert code == 1 and f"{reference}: event 2 was altered" in output
