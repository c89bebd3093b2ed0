"""A consulted specialist works in the browser: inbox, the question, the answer, the case moves."""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.services.users import create_user
from tests.support.browser import file_complaint, signed_in
from tests.support.data import PASSWORD


def test_a_specialist_answers_a_consultation_in_the_browser(
        browser: Any, live_app: Flask, live_server: str) -> None:
    with live_app.app_context():
        create_user("lina", ["specialist"], PASSWORD, display_name="Lina Specialist")
    public = browser.new_page()
    reference, _link = file_complaint(public, live_server)

    def choose(page: Any, question: str, answer: str) -> None:
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()

    def work(page: Any, title: str) -> None:
        page.goto(live_server + "/tasks?view=unclaimed")
        page.locator("tr", has_text=reference).get_by_role("link", name=title).click()
        page.wait_for_url("**/tasks/*")

    def done(page: Any, title: str) -> None:
        page.get_by_role("button", name="Complete task").click()
        page.wait_for_url("**/tasks")
        assert page.get_by_text(f"{title} is done.").is_visible()

    hana = signed_in(browser, live_server, "hana")
    work(hana, "Acknowledge complaint")
    hana.get_by_label("Email", exact=True).check()
    hana.get_by_label("What was said").fill("We have your complaint.")
    done(hana, "Acknowledge complaint")
    work(hana, "Assess complaint")
    choose(hana, "Is this a complaint about our products or services?", "Yes")
    hana.get_by_label("Category").select_option("billing")
    choose(hana, "Severity", "Serious")
    choose(hana, "Complexity", "Simple")
    for question in ("Is the customer in a vulnerable situation?",
                     "Did the complaint come through a regulator or ombudsman?",
                     "Does something need to be done at once?"):
        choose(hana, question, "No")
    done(hana, "Assess complaint")
    work(hana, "Investigate")
    hana.get_by_label("What you found").fill("The fee looks wrong.")
    choose(hana, "Do you need more information from the complainant?", "No")
    hana.get_by_role("group", name="Consult colleagues").get_by_label("specialist").check()
    hana.get_by_label("Your question to them").fill("Was the fee applied under the 2025 tariff?")
    done(hana, "Investigate")

    # The specialist signs in straight to the inbox and finds the consultation there.
    lina = signed_in(browser, live_server, "lina")
    assert lina.url.endswith("/tasks")
    assert lina.get_by_role("link", name="Inbox").is_visible()
    work(lina, "Give your opinion on a complaint")
    assert lina.get_by_text("Was the fee applied under the 2025 tariff?").is_visible()
    lina.get_by_label("Your opinion").fill("Yes: the 2025 tariff applies from 1 January.")
    done(lina, "Give your opinion on a complaint")

    # The case is back with the handler, with the answer on record.
    hana.goto(f"{live_server}/cases/{reference}")
    assert hana.get_by_text("Give your opinion on a complaint completed").first.is_visible()
    hana.goto(live_server + "/tasks?view=unclaimed")
    assert hana.locator("tr", has_text=reference).get_by_role(
        "link", name="Investigate").is_visible()
    for page in (hana, lina, public):
        page.close()
