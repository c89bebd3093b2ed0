"""Complaints by e-mail: a real Dovecot mailbox read over IMAP becomes cases, information on
cases, ignored mail, or mail kept for a person, and nothing is read twice."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.config import ConfigError, from_environment
from server.extensions import db
from server.models import Attachment, Case, CaseEvent, InboundMail
from server.scheduler import TimerScheduler
from server.services import mailbox, outbox
from server.services.timers import worker_name

from .support.imap import ImapServer
from .support.mail import MailServer, use_smtp
from .support.wait import wait_for

SENDER = "Layla Haddad <layla@example.org>"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def email(subject: str = "My card was charged twice",
          body: str = "On 3 May my card was charged twice for one purchase at your branch.",
          sender: str = SENDER, **headers: str) -> EmailMessage:
    """A message as a complainant's mail program would send it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@bank.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
def reading(app: Flask, app_ctx: None, mailbox: ImapServer, mail_server: MailServer) -> ImapServer:
    """The app reads the test mailbox and sends its e-mails to the test SMTP server."""
    use_smtp(app, mail_server.port)
    app.config.update(mailbox.settings(PLAINT_MAILBOX_IDLE=False))
    return mailbox


def run_job(app: Flask) -> None:
    """One run of the scheduler's mailbox job, as the scheduler makes it."""
    TimerScheduler(app)._read_mailbox()
    db.session.rollback()


def records() -> list[InboundMail]:
    db.session.rollback()
    return list(db.session.scalars(select(InboundMail).order_by(InboundMail.id)))


def cases() -> list[Case]:
    db.session.rollback()
    return list(db.session.scalars(select(Case).order_by(Case.id)))


def test_an_email_becomes_a_case_and_the_sender_gets_the_acknowledgement(
        app: Flask, reading: ImapServer, mail_server: MailServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    [case] = cases()
    assert case.channel == "email"
    assert case.complainant_name == "Layla Haddad"
    assert case.complainant_email == "layla@example.org"
    assert case.description.startswith("My card was charged twice\n\nOn 3 May my card")
    [record] = records()
    assert (record.outcome, record.case_id) == ("case", case.id)
    assert record.raw and b"charged twice" in record.raw
    assert all(b"\\Seen" in flags for flags in reading.flags().values())
    assert outbox.deliver_due().sent >= 1
    [ack] = [m for m in mail_server.received if case.reference in str(m["Subject"])]
    assert ack["To"].addresses[0].addr_spec == "layla@example.org"


def test_a_reply_to_the_acknowledgement_is_added_to_the_same_case(
        app: Flask, reading: ImapServer, mail_server: MailServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    outbox.deliver_due()
    [case] = cases()
    [ack] = mail_server.received
    reply = email(subject=f"Re: {ack['Subject']}",
                  body="I found the receipt, it shows both charges.\n\n"
                       f"On Monday you wrote:\n> {case.reference}",
                  In_Reply_To=str(ack["Message-ID"]))
    reply.add_attachment(PDF, maintype="application", subtype="pdf", filename="receipt.pdf")
    reading.append(reply.as_bytes())
    run_job(app)
    assert len(cases()) == 1
    assert [r.outcome for r in records()] == ["case", "added"]
    event = db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "message.received")).one()
    assert "I found the receipt, it shows both charges." in event.data
    assert "On Monday you wrote" not in event.data
    assert db.session.scalar(select(Attachment.filename).where(
        Attachment.case_id == case.id)) == "receipt.pdf"


def test_a_reply_from_someone_else_is_kept_for_a_person(
        app: Flask, reading: ImapServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    [case] = cases()
    reading.append(email(subject=f"Re: {case.reference.lower()}", body="I am not the complainant.",
                         sender="mallory@example.net").as_bytes())
    run_job(app)
    held = records()[-1]
    assert held.outcome == "held" and "not the complainant" in (held.reason or "")
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "message.received")) == 0


@pytest.mark.parametrize("headers, sender, why", [
    ({"Auto_Submitted": "auto-replied"}, SENDER, "Auto-Submitted"),
    ({"Precedence": "bulk"}, SENDER, "Precedence"),
    ({}, "MAILER-DAEMON@mx.example.org", "mail system"),
    ({}, "complaints@bank.example", "our own address"),
])
def test_auto_replies_bounces_and_our_own_mail_are_ignored(
        app: Flask, reading: ImapServer, headers: dict[str, str], sender: str,
        why: str) -> None:
    reading.append(email(subject="Out of office", sender=sender, **headers).as_bytes())
    run_job(app)
    [record] = records()
    assert record.outcome == "ignored" and why in (record.reason or "")
    assert cases() == []


def test_a_delivery_report_and_our_own_message_id_are_ignored(
        app: Flask, reading: ImapServer, mail_server: MailServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    outbox.deliver_due()
    reading.append(mail_server.raw[0])  # our acknowledgement, come back to us
    report = EmailMessage()
    report["From"] = "postmaster@mx.example.org"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.make_mixed()
    report.set_type("multipart/report")
    reading.append(report.as_bytes())
    run_job(app)
    assert [r.outcome for r in records()] == ["case", "ignored", "ignored"]
    assert "own Message-ID" in (records()[1].reason or "")
    assert len(cases()) == 1


def test_an_html_only_email_is_converted_to_text(app: Flask, reading: ImapServer) -> None:
    message = email()
    message.set_content(
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
        "<body><p>The ATM at Olaya kept my card &amp; my cash.</p>"
        "<p>Please refund&nbsp;500 SAR.</p></body></html>", subtype="html")
    reading.append(message.as_bytes())
    run_job(app)
    [case] = cases()
    assert "The ATM at Olaya kept my card & my cash." in case.description
    assert "Please refund 500 SAR." in case.description
    assert "alert" not in case.description and "color" not in case.description
    assert "<" not in case.description


def test_attachments_are_kept_and_a_refused_one_is_noted(
        app: Flask, reading: ImapServer) -> None:
    message = email()
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="statement.pdf")
    message.add_attachment(b"MZ\x90\x00 not a document", maintype="application",
                           subtype="octet-stream", filename="run-me.exe")
    reading.append(message.as_bytes())
    run_job(app)
    [case] = cases()
    names = list(db.session.scalars(select(Attachment.filename).where(
        Attachment.case_id == case.id)))
    assert names == ["statement.pdf"]
    [record] = records()
    assert record.outcome == "case" and "run-me.exe" in (record.reason or "")


def test_a_broken_or_senderless_message_is_kept_for_a_person(
        app: Flask, reading: ImapServer) -> None:
    reading.append(b"Content-Type: multipart/mixed; boundary=zz\r\nFrom: a@example.org\r\n"
                   b"Subject: broken\r\n\r\n--zz\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   b"!!!!\r\n")
    nobody = email()
    del nobody["From"]
    reading.append(nobody.as_bytes())
    run_job(app)
    assert [r.outcome for r in records()] == ["held", "held"]
    assert "broken" in (records()[0].reason or "")
    assert "no sender" in (records()[1].reason or "")
    assert records()[0].raw is not None
    assert cases() == []


def test_an_email_the_intake_form_refuses_is_kept_for_a_person(
        app: Flask, reading: ImapServer) -> None:
    app.config["PLAINT_MAILBOX_INTAKE_DEFAULTS"] = {}  # nobody ticks the consent box
    reading.append(email().as_bytes())
    run_job(app)
    [record] = records()
    assert record.outcome == "held" and "consent" in (record.reason or "")
    assert cases() == []


def test_running_twice_makes_one_case(app: Flask, reading: ImapServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    run_job(app)
    assert len(cases()) == 1 and len(records()) == 1


def test_a_crash_between_recording_and_flagging_makes_no_second_case(
        app: Flask, reading: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    reading.append(email().as_bytes())

    def crash(*args: object) -> None:
        raise ConnectionResetError("the connection dropped")

    monkeypatch.setattr(mailbox, "mark_done", crash)
    with pytest.raises(ConnectionResetError):
        mailbox.read_mailbox(worker_name())
    assert len(cases()) == 1
    assert all(b"\\Seen" not in flags for flags in reading.flags().values())  # still new
    monkeypatch.undo()
    run_job(app)
    assert len(cases()) == 1 and len(records()) == 1
    assert all(b"\\Seen" in flags for flags in reading.flags().values())


def test_recorded_mail_is_moved_to_the_done_folder_when_one_is_set(
        app: Flask, reading: ImapServer) -> None:
    with reading.client() as client:
        client.create_folder("Plaint")
    app.config["PLAINT_MAILBOX_DONE_FOLDER"] = "Plaint"
    reading.append(email().as_bytes())
    run_job(app)
    assert reading.flags("INBOX") == {}
    assert len(reading.flags("Plaint")) == 1 and len(cases()) == 1


def test_only_one_reader_at_a_time(app: Flask, reading: ImapServer) -> None:
    assert mailbox.hold_lease("other-process")
    reading.append(email().as_bytes())
    result = mailbox.read_mailbox(worker_name())
    assert result.busy and cases() == []
    mailbox.release_lease("other-process", None)
    assert mailbox.read_mailbox(worker_name()).cases == 1


def test_the_scheduler_reads_new_mail_at_once_through_idle(
        app: Flask, reading: ImapServer) -> None:
    app.config.update(PLAINT_MAILBOX_IDLE=True, PLAINT_MAILBOX_INTERVAL=3600.0)
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        # the first run at start-up finds nothing; the next comes only through IDLE
        assert wait_for(lambda: scheduler._watcher is not None and
                        scheduler._watcher.supported is True, 30)
        reading.append(email().as_bytes())
        assert wait_for(lambda: len(cases()) == 1, 30)
    finally:
        scheduler.shutdown()
    assert not scheduler._watcher._thread.is_alive()


def test_the_cli_reads_the_mailbox(app: Flask, reading: ImapServer) -> None:
    reading.append(email().as_bytes())
    done = app.test_cli_runner().invoke(args=["read-mailbox"])
    assert done.exit_code == 0, done.output
    assert "1 new case(s)" in done.output
    assert len(cases()) == 1


def test_a_reply_found_by_in_reply_to_alone_is_added_to_its_case(
        app: Flask, reading: ImapServer, mail_server: MailServer) -> None:
    reading.append(email().as_bytes())
    run_job(app)
    outbox.deliver_due()
    [ack] = mail_server.received
    reading.append(email(subject="Re: my complaint", body="Here is the date: 3 May.",
                         In_Reply_To=str(ack["Message-ID"])).as_bytes())
    run_job(app)
    assert [r.outcome for r in records()] == ["case", "added"]
    assert records()[1].case_id == cases()[0].id


def test_plain_imap_is_refused_for_a_server_that_is_not_this_machine(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {"PLAINT_MAILBOX_HOST": "imap.bank.example",
                        "PLAINT_MAILBOX_TLS": "plain", "PLAINT_MAILBOX_USER": "complaints"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="only to this machine"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("PLAINT_MAILBOX_TLS", "starttls")
    assert from_environment(str(tmp_path))["PLAINT_MAILBOX_TLS"] == "starttls"


def test_a_message_over_the_size_limit_keeps_only_its_header_for_a_person(
        app: Flask, reading: ImapServer) -> None:
    app.config["PLAINT_MAILBOX_MAX_BYTES"] = 2048
    big = email(body="A very long complaint. " * 500)
    reading.append(big.as_bytes())
    run_job(app)
    [record] = records()
    assert record.outcome == "held" and "over the limit" in (record.reason or "")
    assert (record.sender, record.subject) == ("layla@example.org", "My card was charged twice")
    assert record.raw and b"Subject: My card was charged twice" in record.raw
    assert b"A very long complaint." not in record.raw
    assert cases() == []
    assert len(reading.flags()) == 1  # still in the mailbox


def test_without_idle_the_scheduler_polls_at_its_interval(
        app: Flask, reading: ImapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    offered = mailbox.IMAPClient.has_capability
    monkeypatch.setattr(mailbox.IMAPClient, "has_capability",
                        lambda client, name: name != "IDLE" and offered(client, name))
    app.config.update(PLAINT_MAILBOX_IDLE=True, PLAINT_MAILBOX_INTERVAL=0.5)
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        assert wait_for(lambda: scheduler._watcher.supported is False, 30)
        assert wait_for(lambda: not scheduler._watcher._thread.is_alive(), 30)
        reading.append(email().as_bytes())
        assert wait_for(lambda: len(cases()) == 1, 30)
    finally:
        scheduler.shutdown()
