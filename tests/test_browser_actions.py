"""A complaints manager finds the corrective action a closed complaint asked for from the
case page, and sees it in the register; she opens another one by hand from a closed case.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.extensions import db
from tests.support.browser import add_user, signed_in
from tests.support.cases import decided, drive


def closed_case(app: Flask, action_needed: bool) -> str:
    """A complaint closed on the live app (with a corrective action asked for, or not)."""
    with app.app_context():
        reference, _ = decided()
        chosen: dict[str, Any] = {"accepted": True, "root_cause": "process",
                                  "corrective_action_needed": action_needed}
        if action_needed:
            chosen["corrective_action"] = "Reprint the fee table in the branch leaflets."
        drive(reference, lambda data: "closure_reason" in data, chosen)
        db.session.remove()
    return reference


def test_a_manager_opens_the_action_of_a_closed_case_and_finds_it_in_the_register(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    add_user(live_app, "maha", "complaints_manager", "Maha Manager")
    asked = closed_case(live_app, action_needed=True)
    plain = closed_case(live_app, action_needed=False)
    maha = signed_in(browser, live_server, "maha")

    maha.goto(f"{live_server}/cases/{asked}")
    actions = maha.locator("#corrective-actions")
    action = actions.get_by_role("link", name="CA-").inner_text()
    actions.get_by_role("link", name=action).click()
    maha.wait_for_url(f"**/actions/{action}")
    assert "Reprint the fee table" in maha.locator("main").inner_text()
    assert maha.locator("#complaints").get_by_role("link", name=asked).is_visible()

    maha.get_by_role("link", name="Actions", exact=True).click()
    row = maha.locator("#register tr", has_text=action)
    assert "Being planned" in row.inner_text() and "Process" in row.inner_text()

    # A closed case that asked for none: she opens one for it by hand.
    maha.goto(f"{live_server}/cases/{plain}")
    maha.get_by_role("link", name="Open a corrective action for this complaint").click()
    maha.get_by_label("Title").fill("Explain the fee rules on the phone")
    maha.get_by_role("button", name="Open the action").click()
    assert maha.get_by_text("Please correct the marked fields.").is_visible()
    assert maha.get_by_label("Title").input_value() == "Explain the fee rules on the phone"
    maha.get_by_label("Cause").select_option("communication")
    maha.get_by_label("What should be done").fill("A short training for the phone team.")
    maha.get_by_role("button", name="Open the action").click()
    maha.wait_for_url("**/actions/CA-*")
    second = maha.url.rsplit("/", 1)[1]
    assert maha.locator("#complaints").get_by_role("link", name=plain).is_visible()
    maha.goto(f"{live_server}/actions?cause=communication")
    listed = maha.locator("#register tbody tr")
    assert listed.count() == 1 and second in listed.inner_text()
