"""Separation of duties in the browser: a handler who is also a supervisor cannot approve."""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.services.users import create_user
from tests.support.browser import file_complaint, signed_in
from tests.support.data import PASSWORD


def test_self_approval_is_refused_with_the_reason_in_the_browser(
        browser: Any, live_app: Flask, live_server: str) -> None:
    with live_app.app_context():
        create_user("sami", ["handler", "supervisor"], PASSWORD, display_name="Sami Both")
        create_user("sahar", ["supervisor"], PASSWORD, display_name="Sahar Supervisor")
    public = browser.new_page()
    reference, _link = file_complaint(public, live_server)

    def choose(page: Any, question: str, answer: str) -> None:
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()

    def open_task(page: Any, title: str) -> None:
        page.goto(live_server + "/tasks?view=unclaimed")
        page.locator("tr", has_text=reference).get_by_role("link", name=title).click()

    def complete(page: Any, title: str) -> None:
        page.get_by_role("button", name="Complete task").click()
        page.wait_for_url("**/tasks")
        assert page.get_by_text(f"{title} is done.").is_visible()

    sami = signed_in(browser, live_server, "sami")
    open_task(sami, "Acknowledge complaint")
    sami.get_by_label("Email", exact=True).check()
    sami.get_by_label("What was said").fill("We have your complaint.")
    complete(sami, "Acknowledge complaint")
    open_task(sami, "Assess complaint")
    choose(sami, "Is this a complaint about our products or services?", "Yes")
    sami.get_by_label("Category").select_option("billing")
    choose(sami, "Severity", "Serious")
    choose(sami, "Complexity", "Simple")
    for question in ("Is the customer in a vulnerable situation?",
                     "Did the complaint come through a regulator or ombudsman?",
                     "Does something need to be done at once?"):
        choose(sami, question, "No")
    complete(sami, "Assess complaint")
    open_task(sami, "Investigate")
    sami.get_by_label("What you found").fill("Fees were charged in error for a year.")
    choose(sami, "Do you need more information from the complainant?", "No")
    complete(sami, "Investigate")
    open_task(sami, "Decide and respond")
    sami.get_by_label("Upheld", exact=True).check()
    sami.get_by_label("Response to the complainant, with the reasons").fill("We refund.")
    sami.get_by_label("Compensation").fill("7500")
    complete(sami, "Decide and respond")

    # The approval is in Sami's inbox (he holds the supervisor role) but refused, saying why.
    open_task(sami, "Approve the remedy")
    assert sami.get_by_text("handled this case before (Decide and respond)").is_visible()
    assert sami.get_by_role("button", name="Complete task").count() == 0

    sahar = signed_in(browser, live_server, "sahar")
    open_task(sahar, "Approve the remedy")
    choose(sahar, "Do you approve the decision and the remedy?", "Yes")
    complete(sahar, "Approve the remedy")
    for page in (sami, sahar, public):
        page.close()
