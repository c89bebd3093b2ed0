"""The studio's form editor with the keyboard alone (Chromium): a process owner opens a
draft, reaches a form file's tab with Tab and the arrow keys, breaks and mends the form's
text, saves with Control+S, follows the problem from the list, and deploys, never touching
a mouse. Each control reached shows where the focus is."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import ProcessVersion, User
from server.services.actors import Actor
from server.services.processes import drafts

from .support.browser import add_user, signed_in
from .test_browser_keyboard import focused_is_visible, tab_to

OWNER = "kamal"
FORM = "acknowledge-schema.json"
DESCRIPTION = "Tell the complainant we have their complaint."
MOST_ARROWS = 40


def draft_of_active_version(app: Flask) -> int:
    """A process owner's draft of the version new cases start on."""
    add_user(app, OWNER, "process_owner", "Kamal Owner")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == OWNER))
        active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        draft_id = drafts.edit_version(active.id, Actor.for_user(user)).id
        db.session.remove()
    return draft_id


def arrow_to_tab(page: Any, name: str) -> None:
    """Press the down arrow in the file list until the tab of `name` has the focus."""
    for _ in range(MOST_ARROWS):
        if page.evaluate("() => document.activeElement.dataset.file") == name:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys do not reach the tab of {name}")


def deployed_form(app: Flask) -> dict[str, Any]:
    """The form file of the active version, as JSON."""
    with app.app_context():
        active = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
        content = next(f.content for f in active.files if f.name == FORM)
        db.session.remove()
    return dict(json.loads(content))


def test_a_form_is_edited_saved_checked_and_deployed_with_the_keyboard_alone(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    draft_id = draft_of_active_version(live_app)
    page = signed_in(browser, live_server, OWNER)
    page.goto(f"{live_server}/studio/drafts/{draft_id}")
    page.wait_for_function("() => window.plaintStudio"
                           " && window.plaintStudio.bpmnModeler('complaint.bpmn') !== null")

    tab_to(page, "#studio-tabs [role=tab]")
    assert focused_is_visible(page)
    arrow_to_tab(page, FORM)
    assert page.locator(f'[role=tab][data-file="{FORM}"]').get_attribute("aria-selected") == "true"
    page.get_by_label(f"Contents of {FORM}").wait_for()
    tab_to(page, ".studio-form-editor .cm-content")
    assert focused_is_visible(page)

    # A stray character breaks the JSON: saving keeps it and lists the problem.
    page.keyboard.press("Control+Home")
    page.keyboard.type("x")
    page.keyboard.press("Control+s")
    problem = page.locator("#problems-list button", has_text=FORM)
    problem.first.wait_for()
    tab_to(page, "#problems-list button")
    assert focused_is_visible(page)
    page.keyboard.press("Enter")  # the problem takes the focus to its line in the editor
    page.wait_for_function(
        "() => document.activeElement.matches('.studio-form-editor .cm-content')")
    page.keyboard.press("Delete")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type(f'"description": "{DESCRIPTION}",')
    page.keyboard.press("Control+s")
    page.locator("#studio-status", has_text="Saved. No problems").wait_for()
    assert not problem.count()

    tab_to(page, "#deploy-comment")
    assert focused_is_visible(page)
    page.keyboard.type("Say what the acknowledgement is for")
    tab_to(page, "#studio-deploy button[type=submit]")
    assert focused_is_visible(page)
    page.keyboard.press("Enter")
    page.locator("#studio-deployed").wait_for()
    assert deployed_form(live_app)["description"] == DESCRIPTION
    page.context.close()
