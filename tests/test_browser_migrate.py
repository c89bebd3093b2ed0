"""A process owner moves running cases to a new version on the studio page (Chromium).

Olive adds a required customer reference to the Assess form and deploys version 2. Fifty
cases run on version 1: thirty wait for Acknowledge or Assess, twenty are past Assess. On
version 1's "Running cases" page the dry run refuses the twenty and says why; she moves
the thirty. The
handler then finds the new field on a moved case's Assess form, and the audit trail
still verifies.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from server.extensions import db
from server.services import processes

from .support.browser import add_user, assess, complete, open_task, signed_in, start_case
from .support.cases import complete as complete_step
from .support.data import ACK, ASSESS
from .support.process import reference_files
from .test_migration import OWNER, with_required_field

SCREENSHOTS = Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))


@pytest.fixture(scope="module")
def cases_and_version(live_app: Flask) -> dict[str, list[str]]:
    """Fifty cases on version 1 (30 before Assess is done, 20 after) and version 2."""
    add_user(live_app, "olive", "process_owner", "Olive Owner")
    found: dict[str, list[str]] = {"movable": [], "past": []}
    for done in [0] * 15 + [1] * 15 + [2] * 20:
        reference = start_case(live_app)
        with live_app.app_context():
            for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS))[:done]:
                complete_step(reference, bpmn_id, values)
            db.session.remove()
        found["past" if done == 2 else "movable"].append(reference)
    with live_app.app_context():
        processes.deploy(with_required_field(reference_files()), OWNER,
                         "Assess asks for the customer reference")
        db.session.remove()
    return found


def test_a_process_owner_moves_the_cases_that_can_move_after_a_dry_run(  # type: ignore[no-untyped-def]
        browser, live_server, live_app, cases_and_version) -> None:
    page = signed_in(browser, live_server, "olive")
    page.goto(live_server + "/studio/")
    page.locator("#version-1").get_by_role("link", name="Running cases version 1").click()
    page.wait_for_url("**/studio/versions/*/cases")
    page.get_by_label("Move to version").select_option(label="Version 2 (Active) · Assess "
                                                             "asks for the customer reference")
    page.get_by_role("button", name="Dry run").click()
    report = page.locator("#report")
    report.wait_for()
    assert " ".join(page.locator("#report-counts").inner_text().split()) == \
        "30 cases can move; 20 cases cannot move."
    for reference in cases_and_version["past"]:
        row = page.locator(f"#case-{reference}")
        assert "Cannot move" in row.inner_text()
        assert "now requires Customer reference" in row.inner_text()
    assessing = cases_and_version["movable"][15]
    assert "now asks for: Customer reference" in page.locator(f"#case-{assessing}").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "studio-migrate-dry-run.png"), full_page=True)

    page.get_by_role("button", name="Move 30 cases to version 2").click()
    page.locator("#report-title", has_text="Moved to version 2").wait_for()
    assert " ".join(page.locator("#report-counts").inner_text().split()) == \
        "30 cases moved; 0 cases cannot move."
    for reference in cases_and_version["movable"]:
        assert "Moved" in page.locator(f"#case-{reference}").inner_text()

    handler = signed_in(browser, live_server, "hana")
    open_task(handler, live_server, assessing, "Assess complaint")
    assess(handler)
    handler.get_by_label("Customer reference").fill("ACC-1234")
    complete(handler, "Assess complaint")
    result = live_app.test_cli_runner().invoke(args=["verify-audit"])
    assert result.exit_code == 0, result.output
    for context in (page.context, handler.context):
        context.close()
