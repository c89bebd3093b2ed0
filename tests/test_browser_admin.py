"""An administrator in a real browser: business time and accounts.

The deadline preview follows the escalation target and the calendar as they are changed,
and a new account's generated password is shown once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from .support.browser import ADMIN, signed_in

SUNDAY = "2026-09-20T10:00"  # Riyadh; Wednesday 23 September is the National Day holiday


def acknowledgement_due(page) -> str:  # type: ignore[no-untyped-def]
    """Ask the preview for a complaint received on SUNDAY; return the acknowledgement line."""
    page.get_by_label("Complaint received at").fill(SUNDAY)
    page.get_by_role("button", name="Show deadlines").click()
    page.wait_for_url(re.compile(r"at=2026-09-20"))
    return " ".join(page.locator("#preview-acknowledge").inner_text().split())


def test_an_admin_changes_the_target_and_adds_a_holiday_and_the_preview_follows(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    page = signed_in(browser, live_server, ADMIN)
    page.goto(live_server + "/admin")
    page.get_by_role("link", name="Escalation policy").click()
    assert "Monday 21 September 2026, 10:00" in acknowledgement_due(page)

    page.get_by_label("Acknowledgement, Any priority: target: amount").fill("3")
    page.get_by_role("button", name="Save the acknowledgement targets").click()
    expect(page.get_by_text("Saved: 1 row(s) changed.")).to_be_visible()
    # Monday, Tuesday, then Thursday: the National Day does not count.
    assert "Thursday 24 September 2026, 10:00" in acknowledgement_due(page)

    page.get_by_role("link", name="Calendar").click()
    holiday = page.locator("#add-holiday")
    holiday.get_by_label("First day").fill("2026-09-24")
    holiday.get_by_label("Name").fill("Moved Eid")
    holiday.get_by_role("button", name="Add").click()
    expect(page.get_by_text("Added: 2026-09-24 Moved Eid.")).to_be_visible()
    assert "Sunday 27 September 2026, 10:00" in acknowledgement_due(page)
    row = page.locator("#holidays-2026 tr", has_text="2026-09-24")
    assert "custom" in row.inner_text()
    changes = page.locator("#changes")
    expect(changes.get_by_text("Calendar: added holiday 2026-09-24")).to_be_visible()

    # A mistake comes back with the message and the typed value.
    page.get_by_label("Time zone", exact=True).fill("Mars/Olympus")
    page.get_by_role("button", name="Save the calendar").click()
    expect(page.get_by_text("Enter a time zone from the list")).to_be_visible()
    assert page.get_by_label("Time zone", exact=True).input_value() == "Mars/Olympus"
    page.screenshot(path=str(Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))
                             / "admin-calendar.png"), full_page=True)
    page.context.close()


def test_an_admin_creates_an_account_and_sees_its_password_once(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    page = signed_in(browser, live_server, ADMIN)
    page.goto(live_server + "/admin/users")
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Username").fill("sami")
    page.get_by_label("Display name").fill("Sami Supervisor")
    page.get_by_label("supervisor").check()
    page.get_by_label("Generate one").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/admin/users/sami")
    password = page.locator("#new-password").inner_text()
    assert len(password) >= 12
    page.reload()
    assert page.locator("#new-password").count() == 0

    newcomer = browser.new_context().new_page()
    newcomer.goto(live_server + "/login")
    newcomer.get_by_label("Username").fill("sami")
    newcomer.get_by_label("Password").fill(password)
    newcomer.get_by_role("button", name="Sign in").click()
    newcomer.wait_for_url("**/tasks")
    expect(newcomer.get_by_text("Signed in as Sami Supervisor.")).to_be_visible()
    newcomer.context.close()
    page.context.close()
