"""A process owner previews a draft on recent cases from the studio (Chromium).

Rita changes the triage table of her draft (serious complaints become "medium"). From
the draft she opens "Preview on recent cases" and starts the preview; the progress page
follows the job (htmx asks for it again every second) until the report is there: the
assessed cases' priority goes from high to medium and their deadlines move. The pages
pass axe in English and Arabic, on a desktop and a phone.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from server.extensions import db
from server.models import ReplayJob, User, utcnow
from server.services import processes
from server.services.actors import Actor
from server.services.processes import drafts

from .support import axe
from .support.browser import add_user, start_case
from .support.cases import complete
from .support.data import ACK, ASSESS
from .test_browser_accessibility import SCREENS, sign_in

OWNER = "rita"


@pytest.fixture(scope="module")
def draft_and_cases(live_app: Flask) -> tuple[int, list[str]]:
    """Rita's draft with another triage table, and three assessed cases."""
    add_user(live_app, OWNER, "process_owner", "Rita Owner")
    references = [start_case(live_app) for _ in range(3)]
    with live_app.app_context():
        for reference in references:
            complete(reference, "acknowledge", ACK)
            complete(reference, "assess", ASSESS)
        owner = Actor.for_user(db.session.scalar(select(User).where(User.username == OWNER)))
        draft = drafts.edit_version(processes.active_version_id(), owner)
        dmn = draft.contents()["triage.dmn"].decode().replace(
            '<outputEntry id="triage_serious_p"><text>"high"</text>',
            '<outputEntry id="triage_serious_p"><text>"medium"</text>')
        assert not drafts.save_file(draft.id, "triage.dmn", dmn.encode(), owner)
        draft_id = draft.id
        db.session.remove()
    return draft_id, references


def run_preview(page: Any, base: str, draft_id: int) -> None:
    """Start a preview from the draft's preview page and wait for its report."""
    page.goto(f"{base}/studio/drafts/{draft_id}/replay")
    page.locator("#last").fill("50")
    page.locator("#replay-form button[type=submit]").click()
    page.wait_for_url("**/studio/drafts/replays/*")
    page.locator("#replay-totals").wait_for(timeout=60_000)


def test_a_process_owner_previews_a_draft_and_reads_the_report(  # type: ignore[no-untyped-def]
        browser, live_server, draft_and_cases) -> None:
    draft_id, references = draft_and_cases
    context = axe.context(browser)
    page = context.new_page()
    sign_in(page, live_server, OWNER)
    page.goto(f"{live_server}/studio/drafts/{draft_id}")
    page.locator("#studio-replay").click()
    page.wait_for_url(f"**/studio/drafts/{draft_id}/replay")
    run_preview(page, live_server, draft_id)
    status = page.locator("#replay-status").inner_text()
    assert "Finished" in status and "cases replayed" in status
    rows = page.locator("#replay-cases tbody tr")
    text = " ".join(page.locator("#replay-cases").inner_text().split())
    assert rows.count() >= 3
    for reference in references:
        assert reference in text
    assert "High → Medium" in text
    assert "Resolved on target" in page.locator("#replay-kpis").inner_text()
    # The report stays: the draft's page lists it, and it opens again finished.
    page.goto(f"{live_server}/studio/drafts/{draft_id}/replay")
    page.locator("#replay-jobs a").first.click()
    page.locator("#replay-totals").wait_for()
    context.close()


@pytest.mark.parametrize(("language", "phone"), SCREENS,
                         ids=[f"{lang}-{'phone' if phone else 'desktop'}"
                              for lang, phone in SCREENS])
def test_the_preview_pages_pass_axe(  # type: ignore[no-untyped-def]
        browser, live_server, draft_and_cases, language: str, phone: bool) -> None:
    draft_id, _references = draft_and_cases
    context = axe.context(browser, language, phone)
    page = context.new_page()
    sign_in(page, live_server, OWNER)
    found: list[str] = []
    page.goto(f"{live_server}/studio/drafts/{draft_id}/replay")
    found += [f"form: {problem}" for problem in axe.violations(page)]
    run_preview(page, live_server, draft_id)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    found += [f"report: {problem}" for problem in axe.violations(page)]
    if phone and (wider := axe.overflow(page)) > 0:
        found.append(f"report: {wider}px wider than a phone: " + ", ".join(axe.too_wide(page)))
    context.close()
    assert not found, "\n".join(found)


def test_the_progress_page_follows_a_running_preview_until_its_report(  # type: ignore[no-untyped-def]
        browser, live_server, live_app, draft_and_cases) -> None:
    draft_id, _references = draft_and_cases
    with live_app.app_context():
        owner = db.session.scalar(select(User).where(User.username == OWNER))
        job = ReplayJob(draft_id=draft_id, draft_title="Rita's draft", started_by_id=owner.id,
                        started_by=OWNER, status="running", done=2, total=10)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    context = axe.context(browser)
    page = context.new_page()
    sign_in(page, live_server, OWNER)
    page.goto(f"{live_server}/studio/drafts/replays/{job_id}")
    assert " ".join(page.locator("#replay-status").inner_text().split()) == \
        "Replaying: 2 of 10 cases."
    assert page.locator("progress").get_attribute("value") == "2"
    assert axe.violations(page) == []
    report = {"totals": {"cases": 10, "unreplayable": 0, "route_changed": 0,
                         "priority_changed": 0, "deadlines_moved": 0, "stopped": 0},
              "kpis": {side: {"on_target": 90.0, "median_hours": 12.5}
                       for side in ("before", "after")}, "cases": [], "unreplayable": []}
    with live_app.app_context():
        db.session.execute(update(ReplayJob).where(ReplayJob.id == job_id).values(
            done=7, heartbeat_at=utcnow()))
        db.session.commit()
        page.locator("#replay-status", has_text="Replaying: 7 of 10 cases.").wait_for()
        db.session.execute(update(ReplayJob).where(ReplayJob.id == job_id).values(
            done=10, status="done", report=json.dumps(report), finished_at=utcnow()))
        db.session.commit()
        db.session.remove()
    # No reload: the page asked again by itself and now shows the report.
    page.locator("#replay-totals").wait_for()
    assert "The draft changes none of these cases." in page.inner_text("#replay-job")
    assert "90.0%" in page.locator("#replay-kpis").inner_text()
    context.close()
