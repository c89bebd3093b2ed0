"""The `flask --app server` commands, as an operator uses them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from server.extensions import db
from server.models import ProcessVersion, User
from server.services import cases

from .support.data import HANDLER, INTAKE
from .support.process import BOMB, REPO, XXE, reference_bpmn


def copy_bundle(tmp_path: Path, bpmn: str) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for other in (REPO / "workflows").iterdir():  # the called processes and decision tables
        (folder / other.name).write_bytes(other.read_bytes())
    (folder / "complaint.bpmn").write_text(bpmn)
    for form in (REPO / "forms").iterdir():
        (folder / form.name).write_bytes(form.read_bytes())
    return folder


def active_number() -> int:
    return db.session.scalar(select(ProcessVersion.number).where(ProcessVersion.is_active))


def test_init_db_is_idempotent(app_ctx, runner) -> None:
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Deployed" not in result.output and "Database ready." in result.output
    assert db.session.scalar(select(func.count()).select_from(ProcessVersion)) == 1


def test_init_db_demo_creates_one_account_per_role_with_hashed_passwords(app_ctx, runner) -> None:
    result = runner.invoke(args=["init-db", "--demo"])
    assert result.exit_code == 0, result.output
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert set(users) == {"handler", "supervisor", "complaints-manager", "specialist",
                          "process-owner", "admin", "auditor", "privacy-officer"}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in users:
            password = parts[1]
            assert password not in users[parts[0]].password_hash
            assert users[parts[0]].check_password(password)
    again = runner.invoke(args=["init-db", "--demo"])
    assert "Demo accounts" not in again.output


def test_create_user_prints_a_generated_password_once(app_ctx, runner) -> None:
    result = runner.invoke(args=["create-user", "Mona", "--role", "handler", "--role",
                                 "supervisor"])
    assert result.exit_code == 0, result.output
    password = result.output.split("Password (shown only now): ")[1].strip()
    user = db.session.scalar(select(User).where(User.username == "mona"))
    assert user.role_names == {"handler", "supervisor"} and user.check_password(password)
    again = runner.invoke(args=["create-user", "mona", "--role", "handler"])
    assert again.exit_code == 1 and "already an account" in again.output
    short = runner.invoke(args=["create-user", "nadia", "--role", "handler", "--password", "x"])
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_deploy_of_a_good_bundle_makes_a_new_active_version(app_ctx, runner, tmp_path) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    folder = copy_bundle(tmp_path, reference_bpmn().replace("Being assessed", "In review"))
    result = runner.invoke(args=["deploy", str(folder), "--note", "relabel"])
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output and active_number() == 2
    # The running case stays on the version it started on; new cases take the new one.
    assert cases.get_case(case.reference).process_version.number == 1
    new = cases.start_case(dict(INTAKE), "web", HANDLER).case
    assert cases.get_case(new.reference).process_version.number == 2


def test_deploy_of_a_broken_diagram_exits_non_zero_naming_the_element(
        app_ctx, runner, tmp_path) -> None:
    folder = copy_bundle(tmp_path, reference_bpmn().replace(
        "not in_scope", "__import__('os').system('touch /tmp/pwned')"))
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    assert "[Flow_out_of_scope]" in result.output
    assert "The active version is unchanged" in result.output
    assert active_number() == 1
    assert not Path("/tmp/pwned").exists()


def test_deploy_refuses_xxe_and_entity_bombs_on_every_database(app_ctx, runner, tmp_path) -> None:
    for i, text_ in enumerate((XXE, BOMB)):
        folder = copy_bundle(tmp_path / str(i), text_) if (tmp_path / str(i)).mkdir() is None \
            else None
        result = runner.invoke(args=["deploy", str(folder)])
        assert result.exit_code == 1
        assert "DOCTYPE and ENTITY declarations are not allowed" in result.output
    assert active_number() == 1


def test_fire_timers_runs_one_sweep(runner) -> None:
    result = runner.invoke(args=["fire-timers"])
    assert result.exit_code == 0 and "Fired 0 timer(s)" in result.output


def test_verify_audit_passes_then_catches_tampering(app_ctx, runner) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    ok = runner.invoke(args=["verify-audit"])
    assert ok.exit_code == 0 and "intact" in ok.output
    # Someone with database access disables the guard and rewrites history.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_no_update"))
    else:
        db.session.execute(text("DROP TRIGGER case_event_no_update"))
    db.session.execute(text("UPDATE case_event SET actor = 'mallory'"))
    db.session.commit()
    bad = runner.invoke(args=["verify-audit"])
    assert bad.exit_code == 1
    assert f"{case.reference}: event 1 was altered" in bad.output
