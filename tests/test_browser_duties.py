"""Separation of duties in the browser: nobody approves their own remedy or reviews it."""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.services.users import create_user
from tests.support.browser import (
    acknowledge_and_assess,
    choose,
    complete,
    file_complaint,
    open_task,
    signed_in,
)
from tests.support.data import PASSWORD


def test_self_approval_and_approver_review_are_refused_with_the_reason_in_the_browser(
        browser: Any, live_app: Flask, live_server: str) -> None:
    with live_app.app_context():
        create_user("sami", ["handler", "supervisor"], PASSWORD, display_name="Sami Both")
        create_user("sahar", ["supervisor"], PASSWORD, display_name="Sahar Supervisor")
    public = browser.new_page()
    reference, link = file_complaint(public, live_server)

    sami = signed_in(browser, live_server, "sami")
    acknowledge_and_assess(sami, live_server, reference)
    open_task(sami, live_server, reference, "Investigate")
    sami.get_by_label("What you found").fill("Fees were charged in error for a year.")
    choose(sami, "Do you need more information from the complainant?", "No")
    complete(sami, "Investigate")
    open_task(sami, live_server, reference, "Decide and respond")
    sami.get_by_label("Upheld", exact=True).check()
    sami.get_by_label("Response to the complainant, with the reasons").fill("We refund.")
    sami.get_by_label("Compensation").fill("7500")
    complete(sami, "Decide and respond")

    # The approval is in Sami's inbox (he holds the supervisor role) but refused, saying why.
    sami.goto(live_server + "/tasks?view=unclaimed")
    sami.locator("tr", has_text=reference).get_by_role("link", name="Approve the remedy").click()
    assert sami.get_by_text("handled this case before (Decide and respond)").is_visible()
    assert sami.get_by_role("button", name="Complete task").count() == 0

    sahar = signed_in(browser, live_server, "sahar")
    open_task(sahar, live_server, reference, "Approve the remedy")
    choose(sahar, "Do you approve the decision and the remedy?", "Yes")
    complete(sahar, "Approve the remedy")

    # The complainant rejects the decision: Sahar, who approved it, may not review it.
    public.goto(link)
    public.get_by_label("No", exact=True).check()
    public.get_by_label("If not, tell us why").fill("The refund is not enough.")
    public.get_by_role("button", name="Send my answer").click()
    assert public.get_by_text("Thank you, we have your answer.").is_visible()
    sahar.goto(live_server + "/tasks?view=unclaimed")
    sahar.locator("tr", has_text=reference).get_by_role(
        "link", name="Review rejected response").click()
    assert sahar.get_by_text("handled this case before (Approve the remedy)").is_visible()
    assert sahar.get_by_role("button", name="Complete task").count() == 0
    for page in (sami, sahar, public):
        page.close()
