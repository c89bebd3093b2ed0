"""The studio counts a draft's problems in the form Arabic gives each number (Chromium).

Arabic has six plural forms; the page hands the script each text with a number in it as its
form per plural category, and the script picks the one for the number it shows.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import User
from server.services.actors import Actor
from server.services.processes import drafts

from .support.broken import broken_bpmn
from .test_browser_studio_arabic import open_draft, opened

OWNER = "rana"


def test_the_problems_are_counted_in_arabic_plural_forms(  # type: ignore[no-untyped-def]
        browser, live_server, live_app: Flask) -> None:
    draft_id = open_draft(live_app, OWNER, "process_owner", "رنا مالكة العملية", "ar")
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == OWNER))
        found = drafts.save_file(draft_id, "complaint.bpmn", broken_bpmn().encode("utf-8"),
                                 Actor.for_user(user))
        count = len(found)
        db.session.remove()
    assert 3 <= count <= 10  # Arabic's "few": the form it takes differs from 11 and from 2
    page: Any = opened(browser, live_server, OWNER, draft_id)
    summary = page.locator("#problems-summary")
    summary.wait_for()
    assert summary.inner_text() == f"{count} مشكلات"
    assert page.locator(f'[title="{count} مشكلات في هذا الملف"]').count() == 1
    page.context.close()
