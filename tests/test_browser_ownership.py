"""The handler who acknowledges a complaint owns it, and keeps it to the end without claiming.

Each later step of hers waits in her own tasks when she opens the inbox: no claim, no
search through the unclaimed tasks, and the case page names her as its owner. Every step
is due at a time shown in Riyadh time, and Close refuses an empty corrective action when
one is needed, with the error under its field and a summary.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.support.browser import assess, choose, complete, file_complaint, signed_in

DUE = re.compile(r"Due: \d{4}-\d{2}-\d{2} \d{2}:\d{2} Riyadh")


def due_in_riyadh(page: Any) -> None:
    """The open task shows when it is due, in the organisation's time, with the zone."""
    assert DUE.search(page.locator("main").inner_text()), page.locator("main").inner_text()[:600]


def take_from_my_tasks(page: Any, base: str, reference: str, title: str) -> None:
    """Open the inbox as one does, find the step in one's own tasks, open it."""
    page.goto(base + "/tasks")
    assert page.get_by_role("link", name="My tasks").get_attribute("aria-current") == "page"
    row = page.locator("#inbox-results tr", has_text=reference)
    assert row.get_by_role("button", name="Claim").count() == 0  # already hers
    assert "Hana" in row.inner_text()  # the owner, shown on the row
    row.get_by_role("link", name=title).click()
    page.wait_for_url("**/tasks/*")
    due_in_riyadh(page)


def test_the_owner_keeps_the_case_from_acknowledge_to_close_without_claiming(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    public = browser.new_page()
    reference, link = file_complaint(public, live_server)
    hana = signed_in(browser, live_server, "hana")

    # Nothing of hers yet: the inbox opens on the unclaimed work, where the complaint waits.
    assert hana.get_by_role("link", name="Unclaimed").get_attribute("aria-current") == "page"
    hana.locator("#inbox-results tr", has_text=reference).get_by_role(
        "link", name="Acknowledge complaint").click()
    due_in_riyadh(hana)
    hana.get_by_label("Email", exact=True).check()
    hana.get_by_label("What was said").fill("We have your complaint.")
    complete(hana, "Acknowledge complaint")

    take_from_my_tasks(hana, live_server, reference, "Assess complaint")
    assess(hana)
    complete(hana, "Assess complaint")
    take_from_my_tasks(hana, live_server, reference, "Investigate")
    hana.get_by_label("What you found").fill("The transfer was booked twice.")
    choose(hana, "Do you need more information from the complainant?", "No")
    complete(hana, "Investigate")
    take_from_my_tasks(hana, live_server, reference, "Decide and respond")
    hana.get_by_label("Upheld", exact=True).check()
    hana.get_by_label("Response to the complainant, with the reasons").fill("We refunded it.")
    complete(hana, "Decide and respond")

    public.goto(link)
    public.get_by_label("Yes", exact=True).check()
    public.get_by_role("button", name="Send my answer").click()
    assert public.get_by_text("Thank you, we have your answer.").is_visible()

    take_from_my_tasks(hana, live_server, reference, "Close the case")
    hana.get_by_label("Accepted", exact=True).check()
    hana.get_by_role("group", name="Outcome").get_by_label("Upheld", exact=True).check()
    hana.get_by_label("Root cause").select_option("process")
    choose(hana, "Is a corrective action needed?", "Yes")
    hana.get_by_role("button", name="Complete task").click()
    summary = hana.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    assert hana.title().startswith("Error: ")
    expect(hana.locator("#f-corrective_action-error")).to_contain_text("This field is required.")
    choose(hana, "Is a corrective action needed?", "No")
    complete(hana, "Close the case")

    hana.goto(f"{live_server}/cases/{reference}")
    assert hana.locator("#case-owner").inner_text().startswith("Hana")
    assert hana.get_by_text("hana now owns the case").count() == 1  # taken once, kept
    for page in (hana, public):
        page.close()
