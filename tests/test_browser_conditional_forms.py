"""In Chromium: a question appears when the answer that needs it is chosen, an empty one is
refused with a summary of what to correct, and the focus goes to that summary."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from tests.support.browser import (
    acknowledge_and_assess,
    choose,
    complete,
    open_task,
    signed_in,
    start_case,
)

NEED = "Do you need more information from the complainant?"


def test_the_question_to_the_complainant_appears_and_is_required_only_when_needed(
        browser: Any, live_app: Flask, live_server: str) -> None:
    reference = start_case(live_app)
    hana = signed_in(browser, live_server, "hana")
    acknowledge_and_assess(hana, live_server, reference)
    open_task(hana, live_server, reference, "Investigate")
    question = hana.get_by_label("Your question to the complainant")

    expect(question).to_be_hidden()
    choose(hana, NEED, "Yes")
    expect(question).to_be_visible()
    expect(question).to_have_attribute("required", "")
    choose(hana, NEED, "No")
    expect(question).to_be_hidden()
    expect(question).to_be_disabled()  # a hidden field is not sent
    colleagues = hana.get_by_label("Your question to them")
    expect(colleagues).to_be_hidden()
    hana.get_by_role("group", name="Consult colleagues").get_by_label("specialist").check()
    expect(colleagues).to_be_visible()
    hana.get_by_role("group", name="Consult colleagues").get_by_label("specialist").uncheck()
    expect(colleagues).to_be_hidden()

    hana.get_by_label("What you found").fill("The transfer was booked twice.")
    choose(hana, NEED, "Yes")
    hana.get_by_role("button", name="Complete task").click()

    summary = hana.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert hana.title().startswith("Error: ")
    expect(hana.locator("#f-question_to_complainant-error")).to_contain_text(
        "This field is required.")
    expect(hana.get_by_label("What you found")).to_have_value("The transfer was booked twice.")
    expect(question).to_be_visible()  # the answer that needs it was kept
    summary.get_by_role("link", name="Your question to the complainant").click()
    expect(question).to_be_focused()

    question.fill("On which day did you make the transfer?")
    complete(hana, "Investigate")
    hana.close()
