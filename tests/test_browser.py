"""The main journeys in a real browser (Playwright driving Debian's Chromium).

A complainant files and follows a complaint; a handler signs in and moves the case
through every task; the complainant accepts the decision; the case closes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.browser_support import signed_in


def file_complaint(page, base: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.get_by_role("link", name="Make a complaint").click()
    page.get_by_label("Your name").fill("Layla Haddad")
    page.get_by_label("E-mail").fill("layla@example.com")
    page.get_by_label("What happened?").fill("I was charged twice for the same transfer.")
    page.get_by_label("I agree that my personal data").check()
    page.get_by_role("button", name="Send my complaint").click()
    page.wait_for_url("**/complaints/submitted")
    reference = page.locator("strong").first.inner_text()
    link = page.locator("#tracking-link").inner_text()
    return reference, link


def test_a_complainant_files_and_follows_a_complaint(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    # First a mistake: the form comes back with the message and nothing lost.
    page.goto(live_server + "/complaints/new")
    page.get_by_label("Your name").fill("Layla Haddad")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_role("button", name="Send my complaint").click()
    assert page.get_by_text("Enter a valid e-mail address").is_visible()
    assert page.get_by_label("Your name").input_value() == "Layla Haddad"
    reference, link = file_complaint(page, live_server)
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", reference)
    page.goto(link)
    assert reference in page.content()
    assert page.get_by_text("Status: Received").is_visible()
    page.screenshot(path=str(Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp")) / "track.png"))
    page.close()


def test_a_handler_moves_a_case_to_the_end_and_the_complainant_accepts(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    public = browser.new_page()
    reference, link = file_complaint(public, live_server)

    staff = signed_in(browser, live_server, "hana")
    staff.wait_for_url("**/tasks")

    def work(title: str, fill) -> None:  # type: ignore[no-untyped-def]
        staff.goto(live_server + "/tasks?view=unclaimed")
        row = staff.locator("tr", has_text=reference)
        row.get_by_role("link", name=title).click()
        fill()
        staff.get_by_role("button", name="Complete task").click()
        staff.wait_for_url("**/tasks")
        assert staff.get_by_text(f"{title} is done.").is_visible()

    def acknowledge() -> None:
        staff.get_by_label("Email", exact=True).check()
        staff.get_by_label("What was said").fill("We have your complaint, reference " + reference)

    def assess() -> None:
        staff.get_by_label("Is this a complaint about our products or services?").check()
        staff.get_by_label("Priority").select_option("high")
        staff.get_by_label("Category").select_option("billing")

    def investigate() -> None:
        staff.get_by_label("What you found").fill("The transfer was booked twice.")
        staff.get_by_label("No", exact=True).check()

    def respond() -> None:
        staff.get_by_label("Upheld", exact=True).check()
        staff.get_by_label("Response to the complainant, with the reasons").fill("Refunded.")

    work("Acknowledge complaint", acknowledge)
    work("Assess complaint", assess)
    work("Investigate", investigate)
    work("Decide and respond", respond)

    public.goto(link)
    assert public.get_by_text("Decision sent: waiting for your answer").first.is_visible()
    public.get_by_label("Yes").check()
    public.get_by_role("button", name="Send my answer").click()
    assert public.get_by_text("Thank you, we have your answer.").is_visible()
    assert public.get_by_text("Closed: you accepted our response").first.is_visible()

    staff.goto(f"{live_server}/cases/{reference}")
    assert staff.get_by_text("Closed: you accepted our response").first.is_visible()
    staff.close()
    public.close()
