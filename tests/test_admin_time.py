"""The calendar and escalation pages: changes saved and logged, bad input kept and explained."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import CalendarDate, EscalationTarget, SystemEvent
from server.services import policy

from .support.web import post, submit, token

PAGES = ["/admin/calendar", "/admin/escalation"]
POSTS = ["/admin/calendar", "/admin/calendar/dates/holiday", "/admin/calendar/dates/1/remove",
         "/admin/escalation/acknowledge", "/admin/escalation/rows",
         "/admin/escalation/rows/1/remove"]
WEEK = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
PREVIEW = "/admin/calendar?at=2026-09-20T10:00"  # a Sunday in Riyadh



def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def deadlines(page: str) -> str:
    """The preview's deadlines as a person reads them."""
    return " ".join(re.sub(r"<[^>]+>", "", page.split('id="preview-deadlines"')[1]
                           .split("</ul>")[0]).split())


def feedback(page: str, field_id: str) -> str:
    """The error message shown under a field."""
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


def value_of(page: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}"[^>]*?value="([^"]*)"', page)
    assert match, f"no input {field_id}"
    return match.group(1)


def events(kind_prefix: str) -> list[SystemEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(SystemEvent).where(
        SystemEvent.kind.startswith(kind_prefix)).order_by(SystemEvent.id)))


def dubai_week() -> dict[str, str]:
    values = {"time_zone": "Asia/Dubai", "holiday_country": "AE", "holiday_subdivision": ""}
    for day in ("mon", "tue", "wed", "thu", "fri"):
        values.update({f"{day}_works": "1", f"{day}_opens": "07:30", f"{day}_closes": "15:30"})
    values["fri_closes"] = "12:00"
    return values


def target_fields(kind: str, **changes: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for row in policy.list_targets()[kind]:
        fields = {f: str(getattr(row, f)) for f in policy.FIELDS}
        fields.update(changes.get(row.priority, {}))
        values.update({f"t{row.id}_{f}": v for f, v in fields.items()})
    return values


@pytest.mark.parametrize("path", PAGES)
def test_only_administrators_reach_the_pages(client, auth, path: str) -> None:
    assert "/login" in client.get(path).headers["Location"]
    auth.login("hana", "handler", "supervisor")
    assert client.get(path).status_code == 403
    for target in POSTS:
        assert post(client, target, {"time_zone": "UTC"}).status_code == 403


def test_signed_out_posts_go_to_sign_in(client) -> None:
    for target in POSTS:
        response = post(client, target, {"time_zone": "UTC"})
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
        client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    response = client.post("/admin/calendar", data=dubai_week())
    assert response.status_code == 400
    assert 'value="Asia/Riyadh"' in client.get("/admin/calendar").get_data(as_text=True)
    response = client.post("/admin/calendar/dates/holiday",
                           data={"first_day": "2026-10-05", "name": "Eid"})
    assert response.status_code == 400 and not events("calendar.")


def test_an_admin_moves_the_calendar_to_dubai_and_the_change_is_logged(
        client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    response = submit(client, "/admin/calendar", dubai_week())
    assert response.status_code == 302
    page = text(client.get("/admin/calendar?at=2026-01-08T14:00"))  # a Thursday
    assert "The calendar was saved" in page
    assert value_of(page, "time_zone") == "Asia/Dubai"
    assert value_of(page, "fri_closes") == "12:00" and value_of(page, "sun_opens") == ""
    assert "National Day" in page and "public holidays of AE" in page
    # The Friday half day closes at 12:00, so one working day from Thursday 14:00 is then.
    assert "Acknowledgement by Friday 09 January 2026, 12:00" in deadlines(page)
    (logged,) = events("calendar.settings")
    data = json.loads(logged.data)
    assert logged.actor == "root"
    assert (data["before"]["time_zone"], data["after"]["time_zone"]) == ("Asia/Riyadh",
                                                                         "Asia/Dubai")
    assert data["before"]["week"]["sun"] == "08:00-16:00" and "sun" not in data["after"]["week"]
    assert data["after"]["week"]["fri"] == "07:30-12:00"
    assert "Asia/Riyadh" in page.split('id="changes"')[1]  # the recent changes show it


def test_bad_calendar_settings_are_kept_with_a_message_per_field(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    values = {**dubai_week(), "time_zone": "Mars/Olympus", "holiday_country": "XX",
              "mon_opens": "25:99", "tue_closes": "06:00", "wed_opens": ""}
    response = submit(client, "/admin/calendar", values)
    assert response.status_code == 422
    page = text(response)
    assert "Please correct the marked fields." in page
    assert "time zone from the list" in feedback(page, "time_zone")
    assert "country code XX" in feedback(page, "holiday_country")
    assert "24-hour clock" in feedback(page, "mon_opens")
    assert "after the opening time" in feedback(page, "tue_closes")
    assert "24-hour clock" in feedback(page, "wed_opens")
    assert value_of(page, "time_zone") == "Mars/Olympus"
    assert value_of(page, "holiday_country") == "XX"
    assert value_of(page, "mon_opens") == "25:99"
    assert 'id="fri_works" checked' in page and 'id="sun_works" checked' not in page
    none_works = submit(client, "/admin/calendar", {"time_zone": "Asia/Riyadh"})
    assert none_works.status_code == 422
    assert "at least one working weekday" in feedback(text(none_works), "week")
    wrong_region = submit(client, "/admin/calendar", {**dubai_week(), "holiday_country": "GB",
                                                     "holiday_subdivision": "XYZ"})
    assert "ENG" in feedback(text(wrong_region), "holiday_subdivision")
    assert not events("calendar.")


def test_a_custom_holiday_moves_the_preview_and_is_listed_with_its_source(
        client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    before = text(client.get(PREVIEW))
    assert "Acknowledgement by Monday 21 September 2026, 10:00" in deadlines(before)
    response = submit(client, "/admin/calendar/dates/holiday",
                      {"first_day": "2026-09-21", "last_day": "", "name": "Moved Eid"})
    assert response.status_code == 302
    page = text(client.get(PREVIEW))
    assert "Acknowledgement by Tuesday 22 September 2026, 10:00" in deadlines(page)
    row = page.split("Mon 2026-09-21")[1].split("</tr>")[0]
    assert "Moved Eid" in row and "custom" in row
    (logged,) = events("calendar.holiday")
    assert json.loads(logged.data) == {"before": None, "after": {
        "kind": "holiday", "first_day": "2026-09-21", "last_day": "2026-09-21", "opens": None,
        "closes": None, "name": "Moved Eid"}}

    entry = db.session.scalars(select(CalendarDate)).one()
    assert post(client, f"/admin/calendar/dates/{entry.id}/remove").status_code == 302
    page = text(client.get(PREVIEW))
    assert "Acknowledgement by Monday 21 September 2026, 10:00" in deadlines(page)
    assert json.loads(events("calendar.holiday")[-1].data)["after"] is None


def test_a_public_holiday_marked_as_a_working_day_counts_again(client, auth) -> None:
    auth.login("root", "admin")
    at = "/admin/calendar?at=2026-09-22T10:00"  # Tuesday before National Day
    assert "Acknowledgement by Thursday 24 September 2026, 10:00" in deadlines(text(client.get(at)))
    assert submit(client, "/admin/calendar/dates/working",
                  {"first_day": "2026-09-23"}).status_code == 302
    page = text(client.get(at))
    assert "Acknowledgement by Wednesday 23 September 2026, 10:00" in deadlines(page)
    assert "(worked)" in page.split("Wed 2026-09-23")[1].split("</tr>")[0]


def test_bad_dates_are_kept_with_a_message_per_field(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    response = submit(client, "/admin/calendar/dates/hours", {
        "first_day": "2026-03-10", "last_day": "2026-02-30", "opens": "15:00",
        "closes": "10:00", "name": "Ramadan"})
    assert response.status_code == 422
    page = text(response)
    assert "like 2026-03-21" in feedback(page, "hours-last_day")
    assert "after the opening time" in feedback(page, "hours-closes")
    assert value_of(page, "hours-last_day") == "2026-02-30"
    assert value_of(page, "hours-name") == "Ramadan"
    assert value_of(page, "holiday-first_day") == ""  # the other forms stay empty
    backwards = submit(client, "/admin/calendar/dates/holiday",
                       {"first_day": "2026-03-10", "last_day": "2026-03-01", "name": ""})
    page = text(backwards)
    assert "on or after the first day" in feedback(page, "holiday-last_day")
    assert "Name the holiday" in feedback(page, "holiday-name")
    weekend = submit(client, "/admin/calendar/dates/working", {"first_day": "2026-09-18"})
    assert "Friday" in feedback(text(weekend), "working-opens")
    submit(client, "/admin/calendar/dates/holiday", {"first_day": "2026-10-05", "name": "A"})
    twice = submit(client, "/admin/calendar/dates/holiday", {"first_day": "2026-10-05",
                                                            "name": "B"})
    assert "already an entry" in feedback(text(twice), "holiday-first_day")
    assert len(events("calendar.")) == 1


def test_garbage_posts_get_an_answer_not_a_crash(client, auth) -> None:
    auth.login("root", "admin")
    csrf = token(client, "/admin/calendar")
    garbage = client.post("/admin/calendar", data=b"\x00\xff{not json",
                          content_type="application/json", headers={"X-CSRFToken": csrf})
    assert garbage.status_code == 422
    huge = submit(client, "/admin/calendar", {"time_zone": "A" * 100_000, "mon_works": "1",
                                              "mon_opens": "08:00", "mon_closes": "16:00"})
    assert huge.status_code == 422
    assert post(client, "/admin/calendar/dates/nonsense", {"first_day": "x"}).status_code == 422
    assert post(client, "/admin/escalation/nonsense", {}).status_code == 422
    assert post(client, "/admin/calendar/dates/999/remove").status_code == 404
    assert post(client, "/admin/escalation/rows/999/remove").status_code == 404
    assert client.get("/admin/calendar?at=2026-99-99T99:99").status_code == 200
    assert "Enter a date and time" in text(client.get("/admin/escalation?at=yesterday"))


def test_an_admin_changes_the_acknowledgement_target(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    values = target_fields("acknowledge", any={"amount": "3"})
    response = submit(client, "/admin/escalation/acknowledge", values)
    assert response.status_code == 302
    page = text(client.get("/admin/escalation?at=2026-09-20T10:00"))
    assert "Saved: 1 row(s) changed." in page
    # Three working days from Sunday: Monday, Tuesday and (after National Day) Thursday.
    assert "Acknowledgement by Thursday 24 September 2026, 10:00" in deadlines(page)
    (logged,) = events("policy.")
    data = json.loads(logged.data)
    assert data["before"]["acknowledge/any/any"]["amount"] == 1
    assert data["after"]["acknowledge/any/any"]["amount"] == 3
    assert "We acknowledge your complaint within 3 working days." in text(client.get("/"))


def test_bad_targets_are_kept_with_a_message_per_field(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    rows = {r.priority: r.id for r in policy.list_targets()["acknowledge"]}
    values = target_fields("acknowledge", any={"amount": "-1"}, low={"amount": "abc"},
                           medium={"next_level_amount": "99999"},
                           high={"remind_unit": "fortnights"}, urgent={"amount": ""})
    response = submit(client, "/admin/escalation/acknowledge", values)
    assert response.status_code == 422
    page = text(response)
    for priority, field, kept in (("any", "amount", "-1"), ("low", "amount", "abc"),
                                  ("medium", "next_level_amount", "99999"),
                                  ("urgent", "amount", "")):
        field_id = f"t{rows[priority]}_{field}"
        assert "whole number" in feedback(page, field_id)
        assert value_of(page, field_id) == kept
    assert "working days, working hours" in feedback(page, f"t{rows['high']}_remind_unit")
    assert 'value="" selected>Choose' in page
    assert not events("policy.")


def test_a_category_row_is_added_refused_twice_and_removed(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    row = {"kind": "resolution", "priority": "any", "category": "privacy", "amount": "30",
           "unit": "calendar_days", "remind_amount": "5", "remind_unit": "calendar_days",
           "next_level_amount": "2", "next_level_unit": "working_days"}
    assert submit(client, "/admin/escalation/rows", row).status_code == 302
    page = text(client.get("/admin/escalation"))
    assert "Any priority · privacy" in page
    again = submit(client, "/admin/escalation/rows", {**row, "amount": "20"})
    assert again.status_code == 422
    assert "already a resolution row" in feedback(text(again), "row-category")
    assert value_of(text(again), "amount") == "20"
    missing = submit(client, "/admin/escalation/rows", {"kind": "resolution"})
    assert missing.status_code == 422
    for field in ("row-priority", "row-category", "amount", "unit"):
        feedback(text(missing), field)
    added = db.session.scalar(select(EscalationTarget).where(
        EscalationTarget.category == "privacy"))
    assert post(client, f"/admin/escalation/rows/{added.id}/remove").status_code == 302
    fallback = policy.list_targets()["resolution"][0]
    refused = post(client, f"/admin/escalation/rows/{fallback.id}/remove")
    assert refused.status_code == 422 and "priority rows" in text(refused)
    assert [e.kind for e in events("policy.")] == ["policy.row_added", "policy.row_removed"]


def test_the_preview_counts_from_now_by_default(client, auth) -> None:
    # Thursday 17 September 2026, 15:00 in Riyadh: one working day on is Sunday 15:00.
    with time_machine.travel(datetime(2026, 9, 17, 12, 0, tzinfo=UTC), tick=False):
        auth.login("root", "admin")
        page = text(client.get("/admin/calendar"))
    assert "received Thursday 17 September 2026, 15:00 (Asia/Riyadh)" in " ".join(
        re.sub(r"<[^>]+>", "", page).split())
    assert "Acknowledgement by Sunday 20 September 2026, 15:00" in deadlines(page)


def test_saving_the_calendar_unchanged_logs_nothing(client, auth, app_ctx) -> None:
    auth.login("root", "admin")
    values = {"time_zone": "Asia/Riyadh", "holiday_country": "SA"}
    for day in ("sun", "mon", "tue", "wed", "thu"):
        values.update({f"{day}_works": "1", f"{day}_opens": "08:00", f"{day}_closes": "16:00"})
    assert submit(client, "/admin/calendar", values).status_code == 302
    assert not events("calendar.")
