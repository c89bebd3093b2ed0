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
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import ProcessVersion, User
from server.services import processes
from server.services.actors import Actor
from server.services.processes import drafts

from .support.broken import BROKEN, broken_bpmn
from .support.browser import add_user, file_complaint, signed_in, start_case

OWNER = "olive"
STEP = "Check for duplicate complaints"
SCREENSHOTS = Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))

# Geometry through the bpmn-js API (dragging from the palette is brittle in a headless
# browser): make room after the start event and drop a user task on its outgoing flow,
# which bpmn-js splits in two, as when a person drops a task on a flow.
ADD_USER_TASK = """({ file, laneName, form }) => {
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
  if (form) {  // a form file named as a diagram made elsewhere would name it
    const moddle = modeler.get('moddle');
    const named = moddle.create('spiffworkflow:Property',
      { name: 'formJsonSchemaFilename', value: form });
    const properties = moddle.create('spiffworkflow:Properties', { properties: [named] });
    modeling.updateProperties(task, {
      extensionElements: moddle.create('bpmn:ExtensionElements', { values: [properties] }) });
  }
  modeler.get('selection').select(task);
  return { id: task.id, lanes: task.businessObject.get('lanes').map((l) => l.name) };
}"""


@pytest.fixture(scope="module")
def owner(live_app: Flask) -> str:
    """A process owner's account on the live server."""
    add_user(live_app, OWNER, "process_owner", "Olive Owner")
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
        browser, live_server, live_app, owner) -> None:
    before = start_case(live_app)
    handler = signed_in(browser, live_server, "hana")
    old_path = inbox_tasks(handler, live_server, before)
    assert old_path and STEP not in old_path

    page = signed_in(browser, live_server, owner)
    page.on("dialog", lambda dialog: dialog.accept())
    open_draft_of_active_version(page, live_server)
    page.get_by_role("tab", name=re.compile(r"complaint\.bpmn")).click()
    page.wait_for_function("window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")
    # A step without a form is a "Done" step; this one names a form the draft does not have.
    added = page.evaluate(ADD_USER_TASK, {"file": "complaint.bpmn", "laneName": "Handler",
                                          "form": "duplicates-schema.json"})
    assert added["lanes"] == ["Handler"]
    task_id = added["id"]

    panel = page.get_by_role("region", name="Properties of the selected element")
    panel.get_by_label("Name", exact=True).fill(STEP)
    page.get_by_role("button", name="Save", exact=True).click()
    problem = page.locator("#problems-list button", has_text=task_id)
    problem.first.wait_for()
    assert "duplicates-schema.json" in problem.first.inner_text()
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


# Where the diagram opens, measured in the page: bpmn-js's zoom, and the start event and a
# task as Chromium draws them, against the palette and the canvas.
MEASURE_OPENING = """(file) => {
  const modeler = window.plaintStudio.bpmnModeler(file);
  const registry = modeler.get('elementRegistry');
  const container = modeler.get('canvas').getContainer();
  const start = registry.filter((e) => e.type === 'bpmn:StartEvent'
    && ['bpmn:Participant', 'bpmn:Process'].includes(e.parent.type))[0];
  const task = registry.filter((e) => e.type === 'bpmn:UserTask')[0];
  const box = (el) => el.getBoundingClientRect();
  const at = (element) => box(registry.getGraphics(element).querySelector('.djs-visual'));
  return {
    zoom: modeler.get('canvas').zoom(),
    canvas: box(container).toJSON(),
    palette: box(container.querySelector('.djs-palette')).toJSON(),
    start: at(start).toJSON(),
    taskWidth: at(task).width,
  };
}"""


def test_the_diagram_opens_readable_right_of_the_palette(  # type: ignore[no-untyped-def]
        browser, live_server, owner) -> None:
    page = signed_in(browser, live_server, owner)  # 1280 x 720, a laptop's screen
    open_draft_of_active_version(page, live_server)
    page.wait_for_function("() => window.plaintStudio"
                           " && window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")
    seen = page.evaluate(MEASURE_OPENING, "complaint.bpmn")
    assert 0.75 <= seen["zoom"] <= 1, seen  # fitted, the reference process was tiny
    assert seen["taskWidth"] >= 75  # a task is 100 units wide
    start, palette, canvas = seen["start"], seen["palette"], seen["canvas"]
    assert start["left"] >= palette["right"], seen  # not under the palette
    assert canvas["top"] <= start["top"] and start["bottom"] <= canvas["bottom"], seen
    assert start["right"] <= canvas["right"], seen
    page.screenshot(path=str(SCREENSHOTS / "studio-opened.png"))

    # A decision requirements diagram opens the same way.
    page.get_by_role("tab", name=re.compile(r"triage\.dmn")).click()
    panel = page.get_by_role("tabpanel")
    drd_view = panel.locator("select option", has_text="Decision requirements")
    panel.locator("select").select_option(drd_view.get_attribute("value"))
    panel.locator(".dmn-drd-container .djs-palette").wait_for()
    drd = page.evaluate("""() => {
      const panel = document.querySelector('[role=tabpanel]:not([hidden])');
      const container = panel.querySelector('.dmn-drd-container');
      const palette = container.querySelector('.djs-palette').getBoundingClientRect();
      const shapes = [...container.querySelectorAll('.djs-shape .djs-visual')]
        .map((s) => s.getBoundingClientRect());
      return { paletteRight: palette.right, paletteBottom: palette.bottom,
               lefts: shapes.map((s) => s.left), widths: shapes.map((s) => s.width) };
    }""")
    assert drd["lefts"] and min(drd["lefts"]) >= drd["paletteRight"], drd
    assert min(drd["widths"]) >= 0.75 * 100, drd  # a decision is wider than 100 units
    page.context.close()


def deploy_meanwhile(app: Flask, username: str) -> int:
    """Another process owner deploys a change of the active version; the new number."""
    add_user(app, username, "process_owner", "Otto Owner")
    with app.app_context():
        active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        files = {f.name: f.content for f in active.files}
        files["complaint.bpmn"] = files["complaint.bpmn"].replace(
            b'name="Assess complaint"', b'name="Assess the complaint"')
        user = db.session.scalar(select(User).where(User.username == username))
        number = processes.deploy(files, Actor.for_user(user), note="renamed").number
        db.session.remove()
    return number


def test_a_draft_made_before_another_deploy_warns_and_deploys_only_when_confirmed(  # type: ignore[no-untyped-def]
        browser, live_server, live_app, owner) -> None:
    page = signed_in(browser, live_server, owner)
    open_draft_of_active_version(page, live_server)
    draft_url = page.url
    page.get_by_text("No problems.").wait_for()
    warning = page.locator("#studio-stale")
    assert warning.is_hidden()
    newer = deploy_meanwhile(live_app, "otto")

    page.get_by_label("What changed in this version").fill("My change")
    page.get_by_role("button", name="Deploy", exact=True).click()
    warning.wait_for()
    text = " ".join(warning.inner_text().split())
    assert f"Version {newer} is active now" in text and "deployed by otto" in text
    assert f"This draft was made from version {newer - 1}." in text
    assert "Not deployed: another version is active now" in page.locator("#studio-status") \
        .inner_text()
    warning.get_by_text(f"What this draft changes compared with version {newer}").click()
    assert "Assess complaint" in warning.locator("#studio-stale-diff").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "studio-stale.png"))

    # Opened again, the editor says so at once.
    page.goto(draft_url)
    warning.wait_for()
    assert f"Version {newer} is active now" in warning.inner_text()
    page.get_by_label("What changed in this version").fill("My change")
    page.get_by_label(f"Replace version {newer} with this draft when I deploy").check()
    page.get_by_role("button", name="Deploy", exact=True).click()
    deployed = page.locator("#studio-deployed")
    deployed.wait_for()
    assert f"Version {newer + 1} is deployed" in " ".join(deployed.inner_text().split())
    page.context.close()


def test_every_element_at_fault_is_listed_and_marked_at_once(  # type: ignore[no-untyped-def]
        browser, live_server, live_app, owner) -> None:
    with live_app.app_context():  # a draft saved with three problems of different kinds
        user = db.session.scalar(select(User).where(User.username == owner))
        actor = Actor.for_user(user)
        active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        draft = drafts.edit_version(active.id, actor)
        text = broken_bpmn(active.file("complaint.bpmn").content.decode())
        assert {p.element_id for p in drafts.save_file(draft.id, "complaint.bpmn",
                                                       text.encode(), actor)} >= set(BROKEN)
        draft_id = draft.id
        db.session.remove()
    page = signed_in(browser, live_server, owner)
    page.goto(f"{live_server}/studio/drafts/{draft_id}")
    page.wait_for_function("() => window.plaintStudio"
                           " && window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")
    for element, said in BROKEN.items():
        assert said in page.locator("#problems-list button", has_text=element).first.inner_text()
        shape = page.locator(f'.djs-element[data-element-id="{element}"]')
        assert "plaint-problem" in (shape.get_attribute("class") or ""), element
    page.context.close()
