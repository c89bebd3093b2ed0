"""Date-time fields: a browser's datetime-local value (no zone) is the organisation's wall
clock on the way in, and a stored instant is shown back as that wall clock."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from server.extensions import db
from server.formkit import parse_submission, render_fields
from server.models import BusinessCalendar
from server.services import cases
from server.services.calendar import CALENDAR_ID
from server.services.localtime import organisation_zone

from .support.web import AuthActions, token
from .test_studio import deploy, draft_of, filed_case, map_customer_care, open_task, upload

FORMS = Path(__file__).parent / "fixtures" / "spiffarena" / "forms"
AT = {"type": "string", "format": "date-time", "title": "Call back at"}
SCHEMA = {"type": "object", "properties": {"at": AT, "note": {"type": "string"}}}
# What a handler sends on the triage form, with the call-back time as a browser sends it.
TRIAGE = {"category": "billing", "refund_needed": "true", "refund_reason": "Charged twice",
          "contact.name": "Layla Haddad", "contact.callback.phone": "+44 20 7946 0000",
          "call_back_at": "2026-12-06T14:30",
          "transactions.0.booked_on": "2026-03-02", "transactions.0.amount": "12.50",
          "transactions.0.merchant": "Corner shop"}


def _zip() -> bytes:
    """The grouped-triage model with a date-time field added to the triage form."""
    triage = json.loads((FORMS / "triage-schema.json").read_text())
    triage["properties"]["call_back_at"] = AT
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(FORMS.iterdir()):
            data = json.dumps(triage).encode() if path.name == "triage-schema.json" \
                else path.read_bytes()
            archive.writestr(f"grouped-triage/{path.name}", data)
    return buffer.getvalue()


@pytest.fixture
def triage(app: Any, auth: AuthActions, app_ctx: None) -> tuple[FlaskClient, str, Any]:
    """A handler signed in, the path of a case's triage task, and the case."""
    owner = auth.signed_in("olga", "process_owner")
    map_customer_care(auth)
    done = deploy(owner, draft_of(upload(owner, ("grouped-triage.zip", _zip()))))
    assert done.status_code == 200, done.get_json()
    case = filed_case(app.test_client())
    path, title = open_task(case)
    assert title == "Triage complaint"
    return auth.signed_in("hana", "handler"), path, case


def _post(client: FlaskClient, path: str, values: dict[str, str]) -> Any:
    """Send the task form as a browser does, with the page's hidden case version."""
    page = lxml.html.fromstring(client.get(path).get_data(as_text=True))
    hidden = {i.get("name"): i.get("value") for i in page.xpath(
        '//form[.//*[@name="category"]]//input[@type="hidden"]') if i.get("name")}
    return client.post(path, data={**hidden, **values, "csrf_token": token(client, path)})


def _field(response: Any, name: str) -> Any:
    return lxml.html.fromstring(response.get_data(as_text=True)).get_element_by_id(f"f-{name}")


def _errors(response: Any) -> list[str]:
    """The messages shown beside the fields, to say why a submission was refused."""
    page = lxml.html.fromstring(response.get_data(as_text=True))
    return [e.text_content().strip() for e in page.xpath('//*[@data-error-summary]//li')]


def _stored(case: Any) -> dict[str, Any]:
    db.session.rollback()
    return cases.case_data(cases.get_case(case.reference))


def test_the_reference_calendar_is_riyadh(app_ctx: None) -> None:
    assert organisation_zone() == ZoneInfo("Asia/Riyadh")


def test_a_browser_date_and_time_is_stored_with_the_organisations_offset(triage) -> None:
    client, path, case = triage
    done = _post(client, path, TRIAGE)
    assert done.status_code == 302, _errors(done)
    assert _stored(case)["call_back_at"] == "2026-12-06T14:30:00+03:00"


def test_the_wall_time_is_drawn_again_after_another_fields_error(triage) -> None:
    client, path, case = triage
    wrong = _post(client, path, {**TRIAGE, "transactions.0.amount": "0"})
    assert wrong.status_code == 422
    shown = _field(wrong, "call_back_at")
    assert (shown.get("type"), shown.get("value")) == ("datetime-local", "2026-12-06T14:30")
    assert _field(wrong, "transactions.0.amount-error") is not None
    # Sent again as the browser shows it, it is the same instant.
    assert _post(client, path, {**TRIAGE, "call_back_at": shown.get("value")}).status_code == 302
    assert _stored(case)["call_back_at"] == "2026-12-06T14:30:00+03:00"


def test_a_value_with_its_own_offset_is_kept(triage) -> None:
    client, path, case = triage
    sent = {**TRIAGE, "call_back_at": "2026-12-06T09:00:00+01:00"}
    assert _post(client, path, sent).status_code == 302
    assert _stored(case)["call_back_at"] == "2026-12-06T09:00:00+01:00"


def test_nonsense_is_explained_and_every_answer_kept(triage) -> None:
    client, path, case = triage
    wrong = _post(client, path, {**TRIAGE, "call_back_at": "next tuesday"})
    assert wrong.status_code == 422
    error = _field(wrong, "call_back_at-error").text_content()
    assert "Enter a date and time." in error and "time zone" not in error
    shown = _field(wrong, "call_back_at")
    # A browser would blank "next tuesday" in a datetime-local input, so it is text.
    assert (shown.get("type"), shown.get("value")) == ("text", "next tuesday")
    assert _field(wrong, "transactions.0.merchant").get("value") == "Corner shop"
    assert open_task(case)[1] == "Triage complaint"


def test_an_impossible_time_is_explained_too(triage) -> None:
    client, path, _case = triage
    wrong = _post(client, path, {**TRIAGE, "call_back_at": "2026-02-30T25:00"})
    assert wrong.status_code == 422
    assert "Enter a date and time." in _field(wrong, "call_back_at-error").text_content()
    assert _field(wrong, "call_back_at").get("value") == "2026-02-30T25:00"


def test_a_stored_time_is_shown_on_the_organisations_clock(app_ctx: None) -> None:
    # Moving the organisation to London shows the Riyadh instant three hours earlier.
    row = db.session.get(BusinessCalendar, CALENDAR_ID) or BusinessCalendar(id=CALENDAR_ID)
    row.time_zone = "Europe/London"
    db.session.add(row)
    db.session.flush()
    fields = render_fields(SCHEMA, None, {"at": "2026-12-06T14:30:00+03:00"}, {},
                           zone=organisation_zone())
    page = lxml.html.fragment_fromstring(str(fields), create_parent="div")
    assert page.get_element_by_id("f-at").get("value") == "2026-12-06T11:30"
    assert parse_submission(SCHEMA, None, MultiDict({"at": "2026-12-06T11:30"}),
                            organisation_zone()) == {"at": "2026-12-06T11:30:00+00:00"}


@pytest.mark.parametrize(("sent", "kept"), [
    ("2026-07-01T08:05:30", "2026-07-01T08:05:30-04:00"),  # summer time, seconds kept
    ("2026-12-06 14:30", "2026-12-06T14:30:00-05:00"),  # a space, as a person types it
    ("2026-12-06T14:30Z", "2026-12-06T14:30Z"),  # an offset of its own
    ("2026-12-06", "2026-12-06"),  # a date alone is no time: left for validation
    ("2026-13-06T14:30", "2026-13-06T14:30"),  # no such month: left for validation
])
def test_only_a_wall_time_gets_the_zone(sent: str, kept: str) -> None:
    zone = ZoneInfo("America/New_York")
    assert parse_submission(SCHEMA, None, MultiDict({"at": sent}), zone) == {"at": kept}


def test_seconds_are_shown_and_the_browser_may_send_them_back() -> None:
    zone = ZoneInfo("America/New_York")
    fields = render_fields(SCHEMA, None, {"at": "2026-07-01T12:05:30Z"}, {}, zone=zone)
    page = lxml.html.fragment_fromstring(str(fields), create_parent="div")
    shown = page.get_element_by_id("f-at")
    assert (shown.get("value"), shown.get("step")) == ("2026-07-01T08:05:30", "any")
