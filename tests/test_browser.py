"""The main journeys in a real browser (Playwright driving Debian's Chromium).

A complainant files and follows a complaint; a handler signs in and moves the case
through its tasks; the complainant rejects the decision twice, so a supervisor reviews it
and the complaints manager refers it to external dispute resolution; the case closes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from .support.browser import add_user, assess, choose, file_complaint, open_task, signed_in


def test_a_complainant_files_and_follows_a_complaint(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    # First a mistake: the form comes back with the message and nothing lost.
    page.goto(live_server + "/complaints/new")
    page.get_by_label("Your name").fill("Layla Haddad")
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_role("button", name="Send my complaint").click()
    # The message is under the field and in the summary at the top, which links to it.
    expect(page.locator("#f-complainant_email-error")).to_contain_text(
        "Enter a valid e-mail address")
    expect(page.get_by_role("link", name="E-mail: Enter a valid e-mail address")).to_be_visible()
    assert page.get_by_label("Your name").input_value() == "Layla Haddad"
    reference, link = file_complaint(page, live_server)
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", reference)
    page.goto(link)
    assert reference in page.content()
    expect(page.get_by_text("Status: Received")).to_be_visible()
    page.screenshot(path=str(Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp")) / "track.png"))
    page.close()


def test_a_rejected_decision_goes_through_review_and_referral_in_the_browser(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    """The journey `make run` offers: decision, rejection, internal review, referral, closing."""
    add_user(live_app, "sara", "supervisor", "Sara Supervisor")
    add_user(live_app, "max", "complaints_manager", "Max Manager")
    public = browser.new_page()
    reference, link = file_complaint(public, live_server)

    def work(who, title: str, fill) -> None:  # type: ignore[no-untyped-def]
        open_task(who, live_server, reference, title)
        fill(who)
        who.get_by_role("button", name="Complete task").click()
        who.wait_for_url("**/tasks")
        expect(who.get_by_text(f"{title} is done.")).to_be_visible()

    def acknowledge(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("Email", exact=True).check()
        page.get_by_label("What was said").fill("We have your complaint, reference " + reference)

    def investigate(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("What you found").fill("The transfer was booked twice.")
        choose(page, "Do you need more information from the complainant?", "No")

    def respond(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("Upheld", exact=True).check()
        page.get_by_label("Response to the complainant, with the reasons").fill("Refunded.")

    def review(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("Decision confirmed", exact=True).check()
        page.get_by_label("Reasons (sent to the complainant)").fill("The refund was right.")

    def refer(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("External body").fill("Central bank consumer protection")
        page.get_by_label("The case bundle was sent to them").check()

    def close(page) -> None:  # type: ignore[no-untyped-def]
        page.get_by_label("Referred externally", exact=True).check()
        page.get_by_role("group", name="Outcome").get_by_label("Upheld", exact=True).check()
        page.get_by_label("Root cause").select_option("process")
        choose(page, "Is a corrective action needed?", "No")

    def reject(reason: str) -> None:
        public.goto(link)
        expect(public.get_by_text("Decision sent: waiting for your answer").first).to_be_visible()
        public.get_by_label("No", exact=True).check()
        public.get_by_label("If not, tell us why").fill(reason)
        public.get_by_role("button", name="Send my answer").click()
        expect(public.get_by_text("Thank you, we have your answer.")).to_be_visible()

    hana = signed_in(browser, live_server, "hana")
    for title, fill in (("Acknowledge complaint", acknowledge), ("Assess complaint", assess),
                        ("Investigate", investigate), ("Decide and respond", respond)):
        work(hana, title, fill)
    reject("The refund was late.")
    expect(public.get_by_text("Under internal review").first).to_be_visible()

    # A supervisor who was not involved reviews it (tests/test_objectivity.py: one who was
    # is refused).
    sara = signed_in(browser, live_server, "sara")
    work(sara, "Review rejected response", review)
    reject("I still disagree.")
    expect(public.get_by_text("Referred to external dispute resolution").first).to_be_visible()

    max_ = signed_in(browser, live_server, "max")
    max_.goto(f"{live_server}/cases/{reference}")
    with max_.expect_download() as download:
        max_.get_by_role("button", name="case bundle", exact=False).first.click()
    assert download.value.suggested_filename.endswith(".zip")
    work(max_, "Refer to external dispute resolution", refer)
    work(hana, "Close the case", close)

    public.goto(link)
    expect(public.get_by_text("Closed").first).to_be_visible()
    expect(public.get_by_role("button", name="Send my rating")).to_be_visible()
    expect(public.get_by_role("button", name="Reopen my complaint")).to_be_visible()
    for page in (hana, sara, max_, public):
        page.close()
