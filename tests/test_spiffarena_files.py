"""Process models kept as SpiffArena keeps them deploy, and a deploy tells every problem at once.

A SpiffArena model is a folder (or its ZIP) with process_model.json naming the primary
diagram and process; files no process uses are left out with a warning; drawing ids repeat
across files; and a bundle broken in several ways lists every problem in one deploy.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from server.engine import BundleError

from .support.process import bundle
from .support.web import AuthActions
from .test_studio import (
    active,
    csrf,
    deploy,
    draft_of,
    filed_case,
    is_open,
    upload,
    versions,
    work,
)

MODEL = Path(__file__).parent / "fixtures" / "spiffarena" / "files"
PRIMARY = "Process_main_k3j2h1"
FOLLOWUP = "Process_followup_x9y8z7"


def model_files(**changed: bytes | None) -> dict[str, bytes]:
    """The fixture's files, with some replaced (or, given None, removed)."""
    files = {p.name: p.read_bytes() for p in MODEL.iterdir()}
    for name, data in changed.items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    return files


def text(name: str) -> str:
    return (MODEL / name).read_text()


def as_zip(files: dict[str, bytes]) -> bytes:
    """The files zipped the way SpiffArena exports a process model: in one folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(f"complaint-with-follow-up/{name}", data)
    return buffer.getvalue()


def refused(files: dict[str, bytes]) -> list:
    with pytest.raises(BundleError) as caught:
        bundle(files)
    return caught.value.issues


# --- process_model.json, stray files, drawing ids ---------------------------------------------

def test_the_primary_process_is_the_one_process_model_json_names(app_ctx) -> None:
    b = bundle(model_files())
    assert b.process_id == PRIMARY and b.process_name == "Complaint with follow-up"
    assert list(b.subprocess_specs) == [FOLLOWUP]  # the call activity into followup.bpmn
    # Both diagrams use BPMNDiagram_1, BPMNPlane_1, Lane_1, StartEvent_1 and Flow_1.
    assert "BPMNDiagram_1" in text("main.bpmn") and "BPMNDiagram_1" in text("followup.bpmn")
    assert "stray.bpmn" not in b.files and "process_model.json" in b.files
    [warning] = b.warnings
    assert warning.file == "stray.bpmn" and warning.line == 5
    assert "no process of the bundle uses this file" in warning.message
    assert "not well-formed XML" in warning.message


def test_without_process_model_json_the_main_process_is_found_as_before(app_ctx) -> None:
    b = bundle(model_files(**{"process_model.json": None}))
    assert b.process_id == PRIMARY and list(b.subprocess_specs) == [FOLLOWUP]
    assert [w.file for w in b.warnings] == ["stray.bpmn"]


def test_a_form_no_task_names_is_left_out_and_a_broken_one_only_warns(app_ctx) -> None:
    b = bundle(model_files(**{"old-schema.json": b"{not json", "notes-schema.json": b"{}"}))
    assert "old-schema.json" not in b.files and "notes-schema.json" not in b.files
    said = {w.file: w.message for w in b.warnings}
    assert "not valid JSON" in said["old-schema.json"]
    assert "it was ignored" in said["notes-schema.json"]


def test_process_model_json_naming_what_is_not_there_is_refused(app_ctx) -> None:
    wrong = text("process_model.json").replace(PRIMARY, "Process_gone")
    issues = refused(model_files(**{"process_model.json": wrong.encode()}))
    assert any(i.file == "process_model.json" and "'Process_gone'" in i.message
               for i in issues), issues
    missing = text("process_model.json").replace('"main.bpmn"', '"gone.bpmn"')
    issues = refused(model_files(**{"process_model.json": missing.encode()}))
    assert any(i.file == "process_model.json" and "gone.bpmn" in i.message for i in issues)


def test_a_process_id_in_two_files_is_refused_but_drawing_ids_are_not(app_ctx) -> None:
    issues = refused(model_files(**{"followup-copy.bpmn": (MODEL / "followup.bpmn").read_bytes()}))
    dup = [i for i in issues if "process ids must be unique" in i.message]
    assert [(i.file, i.element_id) for i in dup] == [("followup.bpmn", FOLLOWUP)], issues
    assert "followup-copy.bpmn" in dup[0].message
    assert not any(i.element_id in ("BPMNDiagram_1", "BPMNPlane_1", "Lane_1", "StartEvent_1")
                   for i in issues)


def test_a_decision_id_in_two_files_is_refused(app_ctx) -> None:
    from .support.process import reference_files
    files = reference_files()
    files["triage-copy.dmn"] = files["triage.dmn"]
    issues = refused(files)
    assert any("decision ids must be unique" in i.message for i in issues), issues


def test_an_id_twice_in_one_file_is_still_refused(app_ctx) -> None:
    main = text("main.bpmn").replace('id="Event_end" name', 'id="Activity_review" name')
    issues = refused(model_files(**{"main.bpmn": main.encode()}))
    assert any(i.file == "main.bpmn" and i.element_id == "Activity_review"
               and "used twice in this file" in i.message for i in issues), issues


def test_spiffworkflow_s_own_complaints_come_in_plain_words_at_their_element(app_ctx) -> None:
    main = text("main.bpmn").replace('<bpmn:userTask id="Activity_review"',
                                     '<bpmn:userTask id="Activity_review" colour="red"')
    [issue, note] = refused(model_files(**{"main.bpmn": main.encode()}))
    assert issue.file == "main.bpmn" and issue.line
    assert issue.message.startswith("the file does not follow the BPMN standard")
    assert "bpmn:userTask" in issue.message and "{http" not in issue.message
    assert "not checked yet" in note.message
    main = text("main.bpmn").replace(f'calledElement="{FOLLOWUP}"', 'calledElement="Process_x"')
    issues = refused(model_files(**{"main.bpmn": main.encode()}))
    called = [i for i in issues if "'Process_x'" in i.message]
    assert [(i.file, i.element_id) for i in called] == [("main.bpmn", "Activity_call_followup")]
    assert "no file of the bundle holds" in called[0].message


# --- one deploy, the whole story --------------------------------------------------------------

LAYERS = {
    # what is wrong: (file, element, words of its message)
    "duplicate process id": ("main.bpmn", PRIMARY, "process ids must be unique"),
    "broken referenced file": ("followup.bpmn", None, "not well-formed XML"),
    "bad condition": ("main.bpmn", "Flow_yes", "the condition is refused"),
    "bad form": ("review-schema.json", "Activity_review", "not a valid JSON Schema"),
}


def layered() -> dict[str, bytes]:
    """The model with a problem in every layer: ids, XML, code and forms."""
    main = text("main.bpmn").replace("follow_up == True", "follow_up ==")
    review = text("review-schema.json").replace('"type": "boolean"', '"type": "yes-or-no"')
    broken = text("followup.bpmn").replace("</bpmn:startEvent>", "")
    return model_files(**{"main.bpmn": main.encode(), "main-copy.bpmn": main.encode(),
                          "followup.bpmn": broken.encode(),
                          "review-schema.json": review.encode()})


def assert_every_layer(found: list[tuple[str | None, str | None, str]]) -> None:
    for layer, (file, element, words) in LAYERS.items():
        assert any(f == file and (element is None or e == element) and words in m
                   for f, e, m in found), (layer, found)


def test_the_engine_lists_every_layer_at_once(app_ctx) -> None:
    issues = refused(layered())
    assert_every_layer([(i.file, i.element_id, i.message) for i in issues])
    assert not any(i.file == "stray.bpmn" for i in issues)  # a warning, not a problem


def test_the_command_line_lists_every_layer_in_one_deploy(app_ctx, runner,
                                                          tmp_path: Path) -> None:
    for name, data in layered().items():
        (tmp_path / name).write_bytes(data)
    before = versions()
    result = runner.invoke(args=["deploy", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    found = []
    for line in lines:
        where, _sep, message = line.strip().partition(": ")
        file = where.split(":")[0].split(" ")[0]
        element = where.split("[")[1].rstrip("]") if "[" in where else None
        found.append((file, element, message))
    assert_every_layer(found)
    assert versions() == before


def test_the_studio_lists_every_layer_in_one_deploy(app_ctx, owner: FlaskClient) -> None:
    before = versions()
    draft = draft_of(upload(owner, ("model.zip", as_zip(layered()))))
    answer = deploy(owner, draft)
    assert answer.status_code == 422
    problems = answer.get_json()["problems"]
    assert_every_layer([(p["file"], p["element_id"], p["message"]) for p in problems])
    assert owner.post(f"/studio/drafts/{draft}/validate", headers=csrf(owner)) \
        .get_json()["problems"] == problems
    assert versions() == before


# --- deployed and run to the end --------------------------------------------------------------

@pytest.fixture
def owner(auth: AuthActions) -> FlaskClient:
    return auth.signed_in("olga", "process_owner")


def run_to_the_end(app, auth: AuthActions) -> None:
    """A complaint filed on the public form is reviewed and followed up through the web."""
    case = filed_case(app.test_client())
    assert case.process_version_id == active().id
    handler = auth.signed_in("hana", "handler")
    assert work(handler, case, {"summary": "Charged twice", "follow_up": "true"}) \
        == "Review complaint"
    assert is_open(case)
    assert work(handler, case, {"follow_up_note": "Refunded the second charge"}) \
        == "Record the follow-up"
    assert not is_open(case)


def test_the_model_folder_deploys_from_the_command_line_and_runs(app, auth, app_ctx,
                                                                 runner) -> None:
    result = runner.invoke(args=["deploy", str(MODEL)])
    assert result.exit_code == 0, result.output
    assert f"Deployed {PRIMARY}" in result.output
    assert "Warning: stray.bpmn:5: ignored, since no process of the bundle uses this file" \
        in result.output
    assert {f.name for f in active().files} == set(model_files()) - {"stray.bpmn"}
    run_to_the_end(app, auth)


def test_the_model_zip_deploys_from_the_studio_and_runs(app, auth, app_ctx, owner) -> None:
    draft = draft_of(upload(owner, ("complaint-with-follow-up.zip", as_zip(model_files()))))
    done = deploy(owner, draft, "from SpiffArena")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["process_id"] == PRIMARY
    assert any(line.startswith("stray.bpmn:5: ignored") for line in done.get_json()["warnings"])
    page = owner.get("/studio/").get_data(as_text=True)
    assert "Left out of the version, since no process uses them" in page
    assert "process_model.json" in {f.name for f in active().files}
    run_to_the_end(app, auth)
