"""A process owner whose profile says Arabic edits the process in the studio (Chromium).

The editor's own words (palette and context-pad tooltips, the properties panel's groups and
labels, Plaint's group) come from the server's catalog in Arabic; the panels read right to
left while the diagram stays left to right. A draft's translations.ar.json is no form: the
file list links it to the side-by-side texts page instead of opening it as JSON Schema.
Screenshots go to PLAINT_SCREENSHOTS (default /tmp) as studio-ar-*.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from server.extensions import db
from server.models import ProcessVersion, User
from server.services.actors import Actor
from server.services.processes import drafts

from .support.browser import add_user, signed_in

SHOTS = Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))
ARABIC_OWNER = "amal"
OWNER = "omar"

# A user task of the main diagram, selected through bpmn-js (clicking a shape in a
# headless browser depends on where the diagram happens to open).
SELECT_USER_TASK = """(file) => {
  const modeler = window.plaintStudio.bpmnModeler(file);
  const task = modeler.get('elementRegistry').filter((e) => e.type === 'bpmn:UserTask')[0];
  modeler.get('selection').select(task);
  return task.id;
}"""


def open_draft(app: Flask, username: str, role_name: str, display: str, language: str) -> int:
    """A process owner (profile language `language`) with a draft of the active version."""
    add_user(app, username, role_name, display)
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(language=language))
        db.session.commit()
        user = db.session.scalar(select(User).where(User.username == username))
        active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        draft_id = drafts.edit_version(active.id, Actor.for_user(user)).id
        db.session.remove()
    return draft_id


def opened(browser: Any, base: str, username: str, draft_id: int) -> Any:
    """The studio of the draft, once its main diagram is in the modeler."""
    page = signed_in(browser, base, username)
    page.goto(f"{base}/studio/drafts/{draft_id}")
    page.wait_for_function("() => window.plaintStudio"
                           " && window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")
    return page


@pytest.fixture(scope="module")
def arabic_draft(live_app: Flask) -> int:
    """The draft of a process owner who reads Arabic."""
    return open_draft(live_app, ARABIC_OWNER, "process_owner", "أمل مالكة العملية", "ar")


def test_an_arabic_process_owner_meets_the_editor_in_arabic(  # type: ignore[no-untyped-def]
        browser, live_server, arabic_draft) -> None:
    page = opened(browser, live_server, ARABIC_OWNER, arabic_draft)
    assert page.locator("html").get_attribute("dir") == "rtl"
    palette = page.locator(".studio-canvas .djs-palette")
    assert palette.locator('[data-action="create.start-event"]').get_attribute("aria-label") \
        == "إنشاء حدث البداية"
    assert palette.locator('[data-action="create.task"]').get_attribute("aria-label") \
        == "إنشاء مهمة"
    assert palette.locator('[data-action="hand-tool"]').get_attribute("aria-label") \
        == "تفعيل أداة التحريك"

    page.evaluate(SELECT_USER_TASK, "complaint.bpmn")
    pad = page.locator(".djs-context-pad")
    assert pad.locator('[data-action="append.append-task"]').get_attribute("title") == "إلحاق مهمة"
    assert pad.locator('[data-action="delete"]').get_attribute("title") == "حذف"

    panel = page.get_by_role("region", name="خصائص العنصر المحدد")
    groups = panel.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert "عام" in groups and "التوثيق" in groups, groups
    assert panel.locator(".bio-properties-panel-header-type").inner_text() == "مهمة مستخدم"
    for label in ("الاسم", "الدور المرشح", "ملف النموذج", "تسمية الحالة"):
        panel.get_by_text(label, exact=True).first.wait_for()
    assert panel.get_by_role("combobox", name="ملف النموذج").locator("option").first.inner_text() \
        == "(بلا نموذج)"

    # The panels read right to left; the diagram keeps its own left-to-right geometry.
    canvas = page.get_by_role("tabpanel").locator(".studio-canvas")
    assert canvas.get_attribute("dir") == "ltr"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.studio-properties'))"
                         ".direction") == "rtl"
    page.screenshot(path=str(SHOTS / "studio-ar-diagram.png"))

    page.get_by_role("tab", name=re.compile(r"triage\.dmn")).click()
    page.get_by_role("tabpanel").locator("select option").first.wait_for(state="attached")
    choices = page.get_by_role("tabpanel").locator("select option").all_inner_texts()
    assert any(c.startswith("متطلبات القرار: ") for c in choices), choices
    page.get_by_role("tabpanel").locator(".tjs-table, .djs-container").first.wait_for()
    page.screenshot(path=str(SHOTS / "studio-ar-dmn.png"))

    page.get_by_role("tab", name=re.compile(r"acknowledge-schema\.json")).click()
    page.get_by_role("tabpanel").locator(".studio-form-preview-body input, "
                                         ".studio-form-preview-body select").first.wait_for()
    assert page.get_by_role("tab", name=re.compile(r"acknowledge-schema")).locator(
        ".studio-tab-kind").inner_text() == "نموذج"
    page.screenshot(path=str(SHOTS / "studio-ar-form.png"))
    page.context.close()


def test_translations_are_offered_as_the_texts_page_not_as_a_form(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    draft_id = open_draft(live_app, OWNER, "process_owner", "Omar Owner", "en")
    page = opened(browser, live_server, OWNER, draft_id)
    tabs = page.get_by_role("tab").all_inner_texts()
    assert any("complaint.bpmn" in t for t in tabs), tabs
    assert not any("translations.ar.json" in t for t in tabs), tabs
    assert not page.get_by_label("Contents of translations.ar.json").count()
    link = page.locator("#studio-text-files").get_by_role("link", name="translations.ar.json")
    link.click()
    page.wait_for_url(f"**/studio/drafts/{draft_id}/translations/ar")
    page.context.close()
