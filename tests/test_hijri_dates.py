"""The organisation can show the Hijri (Umm al-Qura) date beside the Gregorian one, on pages,
in e-mails and in decision letters, in English and in Arabic."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import BusinessCalendar, OutboxMessage
from server.services import localtime
from server.services.calendar import CALENDAR_ID

from .support.cases import drive, file_case
from .support.web import AuthActions, post
from .test_admin_time import dubai_week


def test_a_gregorian_day_reads_as_its_umm_al_qura_date_in_both_languages() -> None:
    assert localtime.hijri_date(date(2026, 5, 4), "en") == "17 Dhu al-Qa'dah 1447 AH"
    assert localtime.hijri_date(date(2026, 5, 4), "ar") == "17 ذو القعدة 1447 هـ"
    assert localtime.hijri_date(date(2026, 2, 18), "en") == "1 Ramadan 1447 AH"
    assert localtime.hijri_date(date(1900, 1, 1), "en") == ""  # before the tables: none
    stamp = localtime.stamp(datetime(2026, 5, 4, 5, 0, tzinfo=UTC),
                            localtime.zone_named("Asia/Riyadh"), "en", hijri=True)
    assert stamp == "2026-05-04 08:00 Riyadh (17 Dhu al-Qa'dah 1447 AH)"


def test_an_administrator_turns_hijri_dates_on_and_every_date_carries_one(
        client: FlaskClient, auth: AuthActions, app_ctx: None) -> None:
    admin = auth.signed_in("root", "admin")
    page = admin.get("/admin/calendar").get_data(as_text=True)
    assert 'name="show_hijri"' in page and "checked" not in page.split('name="show_hijri"')[1][:80]
    saved = post(admin, "/admin/calendar", {**dubai_week(), "show_hijri": "1"})
    assert saved.status_code == 302
    db.session.expire_all()
    row = db.session.get(BusinessCalendar, CALENDAR_ID)
    assert row is not None and row.show_hijri
    reference, token = file_case(preferred_language="ar")
    handler = auth.signed_in("hana", "handler")
    case_page = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert " AH)" in case_page
    drive(reference, lambda data: bool(data.get("outcome")))
    letter = client.get(f"/track/{token}/letter").get_data(as_text=True)
    assert " هـ)" in letter
    mails = db.session.scalars(select(OutboxMessage.body_text).where(
        OutboxMessage.language == "ar")).all()
    assert mails and any(" هـ)" in text for text in mails)
    post(admin, "/admin/calendar", dubai_week())
    assert " AH)" not in handler.get(f"/cases/{reference}").get_data(as_text=True)
