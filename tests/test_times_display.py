"""Times in the organisation's zone with the zone named, never UTC; business-time figures.

The reference calendar is Riyadh's (UTC+3, Sunday to Thursday 08:00-16:00).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models import HumanTask
from server.services import cases, timers
from server.services.actors import Actor

from .support.cases import complete, decided
from .support.data import ACK, ASK, ASSESS, HANDLER, INTAKE
from .support.mail import messages, staff
from .support.web import file_complaint

RIYADH = ZoneInfo("Asia/Riyadh")
SUNDAY_9 = datetime(2026, 5, 3, 6, 0, tzinfo=UTC)  # Sunday 3 May 2026, 09:00 in Riyadh


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shown(at: datetime) -> str:
    """How a page writes an instant: local date and time, then the zone's city."""
    return f"{at.astimezone(RIYADH):%Y-%m-%d %H:%M} Riyadh"


def due_of(reference: str, bpmn_id: str) -> tuple[str, datetime]:
    """A ready task's id and due time, as now committed."""
    db.session.rollback()
    row = db.session.execute(select(HumanTask.task_id, HumanTask.due_at).join_from(
        HumanTask, cases.Case, HumanTask.case_id == cases.Case.id).where(
        cases.Case.reference == reference, HumanTask.bpmn_id == bpmn_id)).one()
    return row.task_id, row.due_at


def figure(page: str, name: str) -> str:
    """The text of one business-time figure on the case page."""
    found = re.search(rf'id="{name}">(.*?)</dd>', page, re.S)
    assert found, f"no {name} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_task_case_and_tracking_pages_show_riyadh_time_with_the_zone(
        client, auth, app_ctx) -> None:
    with time_machine.travel(SUNDAY_9, tick=False):
        reference, link = file_complaint(client)
        task_id, due = due_of(reference, "acknowledge")
        staff_client = auth.signed_in("hana", "handler")
        task_page = staff_client.get(f"/cases/{reference}/tasks/{task_id}").get_data(as_text=True)
        case_page = staff_client.get(f"/cases/{reference}").get_data(as_text=True)
        track_page = client.get(link).get_data(as_text=True)
    assert due.astimezone(RIYADH).hour != due.hour  # the two spellings differ
    assert shown(due) in task_page and "2026-05-03 09:00 Riyadh" in task_page
    assert "2026-05-03 09:00 Riyadh" in case_page and shown(due) in case_page
    assert f"Our next step is due by <time datetime=\"{due.isoformat()}\">{shown(due)}" \
        in track_page
    for page in (task_page, case_page, track_page):
        assert " UTC" not in page and "2026-05-03 06:00" not in page


def test_a_reminder_email_gives_the_due_time_in_riyadh_time(app_ctx) -> None:
    staff("hana", "handler")
    # Thursday 14:00 in Riyadh: acknowledgement due Sunday 14:00, reminded at 10:00.
    with time_machine.travel(utc(2026, 5, 7, 11, 0), tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        clock.move_to(utc(2026, 5, 10, 7, 0) + timedelta(seconds=1))
        assert timers.sweep().fired == 1
    [reminder] = messages(event="reminder")
    assert case.reference in reminder.subject
    assert "May 10, 2026 14:00 Riyadh" in reminder.body_text
    assert "11:00" not in reminder.body_text and "UTC" not in reminder.body_text


def test_the_case_page_shows_time_to_acknowledge_to_resolve_and_paused(auth, app_ctx) -> None:
    with time_machine.travel(SUNDAY_9, tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        page = auth.signed_in("hana", "handler").get(f"/cases/{case.reference}")
        body = page.get_data(as_text=True)
        assert figure(body, "time-to-acknowledge") == \
            "0 working hours so far: not acknowledged yet"
        clock.move_to(utc(2026, 5, 3, 8, 0))  # 11:00: two working hours later
        complete(case.reference, "acknowledge", ACK)
        complete(case.reference, "assess", ASSESS)
        clock.move_to(utc(2026, 5, 5, 12, 0))  # Tuesday 15:00: we ask the complainant
        complete(case.reference, "investigate", ASK)
        clock.move_to(utc(2026, 5, 6, 5, 30))  # Wednesday 08:30, still waiting on them
        waiting = auth.signed_in("omar", "handler").get(
            f"/cases/{case.reference}").get_data(as_text=True)
        clock.move_to(utc(2026, 5, 6, 6, 0))  # Wednesday 09:00: the answer comes in
        cases.send_message(case.reference, "complainant_information",
                           {"information": "On 3 March."}, Actor.complainant())
        clock.move_to(utc(2026, 5, 6, 7, 0))  # Wednesday 10:00
        later = auth.signed_in("nour", "handler").get(
            f"/cases/{case.reference}").get_data(as_text=True)
    assert figure(waiting, "time-to-acknowledge") == "2 working hours"
    # Sunday 09-16, Monday and Tuesday 8 h each, Wednesday 08:00-08:30.
    assert figure(waiting, "time-to-resolve") == \
        "23.5 working hours (2.9 working days) so far: not resolved yet"
    # Paused since Tuesday 15:00: one hour that day and half an hour on Wednesday.
    assert figure(waiting, "time-paused") == "Resolution clock: 1.5 working hours (paused now)"
    assert figure(later, "time-to-resolve") == \
        "25 working hours (3.1 working days) so far: not resolved yet"
    assert figure(later, "time-paused") == "Resolution clock: 2 working hours"
    assert "Riyadh time" in later


def test_the_letter_dates_the_complaint_by_the_day_in_riyadh(client, app_ctx) -> None:
    # 22:30 UTC on Monday 4 May is 01:30 on Tuesday 5 May in Riyadh.
    with time_machine.travel(utc(2026, 5, 4, 22, 30), tick=False):
        _reference, token = decided()
    letter = client.get(f"/track/{token}/letter").get_data(as_text=True)
    assert "which we received on 5 May 2026" in letter
