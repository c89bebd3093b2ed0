"""In the browser alone, an administrator changes the acknowledgement target and the
calendar, and the next complaint's deadline follows: no diagram edited, no restart."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask
from server.services import calendar, cases

from .support.browser import ADMIN, file_complaint, signed_in


def test_the_next_complaint_follows_a_target_and_holiday_changed_in_the_browser(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    with live_app.app_context():
        # A holiday on the next working day: a deadline in working days must step over it.
        holiday_day = calendar.load().local_day(calendar.add_working_days(datetime.now(UTC), 1))
        db.session.remove()
    admin = signed_in(browser, live_server, ADMIN)
    admin.goto(live_server + "/admin")
    admin.get_by_role("link", name="Escalation policy").click()
    admin.get_by_label("Acknowledgement, Any priority: target: amount").fill("3")
    admin.get_by_role("button", name="Save the acknowledgement targets").click()
    expect(admin.get_by_text("Saved: 1 row(s) changed.")).to_be_visible()
    admin.get_by_role("link", name="Calendar").click()
    holiday = admin.locator("#add-holiday")
    holiday.get_by_label("First day").fill(holiday_day.isoformat())
    holiday.get_by_label("Name").fill("Short-notice holiday")
    holiday.get_by_role("button", name="Add").click()
    expect(admin.get_by_text(f"Added: {holiday_day.isoformat()} Short-notice holiday.")) \
        .to_be_visible()
    admin.context.close()

    public = browser.new_context().new_page()
    reference, link = file_complaint(public, live_server)
    public.goto(link)
    shown = public.locator("p", has_text="Our next step is due by").locator("time") \
        .get_attribute("datetime")
    public.context.close()
    with live_app.app_context():
        case = cases.get_case(reference)
        due = db.session.scalar(select(HumanTask.due_at).where(
            HumanTask.case_id == case.id, HumanTask.bpmn_id == "acknowledge"))
        expected = calendar.add_working_days(case.received_at, 3)
        landed = calendar.load().local_day(expected)
        db.session.remove()
    assert due == expected, (due, expected)
    assert datetime.fromisoformat(shown) == expected
    assert landed != holiday_day
