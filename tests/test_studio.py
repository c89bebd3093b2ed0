"""The process studio: upload, check, deploy and roll back processes through the browser's API."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import Case, HumanTask, ProcessDraft, ProcessVersion, SystemEvent
from server.services import users

from .support.web import AuthActions, file_complaint, post, submit, token

SPIFF = Path(__file__).parent / "diagrams" / "spiffarena"
BPMN = "service-complaint.bpmn"
PROCESS_ID = "Process_service_complaint_8f3k2d1"
INTAKE = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
          "product_service": "Current account",
          "description": "I was charged twice for the same transfer."}


# --- helpers ------------------------------------------------------------------------------

def spiff_files() -> dict[str, bytes]:
    """The SpiffArena export's files (process_model.json names the primary file and process)."""
    return {p.name: p.read_bytes() for p in SPIFF.iterdir()}


def spiff_zip(**replaced: bytes) -> bytes:
    """The fixture zipped the way SpiffArena exports a process model: one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SPIFF.iterdir()):
            archive.writestr(f"service-complaint/{path.name}",
                             replaced.get(path.name, path.read_bytes()))
    return buffer.getvalue()


def csrf(client: FlaskClient) -> dict[str, str]:
    """The header the editor sends with every change."""
    page = client.get("/studio/").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}


def upload(client: FlaskClient, *files: tuple[str, bytes]):
    """Send files through the processes page's upload form."""
    return client.post("/studio/upload", content_type="multipart/form-data", data={
        "csrf_token": token(client, "/studio/"),
        "files": [(io.BytesIO(data), name) for name, data in files]})


def draft_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(re.fullmatch(r"/studio/drafts/(\d+)", response.headers["Location"]).group(1))


def put(client: FlaskClient, draft: int, name: str, text: bytes | str):
    return client.put(f"/studio/drafts/{draft}/files/{name}", data=text, headers=csrf(client))


def deploy(client: FlaskClient, draft: int, comment: str = "changed"):
    return client.post(f"/studio/drafts/{draft}/deploy", json={"comment": comment},
                       headers=csrf(client))


def problems(client: FlaskClient, draft: int) -> list[dict]:
    return client.get(f"/studio/drafts/{draft}/files").get_json()["problems"]


def versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


def active() -> ProcessVersion:
    db.session.rollback()
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))


def map_customer_care(auth: AuthActions) -> None:
    """An administrator sends the 'Customer Care' lane to handlers on the roles page."""
    admin = auth.signed_in("root", "admin")
    assert post(admin, "/admin/lanes", {"lane": "Customer Care", "role": "handler"}) \
        .status_code == 302


@pytest.fixture
def owner(auth: AuthActions) -> FlaskClient:
    return auth.signed_in("olga", "process_owner")


@pytest.fixture
def spiff(auth: AuthActions, owner: FlaskClient) -> int:
    """The SpiffArena process deployed (lane mapped) as the active version; its number."""
    map_customer_care(auth)
    done = deploy(owner, draft_of(upload(owner, ("service-complaint.zip", spiff_zip()))))
    assert done.status_code == 200, done.get_json()
    return done.get_json()["version"]


def filed_case(client: FlaskClient) -> SimpleNamespace:
    """File a complaint on the public form; the new case's id, reference and version id."""
    reference, _link = file_complaint(client, **INTAKE)
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    return SimpleNamespace(id=case.id, reference=case.reference,
                           process_version_id=case.process_version_id)


def is_open(case: SimpleNamespace) -> bool:
    db.session.rollback()
    return db.session.get(Case, case.id).is_open


def open_task(case: SimpleNamespace) -> tuple[str, str]:
    db.session.rollback()
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    return f"/cases/{case.reference}/tasks/{task.task_id}", task.title


def work(client: FlaskClient, case: SimpleNamespace, values: dict) -> str:
    """Complete the case's open task through the task page; return the task's title."""
    path, title = open_task(case)
    done = submit(client, path, values)
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    return title


# --- who may use the studio ------------------------------------------------------------------

def test_only_process_owners_and_admins_reach_the_studio(client, auth) -> None:
    assert client.get("/studio/").status_code == 302  # anonymous: to sign-in
    assert "/login" in client.get("/studio/").headers["Location"]
    handler = auth.signed_in("hana", "handler")
    assert handler.get("/studio/").status_code == 403
    refused = handler.get("/studio/drafts/1/files")
    assert refused.status_code == 403 and refused.get_json()["problems"][0]["message"]
    assert auth.signed_in("root", "admin").get("/studio/").status_code == 200
    page = auth.signed_in("olga", "process_owner").get("/studio/").get_data(as_text=True)
    assert 'href="/studio/"' in page  # the Processes link in the menu
    assert "complaint_handling" in page and "Active" in page


def test_changes_without_the_csrf_token_are_refused(owner) -> None:
    draft = draft_of(upload(owner, ("service-complaint.zip", spiff_zip())))
    refused = owner.put(f"/studio/drafts/{draft}/files/{BPMN}", data=b"<x/>")
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["problems"][0]["message"]
    assert owner.post(f"/studio/drafts/{draft}/deploy", json={}).status_code == 400
    assert owner.post("/studio/upload", data={}).status_code == 400
    assert owner.get(f"/studio/drafts/{draft}/files/{BPMN}").data == spiff_files()[BPMN]


# --- SpiffArena export: upload, map the lane, deploy, run ---------------------------------

def test_a_spiffarena_export_uploads_and_runs_unchanged(app, auth, app_ctx, owner) -> None:
    before = versions()
    draft = draft_of(upload(owner, ("service-complaint.zip", spiff_zip())))
    listed = owner.get(f"/studio/drafts/{draft}/files").get_json()
    kinds = {f["name"]: f["kind"] for f in listed["files"]}
    assert kinds == {BPMN: "bpmn", "priority.dmn": "dmn", "approve-refund-schema.json": "form",
                     "complaint-intake-schema.json": "form", "triage-schema.json": "form",
                     "complaint-intake-uischema.json": "uiform", "triage-uischema.json": "uiform",
                     "process_model.json": "form"}
    # 'Customer Care' is no role here: no longer a problem (its tasks would go to the
    # default role, issue 16); mapping it on the roles page sends them to handlers.
    assert listed["problems"] == [], listed["problems"]
    map_customer_care(auth)
    assert owner.post(f"/studio/drafts/{draft}/validate", headers=csrf(owner)) \
        .get_json() == {"problems": []}
    done = deploy(owner, draft, "Service complaints from SpiffArena").get_json()
    assert done["version"] == before + 1 and done["process_id"] == PROCESS_ID
    assert done["redirect"] == "/studio/"
    version = active()
    assert {f.name: f.content for f in version.files} == spiff_files()  # byte for byte
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "process.deployed")
                              .order_by(SystemEvent.id.desc()).limit(1))
    assert f"replacing version {before} of complaint_handling" in event.summary

    public = app.test_client()
    assert "Tell us about your complaint" in public.get("/complaints/new").get_data(as_text=True)
    case = filed_case(public)
    assert case.process_version_id == version.id
    handler = auth.signed_in("hana", "handler")
    assert work(handler, case, {"category": "billing", "refund_needed": "true"}) \
        == "Triage complaint"
    supervisor = auth.signed_in("sara", "supervisor")
    assert work(supervisor, case, {"refund_approved": "true", "refund_amount": "12.5"}) \
        == "Approve refund"
    db.session.rollback()
    assert db.session.get(Case, case.id).priority == "high"  # the DMN table ran
    assert not is_open(case)


# --- hostile and broken uploads ---------------------------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("files", "said"), [
    ([("evil.zip", _zip({"../../etc/cron.d/x.bpmn": b"<x/>"}))], "points outside the archive"),
    ([("evil.zip", _zip({"/abs/x.bpmn": b"<x/>"}))], "points outside the archive"),
    ([("bomb.zip", _zip({"bomb.bpmn": b"\0" * (40 * 1024 * 1024)}))], "the limit is"),
    ([("many.zip", _zip({f"f{i}.json": b"{}" for i in range(1001)}))], "entries; at most"),
    ([("bombs.zip", _zip({f"f{i}.json": b" " * (2 * 1024 * 1024) for i in range(40)}))],
     "the files together are larger than"),
    ([("broken.zip", b"PK\x03\x04 this is not a zip")], "not a ZIP archive"),
    ([("notes.txt", b"hello")], "holds no .bpmn"),
    ([("x.zip", _zip({"a/x.bpmn": b"<a/>", "b/x.bpmn": b"<b/>"}))], "also named x.bpmn"),
    ([], "choose the"),
], ids=["traversal", "absolute", "zip-bomb", "too-many", "many-bombs", "not-zip", "nothing",
        "clash", "empty"])
def test_hostile_uploads_are_refused_with_a_reason_and_nothing_kept(
        app_ctx, owner, files, said) -> None:
    page = upload(owner, *files)
    assert page.status_code == 422
    assert said in page.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ProcessDraft)) == 0


def test_loose_files_upload_as_a_draft_and_an_oversize_upload_is_explained(app, owner) -> None:
    draft = draft_of(upload(owner, *spiff_files().items(), ("README.md", b"notes")))
    names = {f["name"] for f in owner.get(f"/studio/drafts/{draft}/files").get_json()["files"]}
    assert names == set(spiff_files())
    assert "Left out (not part of a process): README.md" in owner.get("/studio/") \
        .get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    page = upload(owner, ("big.zip", b"PK\x03\x04" + b"x" * 2 * 1024 * 1024))
    assert page.status_code == 413
    assert "larger than the 1 MB accepted at once" in page.get_data(as_text=True)


def test_a_doctype_in_a_diagram_is_a_problem_of_the_draft_not_a_crash(owner) -> None:
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
           b"&x;</bpmn:definitions>")
    draft = draft_of(upload(owner, ("evil.bpmn", xxe)))
    problem, stopped = problems(owner, draft)
    assert problem["file"] == "evil.bpmn" and problem["line"] == 2
    assert stopped["file"] is None and "evil.bpmn cannot be read" in stopped["message"]
    assert "DOCTYPE and ENTITY declarations are not allowed" in problem["message"]
    assert "root:" not in json.dumps(problem)


# --- editing: every save is checked, problems point at elements -------------------------------

@pytest.mark.parametrize(("change", "element", "said"), [
    (lambda t: t.replace("refund_needed == True", "refund_needed =="), "Flow_1refund",
     "condition"),
    (lambda t: t.replace('value="approve-refund-schema.json"', 'value="approve-schema.json"'),
     "Activity_approve_refund", "'approve-schema.json' is not in the bundle"),
], ids=["broken-condition", "missing-form"])
def test_a_broken_save_is_kept_and_the_problem_names_the_element(
        app_ctx, owner, spiff, change, element, said) -> None:
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    text = change(spiff_files()[BPMN].decode())
    saved = put(owner, draft, BPMN, text).get_json()
    assert saved["saved"] is True
    problem = next(p for p in saved["problems"] if p["element_id"] == element)
    assert said in problem["message"] and problem["file"] == BPMN
    assert owner.get(f"/studio/drafts/{draft}/files/{BPMN}").get_data(as_text=True) == text
    assert owner.get(f"/studio/drafts/{draft}").status_code == 200  # the editor opens it
    refused = deploy(owner, draft)
    assert refused.status_code == 422
    assert any(p["element_id"] == element for p in refused.get_json()["problems"])
    assert active().number == spiff  # a diagram with an error never replaces the active one


def test_bad_file_requests_are_refused_with_problems(app, app_ctx, owner, spiff) -> None:
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    for name in ("sub/x.bpmn", "x.exe", ".hidden.json"):
        refused = put(owner, draft, name, "{}")
        assert refused.status_code == 400, name
        assert refused.get_json()["problems"][0]["file"] == name
    limit = app.config["PLAINT_MAX_DIAGRAM_BYTES"]
    assert put(owner, draft, "big.json", b" " * (limit + 1)).status_code == 413
    assert owner.get(f"/studio/drafts/{draft}/files/nope.json").status_code == 404
    gone = owner.delete(f"/studio/drafts/{draft}/files/triage-schema.json", headers=csrf(owner))
    assert gone.get_json()["deleted"] is True
    assert any("'triage-schema.json' is not in the bundle" in p["message"]
               for p in gone.get_json()["problems"])
    assert owner.post(f"/studio/drafts/{draft}/deploy", data="x", headers={
        **csrf(owner), "Content-Type": "application/json"}).status_code == 400
    app.config["PLAINT_MAX_DIAGRAM_BYTES"] = 1000  # so 16,000 bytes for the whole draft
    draft = draft_of(upload(owner, ("a.json", b"{}")))
    answers = [put(owner, draft, f"f{i}.json", b" " * 1000).status_code for i in range(17)]
    assert answers == [200] * 15 + [413, 413]


# --- deploy, running cases, roll back --------------------------------------------------------

def test_deploy_makes_the_next_version_and_logs_what_changed(app_ctx, owner, spiff) -> None:
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    text = spiff_files()[BPMN].decode().replace('name="Triage complaint"',
                                                'name="Triage the complaint"')
    put(owner, draft, BPMN, text)
    put(owner, draft, "triage-schema.json",
        spiff_files()["triage-schema.json"].replace(b'"Triage"', b'"Sort the complaint"'))
    done = deploy(owner, draft, "Clearer task name").get_json()
    assert done["version"] == spiff + 1
    assert [e["id"] for e in done["diff"]["changed"]] == ["Activity_triage"]
    assert done["diff"]["added"] == [] and done["diff"]["removed"] == []
    assert done["diff"]["files"]["changed"] == [BPMN, "triage-schema.json"]
    db.session.rollback()
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "process.deployed")
                              .order_by(SystemEvent.id.desc()).limit(1))
    assert event.actor == "olga"
    assert f"version {spiff + 1}" in event.summary and f"from version {spiff}" in event.summary
    logged = json.loads(event.data)
    assert logged["diff"]["changed"][0] == {"id": "Activity_triage", "name": "Triage the complaint",
                                            "type": "userTask", "file": BPMN}
    assert logged["comment"] == "Clearer task name"
    assert owner.get(f"/studio/drafts/{draft}").status_code == 404  # the draft is gone
    page = owner.get("/studio/").get_data(as_text=True)
    assert "Clearer task name" in page  # the version's comment
    assert f"Deployed version {spiff + 1} of {PROCESS_ID} (from version {spiff})" in page


def test_a_deploy_from_the_command_line_is_logged_with_its_diff_too(app_ctx, runner) -> None:
    users.map_lane("Customer Care", "handler")
    result = runner.invoke(args=["deploy", str(SPIFF), "--note", "from the shell"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "process.deployed")
                              .order_by(SystemEvent.id.desc()).limit(1))
    logged = json.loads(event.data)
    assert event.actor == "system:cli" and logged["comment"] == "from the shell"
    assert "Activity_triage" in {e["id"] for e in logged["diff"]["added"]}
    assert logged["base_version"] == logged["previous_active"] == 1


def test_running_cases_finish_on_their_version_while_new_ones_use_the_new(
        app, auth, app_ctx, owner, spiff) -> None:
    public, handler = app.test_client(), auth.signed_in("hana", "handler")
    old_case = filed_case(public)
    # The new version drops the refund approval altogether.
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    text = spiff_files()[BPMN].decode().replace('targetRef="Activity_approve_refund"',
                                                'targetRef="Activity_record_outcome"')
    text = re.sub(r'<bpmn:userTask id="Activity_approve_refund".*?</bpmn:userTask>', "", text,
                  flags=re.S)
    text = re.sub(r'<bpmn:sequenceFlow id="Flow_1approved"[^>]*/>', "", text)
    text = text.replace("<bpmn:incoming>Flow_1approved</bpmn:incoming>", "")
    text = text.replace("<bpmn:flowNodeRef>Activity_approve_refund</bpmn:flowNodeRef>", "")
    text = re.sub(r'<bpmndi:BPMN(Shape|Edge) id="(Activity_approve_refund|Flow_1approved)_di"'
                  r".*?</bpmndi:BPMN(Shape|Edge)>", "", text, flags=re.S)
    text = text.replace("refund_needed and refund_approved", "refund_needed")
    assert put(owner, draft, BPMN, text).get_json()["problems"] == []
    done = deploy(owner, draft).get_json()
    assert {e["id"] for e in done["diff"]["removed"]} == {"Activity_approve_refund",
                                                         "Flow_1approved"}

    new_case = filed_case(public)
    assert new_case.process_version_id == active().id != old_case.process_version_id
    work(handler, new_case, {"category": "service", "refund_needed": "true"})
    assert not is_open(new_case)  # no approval on the new version

    work(handler, old_case, {"category": "service", "refund_needed": "true"})
    supervisor = auth.signed_in("sara", "supervisor")
    assert work(supervisor, old_case, {"refund_approved": "false"}) == "Approve refund"
    assert not is_open(old_case)


def test_rolling_back_makes_an_older_version_active_for_new_cases(
        app, auth, app_ctx, owner, spiff) -> None:
    first = active().id
    draft = draft_of(post(owner, f"/studio/versions/{first}/edit"))
    put(owner, draft, BPMN, spiff_files()[BPMN].replace(b"Triage complaint", b"Sort complaint"))
    assert deploy(owner, draft).get_json()["version"] == spiff + 1
    assert post(auth.signed_in("hana", "handler"), f"/studio/versions/{first}/activate") \
        .status_code == 403
    page = owner.get(f"/studio/versions/{first}/activate").get_data(as_text=True)
    assert f"Make version {spiff} active" in page and "Open cases stay" in page
    assert post(owner, f"/studio/versions/{first}/activate").status_code == 302
    assert active().id == first
    case = filed_case(app.test_client())
    assert case.process_version_id == first
    assert open_task(case)[1] == "Triage complaint"
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "process.activated"))
    assert event.actor == "olga" and f"was version {spiff + 1}" in event.summary
    page = owner.get("/studio/").get_data(as_text=True)
    row = re.search(rf'<tr id="version-{spiff}".*?</tr>', page, re.S).group(0)
    assert "Active" in row and "<td>1</td>" in row  # the open case is counted
    assert owner.get("/studio/versions/9999/activate").status_code == 404
    assert post(owner, "/studio/versions/9999/activate").status_code == 404


def test_a_downloaded_version_uploads_again_unchanged(app_ctx, owner, spiff) -> None:
    download = owner.get(f"/studio/versions/{active().id}/download")
    assert download.mimetype == "application/zip"
    assert f"{PROCESS_ID}-v{spiff}.zip" in download.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == spiff_files()
    draft = draft_of(upload(owner, ("again.zip", download.data)))
    done = deploy(owner, draft, "same again").get_json()
    assert done["diff"] == {"added": [], "removed": [], "changed": [],
                            "files": {"added": [], "removed": [], "changed": []}}


# --- drafts belong to one person ---------------------------------------------------------------

def test_the_reference_process_passes_the_studio_checks_and_redeploys_unchanged(
        app_ctx, owner) -> None:
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    assert problems(owner, draft) == []
    done = deploy(owner, draft, "no change").get_json()
    assert done["version"] == 2 and done["process_id"] == "complaint_handling"
    assert done["diff"]["added"] == done["diff"]["removed"] == done["diff"]["changed"] == []


def test_a_draft_is_its_owners_alone(auth, app_ctx, owner, spiff) -> None:
    version = active().id
    draft = draft_of(post(owner, f"/studio/versions/{version}/edit"))
    assert draft_of(post(owner, f"/studio/versions/{version}/edit")) == draft  # reopened
    other = auth.signed_in("otto", "process_owner")
    assert other.get(f"/studio/drafts/{draft}").status_code == 404
    assert other.get(f"/studio/drafts/{draft}/files").status_code == 404
    assert put(other, draft, BPMN, "<x/>").status_code == 404
    assert deploy(other, draft).status_code == 404
    assert post(other, f"/studio/drafts/{draft}/discard").status_code == 404
    assert draft_of(post(other, f"/studio/versions/{version}/edit")) != draft
    assert post(owner, f"/studio/drafts/{draft}/discard").status_code == 302
    assert owner.get(f"/studio/drafts/{draft}/files").status_code == 404


# --- form preview -------------------------------------------------------------------------------

def test_the_form_preview_draws_the_task_page_form_or_says_what_is_wrong(owner) -> None:
    files = spiff_files()
    shown = owner.post("/studio/forms/preview", headers=csrf(owner), json={
        "schema": files["triage-schema.json"].decode(),
        "uischema": files["triage-uischema.json"].decode()})
    assert shown.status_code == 200 and shown.mimetype == "text/html"
    html = shown.get_data(as_text=True)
    assert "Is a refund due?" in html and 'type="radio"' in html and "disabled" in html
    for schema, said in [("{", "not valid JSON"),
                         ('{"type": "object", "properties": {"a": {"oneOf": []}}}', "oneOf"),
                         ('{"type": "object", "properties": {"a": {"type": "strin"}}}',
                          "not a valid JSON Schema"),
                         ('{"$schema": [], "type": "object", "properties": {}}', "$schema")]:
        refused = owner.post("/studio/forms/preview", headers=csrf(owner),
                             json={"schema": schema, "uischema": ""})
        assert refused.status_code == 422, schema
        assert said in refused.get_json()["problems"][0]["message"]
    assert owner.post("/studio/forms/preview", headers=csrf(owner), json=[]).status_code == 400



ODD_FILES = [
    (BPMN, b""), (BPMN, b"\xff\xfe\x00garbage"), (BPMN, b"<bpmn:definitions/>"),
    (BPMN, b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process '
           b'id="p" isExecutable="true"><startEvent id="s"/></process></definitions>'),
    ("priority.dmn", b"<definitions><decision id='d'><!-- c --></decision></definitions>"),
    ("triage-schema.json", b"\xff not utf-8"), ("triage-schema.json", b"[1, 2]"),
    ("triage-schema.json", b'{"$schema": [], "type": "object", "properties": {}}'),
    ("triage-schema.json", b'{"type": "object", "properties": {"a": {"type": "object"}}}'),
    ("triage-uischema.json", b'["not", "an", "object"]'), ("triage-schema.json", b"[" * 100000),
    ("triage-uischema.json", b'{"ui:order": 5, "category": {"ui:widget": 3}}'),
]


@pytest.mark.parametrize(("name", "content"), ODD_FILES)
def test_odd_files_are_problems_never_server_errors(app_ctx, owner, spiff, name, content) -> None:
    draft = draft_of(post(owner, f"/studio/versions/{active().id}/edit"))
    saved = put(owner, draft, name, content)
    assert saved.status_code == 200 and saved.get_json()["problems"], saved.get_json()
    assert owner.get(f"/studio/drafts/{draft}").status_code == 200
    assert deploy(owner, draft).status_code == 422


@pytest.mark.parametrize("body", [
    {"schema": "[]", "uischema": ""}, {"schema": "null", "uischema": "null"},
    {"schema": '{"type": "object", "properties": {}}', "uischema": "[]"},
    {"schema": '{"type": "object", "properties": {"a": {"type": "string"}}}',
     "uischema": '{"a": {"ui:widget": "radio"}}'},
    {"schema": 5}, {"uischema": ""}, {"schema": "{" * 5000, "uischema": ""},
    {"schema": "[" * 100000 + "]" * 100000, "uischema": ""},
])
def test_odd_previews_are_problems_never_server_errors(owner, body) -> None:
    answer = owner.post("/studio/forms/preview", headers=csrf(owner), json=body)
    assert answer.status_code in (400, 422) and answer.get_json()["problems"]
