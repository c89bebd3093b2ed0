"""SpiffArena models with manual tasks, form-less user tasks, no lanes and no intake form.

The fixture (tests/fixtures/spiffarena/manual-tasks) is shaped as SpiffArena exports a
process model: its start event has no form, nothing sits in a lane, a manual task carries
instructionsForEndUser filled in from the task data, and a user task has no form.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask, ProcessDraft, ProcessVersion
from server.services import cases

from .support.data import INTAKE
from .support.web import file_complaint, make_user, post, sign_in, submit, token

FIXTURE = Path(__file__).parent / "fixtures" / "spiffarena" / "manual-tasks"


def fixture_copy(tmp_path: Path, **replace: str) -> Path:
    """The fixture in a folder of its own, with texts of the diagram replaced."""
    folder = tmp_path / "manual-tasks"
    folder.mkdir()
    for path in FIXTURE.iterdir():
        text = path.read_text(encoding="utf-8")
        for old, new in replace.items():
            text = text.replace(old, new)
        (folder / path.name).write_text(text, encoding="utf-8")
    return folder


def active() -> ProcessVersion:
    db.session.rollback()
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))


def open_tasks(reference: str) -> list[Any]:
    """The case's open tasks now: (task_id, bpmn_id, role) rows."""
    db.session.rollback()
    case = cases.get_case(reference)
    return list(db.session.execute(select(HumanTask.task_id, HumanTask.bpmn_id, HumanTask.role)
                                   .where(HumanTask.case_id == case.id)))


def deploy_fixture(runner, tmp_path: Path, *args: str, **replace: str) -> str:
    result = runner.invoke(args=["deploy", str(fixture_copy(tmp_path, **replace)), *args])
    assert result.exit_code == 0, result.output
    return result.output


def work_through(client: FlaskClient, reference: str) -> None:
    """Open each ready task in the browser's way and press its button, to the end."""
    for _ in range(5):
        waiting = open_tasks(reference)
        if not waiting:
            return
        path = f"/cases/{reference}/tasks/{waiting[0].task_id}"
        page = client.get(path)
        assert page.status_code == 200, page.get_data(as_text=True)[:2000]
        assert ">Done</button>" in page.get_data(as_text=True)
        done = submit(client, path, {})
        assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    raise AssertionError("the case did not end")


def test_cli_deploys_the_model_and_it_runs_to_its_end_over_http(
        app_ctx, runner, tmp_path, client) -> None:
    output = deploy_fixture(runner, tmp_path)
    assert "Tasks outside any lane go to the role handler." in output
    assert "the default intake form applies" in output
    version = active()
    assert version.process_id == "Process_call_back_x7k2p9"
    assert version.role_map == {"*": "handler"}
    # /complaints/new answers with the default intake form, and files the complaint.
    form = client.get("/complaints/new")
    assert form.status_code == 200 and 'name="complainant_name"' in form.get_data(as_text=True)
    reference, _tracking = file_complaint(client, complainant_phone="+966 55 123 4567")
    tasks = open_tasks(reference)
    assert [(t.bpmn_id, t.role) for t in tasks] == [("Activity_call", "handler")]
    make_user("hana", "handler")
    sign_in(client, "hana")
    inbox = client.get("/tasks").get_data(as_text=True)
    assert "Call the complainant" in inbox
    page = client.get(f"/cases/{reference}/tasks/{tasks[0].task_id}").get_data(as_text=True)
    # The instructions are filled in from the task's data (intake and script) as Markdown.
    assert "<h2>Call Layla Haddad</h2>" in page
    assert "Call within 2 days and talk about the complaint and what you would like us to " \
           "do." in page
    assert "Their phone: +966 55 123 4567" in page
    work_through(client, reference)
    db.session.rollback()
    assert not open_tasks(reference) and cases.get_case(reference).is_open is False


def test_done_needs_the_csrf_token_and_the_role(app_ctx, runner, tmp_path, client) -> None:
    deploy_fixture(runner, tmp_path)
    reference, _tracking = file_complaint(client)
    task_id = open_tasks(reference)[0].task_id
    path = f"/cases/{reference}/tasks/{task_id}"
    make_user("adel", "auditor")
    sign_in(client, "adel")
    assert client.get(path).status_code == 403
    make_user("hana", "handler")
    sign_in(client, "hana")
    refused = client.post(path, data={})  # no CSRF token
    assert refused.status_code == 400
    assert [t.task_id for t in open_tasks(reference)] == [task_id]


def test_deploy_takes_the_default_role_from_the_command_line(
        app_ctx, runner, tmp_path, client) -> None:
    output = deploy_fixture(runner, tmp_path, "--default-role", "supervisor")
    assert "go to the role supervisor" in output
    reference = cases.start_case(dict(INTAKE), "web", _system()).case.reference
    assert [t.role for t in open_tasks(reference)] == ["supervisor"]
    make_user("hana", "handler")
    sign_in(client, "hana")
    task_id = open_tasks(reference)[0].task_id
    assert client.get(f"/cases/{reference}/tasks/{task_id}").status_code == 403
    bad = runner.invoke(args=["deploy", str(FIXTURE), "--default-role", "astronaut"])
    assert bad.exit_code == 1 and "astronaut" in bad.output


def _system():
    from server.services.actors import Actor
    return Actor.system("test")


def test_a_routed_default_role_can_work_its_tasks(app_ctx, runner, tmp_path, client) -> None:
    # The specialist role holds no capability of the table: routing alone lets it in.
    deploy_fixture(runner, tmp_path, "--default-role", "specialist")
    reference, _tracking = file_complaint(client)
    make_user("sami", "specialist")
    sign_in(client, "sami")
    assert "Call the complainant" in client.get("/tasks").get_data(as_text=True)
    work_through(client, reference)


def test_instructions_cannot_run_away_or_inject_markup(app_ctx, runner, tmp_path,
                                                       client) -> None:
    deploy_fixture(runner, tmp_path, **{
        "## Call {{ complainant_name }}":
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
            "## Call {{ complainant_name }}"})
    reference, _tracking = file_complaint(
        client, complainant_name="[Click](https://evil.example) <b>x</b>")
    make_user("hana", "handler")
    sign_in(client, "hana")
    task_id = open_tasks(reference)[0].task_id
    page = client.get(f"/cases/{reference}/tasks/{task_id}")
    # Stopped by the time limit: the instructions show as written, the page still works.
    assert page.status_code == 200
    assert "{% for a in range(100000) %}" in page.get_data(as_text=True)


def test_data_shows_as_typed_in_the_instructions(app_ctx, runner, tmp_path, client) -> None:
    deploy_fixture(runner, tmp_path)
    reference, _tracking = file_complaint(
        client, complainant_name="[Click](https://evil.example) <b>x</b>")
    make_user("hana", "handler")
    sign_in(client, "hana")
    task_id = open_tasks(reference)[0].task_id
    page = client.get(f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
    heading = re.search(r"<h2>Call (.*?)</h2>", page)
    assert heading and heading.group(1) == "[Click](https://evil.example) &lt;b&gt;x&lt;/b&gt;"
    assert 'href="https://evil.example"' not in page


def test_deploy_refuses_a_broken_instructions_template(app_ctx, runner, tmp_path) -> None:
    folder = fixture_copy(tmp_path, **{"{{ call_within_days }}": "{{ call_within_days",
                                       "|join(": "|center(1000000000)|join("})
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    assert "Activity_call" in result.output and "not a valid template" in result.output


# --- the studio ---------------------------------------------------------------------------

def fixture_zip() -> bytes:
    """The fixture zipped as SpiffArena exports a process model: one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FIXTURE.iterdir()):
            archive.writestr(f"call-back/{path.name}", path.read_bytes())
    return buffer.getvalue()


def studio_draft(owner: FlaskClient) -> int:
    sent = owner.post("/studio/upload", content_type="multipart/form-data", data={
        "csrf_token": token(owner, "/studio/"),
        "files": [(io.BytesIO(fixture_zip()), "call-back.zip")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    return int(sent.headers["Location"].rsplit("/", 1)[1])


def studio_deploy(owner: FlaskClient, draft: int):
    page = owner.get("/studio/").get_data(as_text=True)
    header = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return owner.post(f"/studio/drafts/{draft}/deploy", json={"comment": "from SpiffArena"},
                      headers={"X-CSRFToken": header})


def test_the_studio_deploys_the_model_and_it_runs_to_its_end(app_ctx, auth, client) -> None:
    owner = auth.signed_in("olga", "process_owner")
    draft = studio_draft(owner)
    # No intake form and no lanes are no problem: the default intake and role apply.
    assert owner.get(f"/studio/drafts/{draft}/files").get_json()["problems"] == []
    done = studio_deploy(owner, draft)
    assert done.status_code == 200, done.get_json()
    version = active()
    assert version.number == done.get_json()["version"]
    assert version.role_map == {"*": "handler"}
    assert version.file("intake-schema.json") is not None
    listing = owner.get("/studio/").get_data(as_text=True)
    assert "Tasks outside any lane: handler" in listing
    staff = auth.signed_in("hana", "handler")
    # Staff intake uses the default intake form too.
    assert staff.get("/cases/new").status_code == 200
    reference, _tracking = file_complaint(client)
    assert [t.role for t in open_tasks(reference)] == ["handler"]
    work_through(staff, reference)


def test_the_studio_setting_chooses_the_default_role(app_ctx, auth) -> None:
    owner = auth.signed_in("olga", "process_owner")
    draft = studio_draft(owner)
    editor = owner.get(f"/studio/drafts/{draft}").get_data(as_text=True)
    assert 'id="default-role"' in editor
    without_token = owner.post(f"/studio/drafts/{draft}/default-role",
                               data={"default_role": "supervisor"})
    assert without_token.status_code == 400
    unknown = post(owner, f"/studio/drafts/{draft}/default-role",
                   {"default_role": "astronaut"})
    assert unknown.status_code == 302
    assert "There is no role astronaut." in owner.get(unknown.headers["Location"]) \
        .get_data(as_text=True)
    chosen = post(owner, f"/studio/drafts/{draft}/default-role",
                  {"default_role": "supervisor"})
    assert chosen.status_code == 302
    assert '<option value="supervisor" selected>' in owner.get(
        f"/studio/drafts/{draft}").get_data(as_text=True)
    assert studio_deploy(owner, draft).status_code == 200
    assert active().role_map == {"*": "supervisor"}
    # Editing the version keeps its choice.
    again = post(owner, f"/studio/versions/{active().id}/edit")
    assert '<option value="supervisor" selected>' in owner.get(
        again.headers["Location"]).get_data(as_text=True)


def test_a_process_owner_cannot_choose_a_role_for_someone_elses_draft(app_ctx, auth) -> None:
    owner = auth.signed_in("olga", "process_owner")
    draft = studio_draft(owner)
    other = auth.signed_in("omar", "process_owner")
    refused = post(other, f"/studio/drafts/{draft}/default-role", {"default_role": "supervisor"})
    assert refused.status_code in (302, 404)
    db.session.rollback()
    assert db.session.get(ProcessDraft, draft).default_role is None


def test_instructions_follow_the_process_texts_in_arabic(app_ctx, runner, tmp_path,
                                                          client) -> None:
    folder = fixture_copy(tmp_path)
    source = re.search(r"<spiffworkflow:instructionsForEndUser>(.*?)</spiffworkflow:",
                       (folder / "call_back.bpmn").read_text(), re.S).group(1).strip()
    arabic = source.replace("## Call {{ complainant_name }}", "## اتصل بـ {{ complainant_name }}")
    (folder / "translations.ar.json").write_text(json.dumps(
        {source: arabic, "Call the complainant": "الاتصال بمقدّم الشكوى"}, ensure_ascii=False),
        encoding="utf-8")
    assert runner.invoke(args=["deploy", str(folder)]).exit_code == 0
    # The default intake's Arabic joined the version's own translations.
    texts = json.loads(active().file("translations.ar.json").content)
    assert texts["Call the complainant"] == "الاتصال بمقدّم الشكوى" and len(texts) > 2
    reference, _tracking = file_complaint(client)
    make_user("hana", "handler")
    sign_in(client, "hana")
    task_id = open_tasks(reference)[0][0]
    page = client.get(f"/cases/{reference}/tasks/{task_id}",
                      headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "<h2>اتصل بـ Layla Haddad</h2>" in page
    english = client.get(f"/cases/{reference}/tasks/{task_id}",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h2>Call Layla Haddad</h2>" in english
