"""E-mails: written with the step that asks for them, sent over SMTP, retried, never twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import time_machine
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.engine import Notice
from server.extensions import db
from server.models import OutboxMessage, User, utcnow
from server.scheduler import TimerScheduler
from server.services import cases, inbox, links, notifications, outbox, timers
from server.services.actors import Actor
from server.services.recording import load_case

from .support.cases import ready_task
from .support.data import ACK, HANDLER, INTAKE
from .support.mail import (
    REPO,
    MailServer,
    deploy_notifying_process,
    free_port,
    messages,
    parts,
    staff,
    use_smtp,
)
from .support.wait import wait_for
from .support.web import file_complaint


def test_a_complaint_filed_on_the_portal_is_acknowledged_by_email(
        app, app_ctx, client, mail_server: MailServer, mailing) -> None:
    original_key = app.config["SECRET_KEY"]
    reference, link = file_complaint(client)
    [row] = messages()
    assert (row.event, row.recipient, row.status) == ("acknowledgement", "layla@example.com",
                                                      "pending")
    token = link.rsplit("/", 1)[1]
    # The database holds no link: a seed that only the server's secret key makes one of.
    stored = " ".join(str(getattr(row, c.key)) for c in OutboxMessage.__table__.columns)
    assert token not in stored and row.link_seed and links.token_for(row.link_seed) == token
    current_app.config["SECRET_KEY"] = "someone else's key"
    assert links.token_for(row.link_seed) != token
    current_app.config["SECRET_KEY"] = app.config["SECRET_KEY"] = original_key

    result = outbox.deliver_due()
    assert (result.claimed, result.sent, result.failed) == (1, 1, 0)
    [mail] = mail_server.received
    assert mail["Subject"] == f"We have received your complaint {reference}"
    assert mail["From"] == "Gulf Bank <complaints@bank.example>"
    assert mail["To"] == "Layla Haddad <layla@example.com>"
    assert mail["Message-ID"] == row.message_id and mail["Date"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    body = parts(mail)
    assert set(body) == {"text/plain", "text/html"}
    tracking_url = "http://127.0.0.1:5000" + link
    assert tracking_url in body["text/plain"]
    assert f'href="{tracking_url}"' in body["text/html"]
    assert "December 1, 2026" in body["text/plain"]  # data["expected_by"]
    assert "Customer sounds angry" not in body["text/plain"]  # internal data stays inside
    assert "Gulf Bank" in body["text/plain"]
    [sent] = messages()
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    assert sent.link_seed is None  # nothing of the link is kept once delivered
    assert outbox.deliver_due().claimed == 0  # sent once only


def test_a_complainant_who_chose_arabic_gets_the_arabic_email(
        app_ctx, client, mail_server: MailServer, mailing) -> None:
    reference, _ = file_complaint(client, preferred_language="ar")
    outbox.deliver_due()
    [mail] = mail_server.received
    assert mail["Subject"] == f"استلمنا شكواك رقم {reference}"
    assert b"Subject: =?utf-8?" in mail_server.raw[0]  # encoded for any mail server
    body = parts(mail)
    assert "شكرًا لإبلاغنا" in body["text/plain"]
    assert '<html lang="ar" dir="rtl">' in body["text/html"]
    assert messages()[0].language == "ar"


def test_without_a_mail_server_nothing_is_sent_and_the_email_waits(app_ctx, client) -> None:
    deploy_notifying_process()
    file_complaint(client)
    assert outbox.deliver_due().claimed == 0
    [row] = messages()
    assert row.status == "pending" and row.attempts == 0 and row.last_error is None
    assert "Layla Haddad" in row.body_text  # readable while it waits


def test_with_the_mail_server_down_an_email_is_retried_later_then_failed(
        app, app_ctx, client) -> None:
    deploy_notifying_process()
    use_smtp(app, free_port(), PLAINT_MAIL_MAX_ATTEMPTS=3)  # nothing listens there
    file_complaint(client)
    before = utcnow()
    assert outbox.deliver_due().retrying == 1
    [first] = messages()
    assert (first.status, first.attempts) == ("pending", 1)
    assert "Could not reach the SMTP server" in first.last_error
    assert 55 <= (first.next_attempt_at - before).total_seconds() <= 70  # 1 minute
    assert outbox.deliver_due().claimed == 0  # not due again yet

    with time_machine.travel(first.next_attempt_at + timedelta(seconds=1), tick=False):
        assert outbox.deliver_due().retrying == 1
        [second] = messages()
        wait = second.next_attempt_at - utcnow()
    assert second.attempts == 2 and timedelta(minutes=4) < wait <= timedelta(minutes=5)

    with time_machine.travel(second.next_attempt_at + timedelta(seconds=1), tick=False):
        assert outbox.deliver_due().failed == 1
    [last] = messages()
    assert (last.status, last.attempts, last.next_attempt_at) == ("failed", 3, None)
    assert "Could not reach the SMTP server" in last.last_error


def test_back_off_grows_five_fold_and_stops_growing_at_six_hours(app_ctx) -> None:
    assert [outbox.retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [
        60, 300, 1500, 7500]
    assert outbox.retry_delay(9) == timedelta(hours=6)


def test_a_permanent_refusal_fails_at_once(
        app_ctx, client, mail_server: MailServer, mailing) -> None:
    mail_server.rcpt_reply = "550 5.1.1 No such mailbox"
    file_complaint(client)
    assert outbox.deliver_due().failed == 1
    [row] = messages()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in row.last_error and "No such mailbox" in row.last_error
    assert mail_server.received == []


def test_a_temporary_refusal_is_tried_again_later(
        app_ctx, client, mail_server: MailServer, mailing) -> None:
    mail_server.data_reply = "451 4.3.0 Mailbox busy, try later"
    file_complaint(client)
    assert outbox.deliver_due().retrying == 1
    [row] = messages()
    assert row.status == "pending" and "451" in row.last_error
    mail_server.data_reply = None
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        assert outbox.deliver_due().sent == 1
    assert len(mail_server.received) == 1 and messages()[0].last_error is None


def test_three_deliverers_at_once_send_each_email_exactly_once(
        app, app_ctx, mail_server: MailServer, mailing) -> None:
    for number in range(30):
        cases.start_case({**INTAKE, "complainant_email": f"c{number}@example.com"}, "web",
                         HANDLER)
    mail_server.delay = 0.01
    results: list[outbox.DeliveryResult] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        with app.app_context():
            try:
                results.append(outbox.deliver_due(limit=4))
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.sent for r in results) == 30
    ids = [mail["Message-ID"] for mail in mail_server.received]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert {row.status for row in messages()} == {"sent"}


def test_an_email_claimed_by_another_deliverer_waits_for_its_lease(
        app, app_ctx, client, mail_server: MailServer) -> None:
    deploy_notifying_process()
    use_smtp(app, mail_server.port, PLAINT_SMTP_TIMEOUT=1.0)
    file_complaint(client)
    now = utcnow()
    assert len(outbox.claim_due(now, "crashed-deliverer", 10)) == 1  # then it died
    assert outbox.deliver_due().claimed == 0 and mail_server.received == []
    with time_machine.travel(now + timedelta(seconds=21), tick=False):  # lease: 1 s x 22
        assert outbox.deliver_due().claimed == 0
    with time_machine.travel(now + timedelta(seconds=23), tick=False):
        assert outbox.deliver_due().sent == 1
    assert len(mail_server.received) == 1


def test_an_email_exists_only_when_its_step_was_saved(app_ctx, monkeypatch) -> None:
    deploy_notifying_process()
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    task_id = ready_task(case.reference, "acknowledge")

    def disk_full(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", disk_full)
        with pytest.raises(OperationalError):
            cases.complete_task(case.reference, task_id, ACK, HANDLER)
    db.session.rollback()
    assert messages(event="decision") == []
    assert ready_task(case.reference, "acknowledge") == task_id  # the step is not there either
    cases.complete_task(case.reference, task_id, ACK, HANDLER)
    assert len(messages(event="decision")) == 1


def test_one_step_tells_the_complainant_and_the_staff_the_diagram_names(
        app_ctx, mail_server: MailServer, mailing) -> None:
    staff("sara", "supervisor")
    staff("sami", "supervisor", email=False)  # cannot be told: skipped
    staff("hana", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    cases.complete_task(case.reference, ready_task(case.reference, "acknowledge"), ACK, HANDLER)

    [decision] = messages(event="decision")
    assert decision.recipient == "layla@example.com" and decision.status == "pending"
    text = decision.body_text
    for said in ("We uphold your complaint in part.", "The transfer was booked twice.",
                 "We refund the second charge.", "Compensation: SAR\u00a050.00", "10 working days",
                 "the external dispute resolution body"):
        assert said in text, said
    for internal in ("goodwill", "Customer sounds angry"):
        assert internal not in text, internal

    [consult] = messages(event="consultation_requested")
    assert (consult.recipient, consult.recipient_kind) == ("sara@bank.example", "Supervisor")
    assert "Is a goodwill payment fair here?" in consult.body_text
    assert f"http://127.0.0.1:5000/cases/{case.reference}" in consult.body_text

    [escalated] = messages(event="escalated")
    assert escalated.status == "held" and escalated.recipient is None
    assert escalated.last_error == ("Nobody to send to: the role complaints_manager has no "
                                    "active account with an e-mail address.")

    assert outbox.deliver_due().sent == 3  # acknowledgement, decision, consultation
    assert sorted(m["To"] for m in mail_server.received) == [
        "Layla Haddad <layla@example.com>", "Layla Haddad <layla@example.com>",
        "Sara <sara@bank.example>"]
    assert messages(event="escalated")[0].status == "held"  # never sent


def test_a_reminder_goes_to_the_assignee_or_else_to_everyone_in_the_role(app_ctx) -> None:
    deploy_notifying_process()
    staff("hana", "handler")
    staff("omar", "handler")
    staff("nour", "handler", email=False)
    staff("gone", "handler")
    gone = db.session.scalar(select(User).where(User.username == "gone"))
    gone.active = False
    db.session.commit()
    held = cases.start_case(dict(INTAKE), "web", HANDLER).case
    open_ = cases.start_case(dict(INTAKE), "web", HANDLER).case
    hana = db.session.scalar(select(User).where(User.username == "hana"))
    inbox.claim(held.reference, ready_task(held.reference, "acknowledge"), Actor.for_user(hana))
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        assert timers.sweep().fired == 2
    reminders = messages(event="reminder")
    by_case: dict[int | None, list[str | None]] = {}
    for row in reminders:
        by_case.setdefault(row.case_id, []).append(row.recipient)
    assert by_case == {held.id: ["hana@bank.example"],
                       open_.id: ["hana@bank.example", "omar@bank.example"]}
    assert reminders[0].subject == f"Reminder: Acknowledge complaint for {held.reference}"
    assert "Hello Hana," in reminders[0].body_text


def test_a_complainant_without_an_email_address_is_held_for_staff_to_see(app_ctx, client) -> None:
    deploy_notifying_process()
    file_complaint(client, complainant_email="", complainant_phone="+966 50 000 0000")
    [row] = messages()
    assert row.status == "held" and row.recipient is None and row.next_attempt_at is None
    assert row.last_error == ("The complainant gave no e-mail address: contact them by phone "
                              "or letter instead.")
    assert "Layla Haddad" in row.body_text  # still written, to read out or post


def test_a_diagram_naming_a_missing_template_or_role_still_runs_and_says_why(app_ctx) -> None:
    deploy_notifying_process(closed="farewell", Supervisor="Legal team")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    cases.complete_task(case.reference, ready_task(case.reference, "acknowledge"), ACK, HANDLER)
    cases.complete_task(case.reference, ready_task(case.reference, "close"), ACK, HANDLER)
    db.session.rollback()
    assert not cases.get_case(case.reference).is_open
    [farewell] = messages(event="farewell")
    assert farewell.status == "held"
    assert farewell.last_error == ("There is no e-mail template farewell.en.txt: add "
                                   "server/templates/email/farewell.en.txt.")
    [consult] = messages(event="consultation_requested")
    assert consult.status == "held" and "notifyTo 'Legal team' on consult is neither a role " \
        "nor a lane mapped to one" in consult.last_error


def test_deliver_mail_command_sends_what_is_due(
        app, app_ctx, client, runner, mail_server: MailServer) -> None:
    deploy_notifying_process()
    file_complaint(client)
    waiting = runner.invoke(args=["deliver-mail"])
    assert "No SMTP server is set" in waiting.output and mail_server.received == []
    use_smtp(app, mail_server.port)
    sent = runner.invoke(args=["deliver-mail"])
    assert sent.exit_code == 0 and "Sent 1 e-mail(s)" in sent.output
    assert len(mail_server.received) == 1


def test_the_in_app_scheduler_sends_the_outbox(
        app, app_ctx, client, mail_server: MailServer) -> None:
    deploy_notifying_process()
    use_smtp(app, mail_server.port, PLAINT_MAIL_INTERVAL=0.2)
    file_complaint(client)
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        assert wait_for(lambda: len(mail_server.received) == 1, 30)
        file_complaint(client)  # a later one goes out at a later run
        assert wait_for(lambda: len(mail_server.received) == 2, 30)
    finally:
        scheduler.shutdown()
    assert scheduler.mailed == 2


def test_a_scheduler_process_configured_from_the_environment_sends_mail(
        app, app_ctx, client, mail_server: MailServer) -> None:
    deploy_notifying_process()
    file_complaint(client)
    environment = {**os.environ, "PLAINT_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "PLAINT_SECRET_KEY": "scheduler-test", "TZ": "UTC",
                   "PLAINT_SMTP_HOST": "127.0.0.1", "PLAINT_SMTP_PORT": str(mail_server.port),
                   "PLAINT_MAIL_SENDER": "complaints@bank.example"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "server", "scheduler", "--until-idle"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(mail_server.received) == 1
    assert mail_server.envelopes[0] == ("complaints@bank.example", ["layla@example.com"])


STAFF_EVENTS = {"reminder", "escalated", "consultation_requested", "nobody_eligible"}
# Templates about no case (the systemic-issue alert, the monthly review pack, the
# bulk-access alert) have tests of their own.
NOT_ABOUT_A_CASE = {"systemic_alert", "review_pack", "bulk_access"}
EVENTS = sorted({path.name.split(".")[0] for path in notifications.TEMPLATES.glob("*.txt")
                 if not path.name.startswith("_")} - NOT_ABOUT_A_CASE)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_template_renders_with_no_data_at_all(app, app_ctx, language: str) -> None:
    assert {"acknowledgement", "information_requested", "decision", "review_outcome",
            "referral", "closed", "reminder", "escalated", "consultation_requested",
            "out_of_scope", "reopened", "withdrawn"} <= set(EVENTS)
    deploy_notifying_process()
    staff("sara", "supervisor")
    app.config["PLAINT_STAFF_LANGUAGE"] = language
    case = cases.start_case({**INTAKE, "preferred_language": language}, "web", HANDLER).case
    record = load_case(case.reference)
    notices = [Notice(event, "Supervisor" if event in STAFF_EVENTS else "complainant",
                      "element", "Some task", "no-such-task", None, {}) for event in EVENTS]
    notifications.enqueue(record, notices, utcnow())
    rows = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.element == "element")))
    db.session.expunge_all()
    db.session.rollback()  # nothing committed: this only looks at the rendering
    assert sorted(row.event for row in rows) == EVENTS
    for row in rows:
        assert (row.status, row.language, row.last_error) == ("pending", language, None), row
        assert case.reference in row.subject, row.event
        for leftover in ("None", "Undefined", "{{", "{%", "[]", "{}"):
            assert leftover not in row.body_text, (row.event, leftover)
        assert row.body_html.startswith("<!doctype html>")


def test_the_reference_process_acknowledges_a_complaint_filed_on_the_portal(
        app, app_ctx, client, mail_server: MailServer) -> None:
    use_smtp(app, mail_server.port)
    reference, link = file_complaint(client, preferred_language="ar")
    [row] = messages(event="acknowledgement")
    assert row.recipient == "layla@example.com" and row.language == "ar"
    assert "نسعى إلى إبلاغك بقرارنا في موعد أقصاه" in row.body_text  # its expected_by
    assert outbox.deliver_due().sent >= 1
    [mail] = [m for m in mail_server.received if reference in m["Subject"]]
    assert "http://127.0.0.1:5000" + link in parts(mail)["text/plain"]
