"""A consulted specialist works in the browser: inbox, the question, the answer, the case moves."""

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


def test_a_specialist_answers_a_consultation_in_the_browser(
        browser: Any, live_app: Flask, live_server: str) -> None:
    with live_app.app_context():
        create_user("lina", ["specialist"], PASSWORD, display_name="Lina Specialist")
    public = browser.new_page()
    reference, _link = file_complaint(public, live_server)

    hana = signed_in(browser, live_server, "hana")
    acknowledge_and_assess(hana, live_server, reference)
    open_task(hana, live_server, reference, "Investigate")
    hana.get_by_label("What you found").fill("The fee looks wrong.")
    choose(hana, "Do you need more information from the complainant?", "No")
    hana.get_by_role("group", name="Consult colleagues").get_by_label("specialist").check()
    hana.get_by_label("Your question to them").fill("Was the fee applied under the 2025 tariff?")
    complete(hana, "Investigate")

    # The specialist signs in straight to the inbox and finds the consultation there.
    lina = signed_in(browser, live_server, "lina")
    assert lina.url.endswith("/tasks")
    assert lina.get_by_role("link", name="Inbox").is_visible()
    open_task(lina, live_server, reference, "Give your opinion on a complaint")
    asked = lina.get_by_role("region", name="You are asked")
    assert asked.get_by_text("Was the fee applied under the 2025 tariff?").is_visible()
    lina.get_by_label("Your opinion").fill("Yes: the 2025 tariff applies from 1 January.")
    complete(lina, "Give your opinion on a complaint")

    # The case is back with the handler, with the answer on record.
    hana.goto(f"{live_server}/cases/{reference}")
    assert hana.get_by_text("Give your opinion on a complaint completed").first.is_visible()
    hana.goto(live_server + "/tasks?view=mine")  # straight to the case's owner
    assert hana.locator("tr", has_text=reference).get_by_role(
        "link", name="Investigate").is_visible()
    for page in (hana, lina, public):
        page.close()
