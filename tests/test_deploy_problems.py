"""A deploy reports every problem of a bundle at once, in the studio and on the command line.

A process owner who fixes one problem should not find the next only after saving again:
a bad condition, a bad timer and a candidateRole that is no role are all listed together, each with
its file, element and line.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import ProcessVersion

from .support.broken import BROKEN, broken_bpmn
from .support.process import REPO
from .support.web import AuthActions, post


def active_number() -> int:
    db.session.rollback()
    return db.session.scalar(select(ProcessVersion.number).where(ProcessVersion.is_active))


def assert_all_three(found: list[dict]) -> None:
    """Each of the three problems is there, on its element, with its file and line."""
    for element, said in BROKEN.items():
        hits = [p for p in found if p["element_id"] == element]
        assert hits, (element, found)
        assert said in hits[0]["message"] and hits[0]["file"] == "complaint.bpmn"
        assert hits[0]["line"]
    assert not any("were not checked yet" in p["message"] for p in found)


def csrf_header(client: FlaskClient) -> dict[str, str]:
    """The header the editor sends with every change."""
    page = client.get("/studio/").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}


def test_the_studio_lists_a_bad_condition_a_bad_timer_and_a_roleless_lane_together(
        app_ctx, auth: AuthActions) -> None:
    owner = auth.signed_in("olga", "process_owner")
    active = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.is_active))
    made = post(owner, f"/studio/versions/{active}/edit")
    draft = made.headers["Location"].rsplit("/", 1)[1]
    headers = csrf_header(owner)
    saved = owner.put(f"/studio/drafts/{draft}/files/complaint.bpmn", data=broken_bpmn(),
                      headers=headers)
    assert saved.status_code == 200
    assert_all_three(saved.get_json()["problems"])
    assert_all_three(owner.post(f"/studio/drafts/{draft}/validate", headers=headers)
                     .get_json()["problems"])
    refused = owner.post(f"/studio/drafts/{draft}/deploy", json={"comment": "x"},
                         headers=headers)
    assert refused.status_code == 422
    assert_all_three(refused.get_json()["problems"])
    assert active_number() == 1
    # The editor page opens with all of them listed, to be marked on the diagram.
    page = owner.get(f"/studio/drafts/{draft}").get_data(as_text=True)
    assert all(f'"element_id": "{element}"' in page for element in BROKEN)


def test_the_command_line_prints_every_problem(app_ctx, runner, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for source in ("workflows", "forms"):
        for path in (REPO / source).iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
    (folder / "complaint.bpmn").write_text(broken_bpmn())
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    for element in BROKEN:
        assert f"[{element}]" in result.output, result.output
    assert "The active version is unchanged" in result.output
    assert active_number() == 1


def test_an_unreadable_diagram_says_which_checks_could_not_run(
        app_ctx, runner, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for source in ("workflows", "forms"):
        for path in (REPO / source).iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
    (folder / "complaint.bpmn").write_text(broken_bpmn().replace(
        '<bpmn:userTask id="assess"', '<bpmn:userTask id="assess" <'))
    (folder / "review-schema.json").write_text('{"type": "object", "properties": {,}}')
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    assert "complaint.bpmn:" in result.output and "not well-formed" in result.output
    assert "review-schema.json:1: not valid JSON" in result.output  # still read and reported
    assert "complaint.bpmn cannot be read, so the tasks, forms and roles of the process " \
           "were not checked yet" in result.output
