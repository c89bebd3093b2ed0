"""In Chromium: a SpiffArena-style form with a group and repeatable rows; a handler adds a row,
fills it in and sends the form, and the answers are stored nested."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import expect

from server.extensions import db
from server.services import cases, processes
from server.services.users import map_lane
from tests.support.browser import complete, open_task, signed_in
from tests.support.data import HANDLER

from .test_spiffarena_forms import FORMS
from .test_studio import INTAKE


def _deploy_and_start(app: Flask) -> str:
    """The grouped-triage model as the active process, and a complaint on it; its reference."""
    with app.app_context():
        map_lane("Customer Care", "handler")
        processes.deploy(processes.read_folders(FORMS), HANDLER, note="grouped triage")
        reference = cases.start_case(dict(INTAKE), "phone", HANDLER).case.reference
        db.session.remove()
    return reference


def test_a_handler_adds_a_row_fills_it_in_and_sends_the_form(
        browser: Any, live_app: Flask, live_server: str) -> None:
    reference = _deploy_and_start(live_app)
    hana = signed_in(browser, live_server, "hana")
    open_task(hana, live_server, reference, "Triage complaint")

    hana.get_by_role("group", name="Category").get_by_label("Billing and fees").check()
    hana.get_by_role("group", name="Is a refund due?").get_by_label("No").check()
    contact = hana.get_by_role("group", name="Who to call back")
    contact.get_by_label("Name").fill("Layla Haddad")
    contact.get_by_label("Phone").fill("+44 20 7946 0000")
    first = hana.get_by_role("group", name="Transaction 1 of 1")
    first.get_by_label("Booked on").fill("2026-03-02")
    first.get_by_label("Amount").fill("12.50")

    hana.get_by_role("button", name="Add another").click()
    second = hana.get_by_role("group", name="Transaction 2 of 2")
    expect(second).to_be_visible()
    # What was typed before the row was added is still there.
    expect(hana.get_by_role("group", name="Transaction 1 of 2").get_by_label("Amount")) \
        .to_have_value("12.5")
    expect(contact.get_by_label("Name")).to_have_value("Layla Haddad")
    second.get_by_label("Booked on").fill("2026-03-03")
    second.get_by_label("Amount").fill("7")
    second.get_by_label("Merchant").fill("Corner shop")
    complete(hana, "Triage complaint")

    with live_app.app_context():
        data = cases.case_data(cases.get_case(reference))
        db.session.remove()
    assert data["transactions"] == [
        {"booked_on": "2026-03-02", "amount": 12.5},
        {"booked_on": "2026-03-03", "amount": 7, "merchant": "Corner shop"}]
    assert data["contact"] == {"name": "Layla Haddad", "callback": {"phone": "+44 20 7946 0000"}}
