"""The Mailbox page: staff who record complaints see the e-mails kept for a person, read
them, download them as received, and make a case of them, add them to a case or discard them."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Attachment, Case, CaseEvent, InboundMail, SystemEvent
from server.services import inbound_mail
from server.services.inbound_mail import Fetched

from .support.data import PDF
from .support.web import AuthActions, file_complaint, form_token, post, submit

_uid = iter(range(1, 1000))


def kept(app: Flask, sender: str = "Omar Saleh <omar@example.org>",
         subject: str = "Fees on my account",
         body: str = "You took 50 SAR in fees I never agreed to.", html: bool = False,
         consent: bool = False) -> int:
    """Record an e-mail as the mailbox would; the intake form's consent makes it be kept."""
    message = EmailMessage()
    message["From"] = sender
    message["Subject"] = subject
    message.set_content(body, subtype="html" if html else "plain")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="fees.pdf")
    with app.app_context():
        app.config["PLAINT_MAILBOX_INTAKE_DEFAULTS"] = {"consent": True} if consent else {}
        raw = message.as_bytes()
        mail = inbound_mail.take(Fetched("INBOX", 7, next(_uid), len(raw), raw))
        return int(mail.id)


@pytest.fixture
def hana(auth: AuthActions, client: FlaskClient) -> FlaskClient:
    auth.login("hana", "handler")
    return client


def test_a_kept_email_is_listed_with_its_reason_and_counts(app: Flask, hana: FlaskClient) -> None:
    mail_id = kept(app)
    page = hana.get("/mailbox").get_data(as_text=True)
    assert f'id="mail-{mail_id}"' in page and "Fees on my account" in page
    assert "consent" in page  # why the intake form refused it
    assert 'id="count-held">1<' in page
    shown = hana.get(f"/mailbox/{mail_id}").get_data(as_text=True)
    assert "You took 50 SAR in fees I never agreed to." in shown
    assert "fees.pdf" in shown


def test_the_raw_email_is_a_download_never_a_page(app: Flask, hana: FlaskClient) -> None:
    mail_id = kept(app, body="<script>alert(1)</script><p>Hi</p>", html=True)
    answer = hana.get(f"/mailbox/{mail_id}/raw")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="mail-{mail_id}.eml"'
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>alert(1)</script>" in answer.data
    shown = hana.get(f"/mailbox/{mail_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in shown


def test_staff_make_a_case_from_a_kept_email_with_the_intake_form_prefilled(
        app: Flask, hana: FlaskClient) -> None:
    mail_id = kept(app)
    form = hana.get(f"/cases/new?channel=email&mail={mail_id}").get_data(as_text=True)
    assert 'value="omar@example.org"' in form and 'value="Omar Saleh"' in form
    assert "You took 50 SAR in fees" in form
    form_values = {"channel": "email", "complainant_name": "Omar Saleh",
                   "complainant_email": "omar@example.org", "mail": str(mail_id),
                   "description": "Fees on my account\n\nYou took 50 SAR in fees I never "
                                  "agreed to.", "consent": "true"}
    sent = submit(hana, f"/cases/new?channel=email&mail={mail_id}", form_values)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        mail = db.session.get(InboundMail, mail_id)
        assert (mail.outcome, mail.case_id, mail.handled_by) == ("case", case.id, "hana")
        assert case.channel == "email"
        assert db.session.scalar(select(Attachment.filename).where(
            Attachment.case_id == case.id)) == "fees.pdf"
    again = hana.post(f"/cases/new?channel=email&mail={mail_id}", data={
        **form_values, "csrf_token": form_token(form)})
    assert again.status_code == 409
    assert "no longer waiting for a person" in again.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Case)).all()) == 1


def test_staff_add_a_kept_email_to_a_case(app: Flask, hana: FlaskClient) -> None:
    reference, _link = file_complaint(hana)
    mail_id = kept(app, sender="cousin@example.net", subject=f"About {reference}",
                   body="My cousin also has the statement.")
    refused = post(hana, f"/mailbox/{mail_id}/add", {"reference": "CMP-1999-000001"})
    assert refused.status_code == 404 and "There is no case" in refused.get_data(as_text=True)
    added = post(hana, f"/mailbox/{mail_id}/add", {"reference": reference.lower()})
    assert added.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        event = db.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "message.received")).one()
        assert "My cousin also has the statement." in event.data and event.actor == "hana"
        assert db.session.get(InboundMail, mail_id).outcome == "added"
        assert "fees.pdf" in db.session.scalars(select(Attachment.filename).where(
            Attachment.case_id == case.id)).all()


def test_discarding_needs_a_reason_and_is_logged(app: Flask, hana: FlaskClient) -> None:
    mail_id = kept(app)
    refused = post(hana, f"/mailbox/{mail_id}/discard", {"reason": "  "})
    assert refused.status_code == 422
    assert "Say why the e-mail is discarded." in refused.get_data(as_text=True)
    done = post(hana, f"/mailbox/{mail_id}/discard", {"reason": "Spam about a lottery"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(InboundMail, mail_id).outcome == "discarded"
        logged = db.session.scalars(select(SystemEvent).where(
            SystemEvent.kind == "mail.discarded")).one()
        assert "Spam about a lottery" in logged.summary and logged.actor == "hana"
    again = post(hana, f"/mailbox/{mail_id}/discard", {"reason": "twice"})
    assert again.status_code == 409


def test_people_who_do_not_record_complaints_cannot_open_the_mailbox(
        app: Flask, auth: AuthActions, client: FlaskClient) -> None:
    mail_id = kept(app)
    auth.login("aisha", "auditor")
    assert client.get("/mailbox").status_code == 403
    assert client.get(f"/mailbox/{mail_id}/raw").status_code == 403


def test_the_page_says_when_no_mailbox_is_set(app: Flask, hana: FlaskClient) -> None:
    assert 'id="no-mailbox"' in hana.get("/mailbox").get_data(as_text=True)
    app.config["PLAINT_MAILBOX_HOST"] = "127.0.0.1"
    assert 'id="no-mailbox"' not in hana.get("/mailbox").get_data(as_text=True)
