"""The management-review pack by e-mail each month: the people a complaints manager names
receive last month's pack, attached, once a month, through the outbox and a real SMTP
server; bad recipients are refused with a message that says what to fix."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from server.extensions import db
from server.models import SystemEvent
from server.services import outbox, pack_schedule
from server.services.actors import Actor
from tests.support.mail import MailServer, messages, parts, staff, use_smtp
from tests.support.pdf import pdf_text
from tests.support.report_rows import Row, insert
from tests.support.web import AuthActions, form_token

SCHEDULE = "/reports/pack/schedule/"
RIYADH = ZoneInfo("Asia/Riyadh")
MARCH = [Row("2026-03-02T09:00", closed="2026-03-09T09:00", response_on_target=True,
             satisfaction=5, cause="delay", outcome="upheld"),
         Row("2026-03-03T09:00", closed="2026-03-10T09:00", response_on_target=False,
             satisfaction=3, cause="delay", outcome="not_upheld")]
MANAGER = Actor.system("maha")


def _local(day: date, hour: int = 9) -> datetime:
    """An instant at a local hour of a day in the organisation's zone."""
    return datetime.combine(day, time(hour), RIYADH).astimezone(UTC)


def _attachments(message: object) -> dict[str, bytes]:
    """The files of a received e-mail, by name."""
    return {part.get_filename(): part.get_content()  # type: ignore[attr-defined]
            for part in message.iter_attachments()}  # type: ignore[attr-defined]


def _packs(server: MailServer) -> list[Any]:
    """The e-mails received that carry the pack."""
    return [m for m in server.received if m["Subject"].startswith(("Management-review",
                                                                   "حزمة"))]


def _recipients_table(page: str) -> str:
    """The recipients table of the schedule page."""
    return page.partition('id="pack-recipients"')[2].partition("</table>")[0]


def _name(form: dict[str, object], by: Actor = MANAGER) -> None:
    pack_schedule.add(pack_schedule.RecipientForm(**form), by)  # type: ignore[arg-type]


def test_the_pack_of_last_month_arrives_attached_once_a_month(
        app: Flask, app_ctx: None, mail_server: MailServer) -> None:
    use_smtp(app, mail_server.port)
    insert(MARCH)
    staff("maha", "complaints_manager")
    _name({"username": "maha", "language": "en", "formats": ["pdf", "xlsx"]})
    _name({"email": "board@bank.example", "language": "ar", "formats": ["pdf"]})
    first = pack_schedule.first_working_day(2026, 4)
    assert first.month == 4 and first.weekday() not in (4, 5)  # not a Friday or Saturday
    sent = pack_schedule.run(_local(first))
    assert sent is not None and sent.month == "2026-03"
    outbox.deliver_due()  # the cases' own e-mails go too
    by_address = {m["To"].addresses[0].addr_spec: m for m in _packs(mail_server)}
    assert sorted(by_address) == ["board@bank.example", "maha@bank.example"]
    english = by_address["maha@bank.example"]
    assert "March 2026" in english["Subject"]
    files = _attachments(english)
    assert sorted(files) == ["management-review-2026-03-01_2026-03-31-en.pdf",
                             "management-review-2026-03-01_2026-03-31-en.xlsx"]
    pdf = files["management-review-2026-03-01_2026-03-31-en.pdf"]
    assert pdf.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf).split())
    assert "Period: 2026-03-01 to 2026-03-31" in text
    assert "Cause: delay · Complaints closed: 2" in text
    book = load_workbook(io.BytesIO(files["management-review-2026-03-01_2026-03-31-en.xlsx"]))
    assert book.worksheets[0].title.startswith("KPIs")
    body = parts(english)["text/plain"]
    assert "for March 2026 (2026-03-01 to 2026-03-31)" in body
    assert "/reports/pack?from=2026-03-01&to=2026-03-31" in body
    for leftover in ("None", "Undefined", "{{", "{%"):
        assert leftover not in body
    arabic = by_address["board@bank.example"]
    assert "مراجعة" in arabic["Subject"]
    assert list(_attachments(arabic)) == ["management-review-2026-03-01_2026-03-31-ar.pdf"]
    # Later the same month, and again on another scheduler: nothing more is sent.
    assert pack_schedule.run(_local(first, 15)) is None
    assert pack_schedule.run(_local(date(2026, 4, 28))) is None
    assert outbox.deliver_due().sent == 0
    assert len(_packs(mail_server)) == 2
    assert [m.status for m in messages(event="review_pack")] == ["sent", "sent"]


def test_nothing_is_sent_before_the_first_working_day(app_ctx: None) -> None:
    staff("maha", "complaints_manager")
    _name({"username": "maha", "language": "en", "formats": ["pdf"]})
    # 1 May 2026 is a Friday, the weekend in the default calendar: the pack waits for Sunday.
    assert pack_schedule.first_working_day(2026, 5) == date(2026, 5, 3)
    assert pack_schedule.run(_local(date(2026, 5, 1))) is None
    assert pack_schedule.run(_local(date(2026, 5, 2))) is None
    assert messages(event="review_pack") == []
    sent = pack_schedule.run(_local(date(2026, 5, 3)))
    assert sent is not None and sent.month == "2026-04"
    assert len(messages(event="review_pack")) == 1


def test_with_nobody_named_nothing_is_sent(app_ctx: None) -> None:
    assert pack_schedule.run(_local(date(2026, 4, 1))) is None
    assert messages(event="review_pack") == []


def test_a_manager_names_recipients_and_bad_ones_are_refused(auth: AuthActions,
                                                             app_ctx: None) -> None:
    staff("nomail", "handler", email=False)
    staff("hana", "handler")
    manager = auth.signed_in("maha", "complaints_manager")
    page = manager.get(SCHEDULE)
    assert page.status_code == 200
    token = form_token(page.get_data(as_text=True))

    def add(**values: object) -> tuple[int, str]:
        answer = manager.post(SCHEDULE + "recipients",
                              data={"csrf_token": token, "language": "en", **values})
        return answer.status_code, answer.get_data(as_text=True)

    status, body = add(email="board@bank", formats="pdf")
    assert status == 422
    assert "is not an e-mail address: type one like name@example.com" in body
    assert 'value="board@bank"' in body  # the input is kept
    status, body = add(username="nomail", formats="pdf")
    assert status == 422 and "nomail has no e-mail address" in body
    status, body = add(email="board@bank.example")
    assert status == 422 and "Choose PDF, XLSX or both." in body
    status, body = add(formats="pdf")
    assert status == 422 and "Choose a member of staff or type an e-mail address" in body
    status, body = add(email="board@bank.example", formats="xlsx", language="fr")
    assert status == 422 and "Choose English or Arabic." in body
    status, _ = add(email="board@bank.example", formats=["pdf", "xlsx"])
    assert status == 302
    status, body = add(email="Board@Bank.example", formats="pdf")
    assert status == 422 and "already receives the pack" in body
    assert add(username="hana", formats="pdf")[0] == 302
    listed = _recipients_table(manager.get(SCHEDULE).get_data(as_text=True))
    assert "board@bank.example" in listed and "hana@bank.example" in listed
    assert "PDF, XLSX" in listed
    db.session.rollback()
    kinds = [e.kind for e in db.session.scalars(
        select(SystemEvent).where(SystemEvent.kind.startswith("pack_schedule.")))]
    assert kinds == ["pack_schedule.added", "pack_schedule.added"]
    (hana,) = [r for r in pack_schedule.recipients() if r.name == "Hana"]
    removed = manager.post(SCHEDULE + f"recipients/{hana.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert "hana@bank.example" not in _recipients_table(
        manager.get(SCHEDULE).get_data(as_text=True))
    db.session.rollback()
    assert db.session.scalar(select(SystemEvent.summary).where(
        SystemEvent.kind == "pack_schedule.removed")) == "Review pack recipient removed: hana"


def test_send_now_tries_the_schedule_without_using_up_the_month(
        app: Flask, auth: AuthActions, app_ctx: None, mail_server: MailServer) -> None:
    use_smtp(app, mail_server.port)
    manager = auth.signed_in("maha", "complaints_manager")
    token = form_token(manager.get(SCHEDULE).get_data(as_text=True))
    refused = manager.post(SCHEDULE + "send-now", data={"csrf_token": token},
                           follow_redirects=True)
    assert "Nobody receives the pack yet: add a recipient first." in \
        refused.get_data(as_text=True)
    manager.post(SCHEDULE + "recipients", data={"csrf_token": token, "language": "en",
                                                "email": "board@bank.example",
                                                "formats": "xlsx"})
    answer = manager.post(SCHEDULE + "send-now", data={"csrf_token": token},
                          follow_redirects=True)
    assert "on its way to 1 recipients" in answer.get_data(as_text=True)
    assert outbox.deliver_due().sent == 1
    (received,) = mail_server.received
    (name,) = _attachments(received)
    assert name.endswith("-en.xlsx")
    assert pack_schedule.runs() == []  # the month's own sending is still to come
    (message,) = messages(event="review_pack")
    outbox_page = auth.signed_in("aziz", "auditor").get(f"/admin/outbox/{message.id}")
    assert "management-review-" in outbox_page.get_data(as_text=True).partition(
        'id="attached"')[2].partition("</dd>")[0]


def test_only_those_who_manage_actions_see_the_schedule(auth: AuthActions) -> None:
    for role in ("auditor", "handler", "admin", "supervisor"):
        assert auth.signed_in(f"someone-{role}", role).get(SCHEDULE).status_code == 403
    manager = auth.signed_in("maha", "complaints_manager")
    assert "Send the pack every month by e-mail" in \
        manager.get("/reports/pack").get_data(as_text=True)
