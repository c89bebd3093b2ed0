"""SpiffArena models Plaint used to refuse over rules that only differed from SpiffArena.

Issue 16: a lane named after no role (SpiffArena's "Process Initiator", a lane with no
name) routes its tasks to the version's default role with a warning; a lane that names a
role keeps routing there. The fixtures are in tests/fixtures/spiffarena/soft/.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from server.formkit import parse_submission, render_fields, unsupported
from server.services.forms import validate

from .support.web import file_complaint, make_user, sign_in, submit, token
from .test_spiffarena_manual import active, open_tasks

SOFT = Path(__file__).parent / "fixtures" / "spiffarena" / "soft"


def work_one(client: FlaskClient, reference: str, bpmn_id: str) -> None:
    """Press Done on the case's open task `bpmn_id`, as the signed-in user."""
    [task] = [t for t in open_tasks(reference) if t.bpmn_id == bpmn_id]
    path = f"/cases/{reference}/tasks/{task.task_id}"
    assert ">Done</button>" in client.get(path).get_data(as_text=True)
    done = submit(client, path, {})
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]


def run_the_lanes_model(client: FlaskClient) -> None:
    """File a complaint; each lane's task goes to its role and is worked over HTTP."""
    reference, _tracking = file_complaint(client)
    # 'Process Initiator' and the lane without a name are no roles: the default role.
    assert [(t.bpmn_id, t.role) for t in open_tasks(reference)] == [
        ("Activity_gather", "handler")]
    make_user("hana", "handler")
    sign_in(client, "hana")
    work_one(client, reference, "Activity_gather")
    assert [(t.bpmn_id, t.role) for t in open_tasks(reference)] == [
        ("Activity_check", "handler")]
    work_one(client, reference, "Activity_check")
    # The lane named after a role keeps routing there.
    assert [(t.bpmn_id, t.role) for t in open_tasks(reference)] == [
        ("Activity_sign_off", "supervisor")]
    make_user("sara", "supervisor")
    sign_in(client, "sara")
    work_one(client, reference, "Activity_sign_off")
    assert open_tasks(reference) == []


def test_lanes_named_after_no_role_deploy_from_the_cli_and_run(
        app_ctx, runner, tmp_path, client) -> None:
    folder = tmp_path / "lanes"
    shutil.copytree(SOFT / "lanes", folder)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert "the lane 'Process Initiator' maps to no role" in result.output
    assert "the lane '' maps to no role" in result.output
    assert "roles page" in result.output
    version = active()
    assert version.role_map["Process Initiator"] == version.role_map["*"] == "handler"
    assert version.role_map["supervisor"] == "supervisor"
    run_the_lanes_model(client)


def lanes_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((SOFT / "lanes").iterdir()):
            archive.writestr(f"lanes/{path.name}", path.read_bytes())
    return buffer.getvalue()


def test_lanes_named_after_no_role_deploy_from_the_studio_and_run(
        app_ctx, auth, client) -> None:
    owner = auth.signed_in("olga", "process_owner")
    sent = owner.post("/studio/upload", content_type="multipart/form-data", data={
        "csrf_token": token(owner, "/studio/"), "files": [(io.BytesIO(lanes_zip()), "l.zip")]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    draft = int(sent.headers["Location"].rsplit("/", 1)[1])
    assert owner.get(f"/studio/drafts/{draft}/files").get_json()["problems"] == []
    page = owner.get("/studio/").get_data(as_text=True)
    header = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    done = owner.post(f"/studio/drafts/{draft}/deploy", json={"comment": "lanes"},
                      headers={"X-CSRFToken": header})
    assert done.status_code == 200, done.get_json()
    assert any("Process Initiator" in w for w in done.get_json()["warnings"])
    assert active().role_map["Process Initiator"] == "handler"
    run_the_lanes_model(client)


# --- a group of fields without "type" (react-jsonschema-form reads it as an object) -------

UNTYPED = json.loads((SOFT / "untyped-group-schema.json").read_text())


def test_a_group_without_a_type_is_drawn_and_answered_as_a_group(app_ctx) -> None:
    assert unsupported(UNTYPED) == []
    page = str(render_fields(UNTYPED, None, {}, {}))
    assert 'name="details.notes"' in page
    values = parse_submission(UNTYPED, None, MultiDict({"details.notes": "Rang twice",
                                                        "calls": "2"}))
    assert values == {"details": {"notes": "Rang twice"}, "calls": 2}
    assert validate(UNTYPED, values) == values


# --- a decision table without a catch-all row ------------------------------------------------

def test_a_decision_without_a_catch_all_row_deploys_and_a_case_it_cannot_answer_says_so(
        app_ctx, runner, tmp_path, client) -> None:
    folder = tmp_path / "decision"
    shutil.copytree(SOFT / "decision", folder)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert "callback_days.dmn" in result.output and "catch-all" in result.output
    answered, _tracking = file_complaint(client)  # Layla Haddad: a rule matches
    unanswered, _tracking = file_complaint(client, complainant_name="Nadia Karim")
    make_user("hana", "handler")
    sign_in(client, "hana")
    work_one(client, answered, "Activity_read")
    [call] = open_tasks(answered)
    page = client.get(f"/cases/{answered}/tasks/{call.task_id}").get_data(as_text=True)
    assert "Call back within 2 days." in page
    work_one(client, answered, "Activity_call")
    assert open_tasks(answered) == []
    # No rule matches Nadia: Done is refused with a message that names the decision.
    [read] = open_tasks(unanswered)
    path = f"/cases/{unanswered}/tasks/{read.task_id}"
    refused = submit(client, path, {})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "no rule of the decision &#39;callback_days&#39; matches this case" in body \
        or "no rule of the decision 'callback_days' matches this case" in body, body[:3000]
    assert [t.bpmn_id for t in open_tasks(unanswered)] == ["Activity_read"]
