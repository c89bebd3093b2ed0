"""The inbox updates in place (htmx): filters and claiming change the rows, not the page."""

from __future__ import annotations

from server.extensions import db
from server.services import cases
from tests.browser_support import APPS, signed_in

from .conftest import HANDLER, INTAKE


def test_a_handler_filters_and_claims_without_reloading_the_page(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    app = APPS[live_server]
    with app.app_context():
        reference = cases.start_case(dict(INTAKE), "phone", HANDLER).case.reference
        db.session.remove()
    page = signed_in(browser, live_server, "hana")
    page.goto(live_server + "/tasks?view=unclaimed")
    page.evaluate("window.stillTheSamePage = true")
    row = page.locator("#inbox-results tr", has_text=reference)
    row.get_by_role("button", name="Claim").click()
    page.locator("#inbox-results").get_by_text("The task is yours.").wait_for()
    page.get_by_label("Priority").select_option("urgent")  # no urgent task: the rows go
    page.wait_for_url("**priority=urgent**")
    page.locator("#inbox-results").get_by_text("Nothing here.").wait_for()
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in place, not reloaded
    page.goto(live_server + "/tasks?view=mine")
    page.locator("#inbox-results tr", has_text=reference).wait_for()
    page.context.close()
