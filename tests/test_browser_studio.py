"""A process owner changes the process in the browser (bpmn-js in Debian's Chromium).

They add a step to the reference process, see the editor refuse it while the step has no
form (naming and marking the step), fix it in the properties panel and deploy. The next
complaint passes through the new step; a complaint filed before keeps its old path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from server.extensions import db
from server.services import cases
from server.services.users import create_user
from tests.browser_support import APPS, PASSWORD, signed_in
from tests.test_browser import file_complaint

from .conftest import HANDLER, INTAKE

OWNER = "olive"
STEP = "Check for duplicate complaints"
SCREENSHOTS = Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))

# Geometry through the bpmn-js API (dragging from the palette is brittle in a headless
# browser): make room after the start event and drop a user task on its outgoing flow,
# which bpmn-js splits in two, as when a person drops a task on a flow.
ADD_USER_TASK = """({ file, laneName }) => {
  const modeler = window.plaintStudio.bpmnModeler(file);
  const registry = modeler.get('elementRegistry');
  const modeling = modeler.get('modeling');
  const lane = registry.filter((e) => e.type === 'bpmn:Lane'
    && e.businessObject.name === laneName)[0];
  const start = registry.filter((e) => e.type === 'bpmn:StartEvent'
    && !(e.businessObject.eventDefinitions || []).length
    && ['bpmn:Participant', 'bpmn:Process'].includes(e.parent.type))[0];
  const flow = start.outgoing.find((c) => c.type === 'bpmn:SequenceFlow');
  const gap = start.x + start.width + 10;
  const { movingShapes, resizingShapes } = modeler.get('spaceTool')
    .calculateAdjustments(registry.getAll(), 'x', 160, gap);
  modeling.createSpace(movingShapes, resizingShapes, { x: 160, y: 0 }, 'e', gap);
  const y = Math.min(Math.max(start.y + start.height / 2, lane.y + 45), lane.y + lane.height - 45);
  const task = modeling.createShape({ type: 'bpmn:UserTask' }, { x: gap + 80, y }, flow);
  modeler.get('selection').select(task);
  return { id: task.id, lanes: task.businessObject.get('lanes').map((l) => l.name) };
}"""


@pytest.fixture(scope="module")
def owner(live_server: str) -> str:
    """A process owner's account on the live server."""
    with APPS[live_server].app_context():
        create_user(OWNER, ["process_owner"], PASSWORD, display_name="Olive Owner")
        db.session.remove()
    return OWNER


def open_draft_of_active_version(page, base: str) -> None:  # type: ignore[no-untyped-def]
    """From the processes page, open a draft of the version new cases start on."""
    page.goto(base + "/studio/")
    active = page.locator("tr", has=page.get_by_text("Active", exact=True))
    active.get_by_role("button", name=re.compile(r"^Edit")).click()
    page.wait_for_url("**/studio/drafts/*")


def inbox_tasks(page, base: str, reference: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles of the tasks of a case in the handler's inbox."""
    page.goto(base + "/tasks?view=unclaimed")
    return [" ".join(t.split()) for t in page.locator(
        "#inbox-results tr", has_text=reference).locator("td:nth-child(2)").all_inner_texts()]


def test_a_process_owner_adds_a_step_and_only_new_complaints_pass_through_it(  # type: ignore[no-untyped-def]
        browser, live_server, owner) -> None:
    with APPS[live_server].app_context():
        before = cases.start_case(dict(INTAKE), "phone", HANDLER).case.reference
        db.session.remove()
    handler = signed_in(browser, live_server, "hana")
    old_path = inbox_tasks(handler, live_server, before)
    assert old_path and STEP not in old_path

    page = signed_in(browser, live_server, owner)
    page.on("dialog", lambda dialog: dialog.accept())
    open_draft_of_active_version(page, live_server)
    page.get_by_role("tab", name=re.compile(r"complaint\.bpmn")).click()
    page.wait_for_function("window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")
    added = page.evaluate(ADD_USER_TASK, {"file": "complaint.bpmn", "laneName": "Handler"})
    assert added["lanes"] == ["Handler"]
    task_id = added["id"]

    panel = page.get_by_role("region", name="Properties of the selected element")
    panel.get_by_label("Name", exact=True).fill(STEP)
    page.get_by_role("button", name="Save", exact=True).click()
    problem = page.locator("#problems-list button", has_text=task_id)
    problem.first.wait_for()
    assert "form" in problem.first.inner_text()
    shape = page.locator(f'.djs-element[data-element-id="{task_id}"]')
    assert "plaint-problem" in (shape.get_attribute("class") or "")
    page.screenshot(path=str(SCREENSHOTS / "studio-problem.png"))

    # A draft with a problem is not deployed; the step stays marked.
    comment = page.get_by_label("What changed in this version")
    comment.fill("Check for duplicates first")
    page.get_by_role("button", name="Deploy", exact=True).click()
    page.locator("#studio-status", has_text="Not deployed").wait_for()
    assert "plaint-problem" in (shape.get_attribute("class") or "")

    # Following the problem selects the step; its form is chosen in the Plaint group.
    problem.first.click()
    form = panel.get_by_label("Form file", exact=True)
    choice = form.locator("option").nth(1).get_attribute("value")
    form.select_option(choice)
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator("#problems-summary", has_text="No problems").wait_for()
    assert "plaint-problem" not in (shape.get_attribute("class") or "")

    page.get_by_role("button", name="Deploy", exact=True).click()
    deployed = page.locator("#studio-deployed")
    deployed.wait_for()
    assert re.search(r"Version \d+ is deployed", deployed.inner_text())
    assert STEP in deployed.locator("[data-field=added]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "studio-deployed.png"))

    public = browser.new_context().new_page()
    after, _link = file_complaint(public, live_server)
    assert inbox_tasks(handler, live_server, after) == [STEP]
    assert inbox_tasks(handler, live_server, before) == old_path
    for context in (public.context, handler.context, page.context):
        context.close()


def test_the_form_editor_previews_a_form_and_says_what_is_wrong_with_it(  # type: ignore[no-untyped-def]
        browser, live_server, owner) -> None:
    page = signed_in(browser, live_server, owner)
    open_draft_of_active_version(page, live_server)
    page.get_by_label("New form file").fill("callback-schema.json")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_role("tab", name=re.compile(r"callback-schema\.json")).wait_for()
    editor = page.get_by_label("Contents of callback-schema.json")
    editor.fill('{"type": "object", "title": "Call back", "properties": '
                '{"phone": {"type": "string", "title": "Phone number"}}}')
    preview = page.get_by_role("tabpanel").locator(".studio-form-preview-body")
    preview.get_by_label("Phone number").wait_for()
    editor.fill('{"type": "object", "properties": {"phone": ')
    preview.get_by_text("The preview cannot be drawn").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "studio-form.png"))

    page.get_by_role("tab", name=re.compile(r"\.dmn")).first.click()
    page.get_by_role("tabpanel").locator(".tjs-table, .djs-container").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "studio-dmn.png"))
    page.context.close()
