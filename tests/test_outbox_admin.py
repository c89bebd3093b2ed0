"""The outbox page: administrators read every e-mail and send failed ones again; auditors read."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import insert, select, update

from server.extensions import db
from server.models import OutboxMessage, SystemEvent, utcnow

from .support.mail import deploy_notifying_process, free_port, messages, use_smtp
from .support.web import file_complaint, post

_SRCDOC = re.compile(r'srcdoc="([^"]*)"')


def test_without_a_mail_server_an_admin_sees_the_email_waiting(client, auth, app_ctx) -> None:
    deploy_notifying_process()
    reference, link = file_complaint(client, complainant_name="Layla <b>Haddad</b>")
    token = link.rsplit("/", 1)[1]
    admin = auth.signed_in("root", "admin")
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert 'id="no-smtp"' in page and "nothing is sent" in page
    assert f"We have received your complaint {reference}" in page
    assert "layla@example.com" in page and "Pending" in page
    [row] = messages()
    detail = admin.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "Dear Layla &lt;b&gt;Haddad&lt;/b&gt;," in detail  # the text part, escaped
    assert "<b>Haddad</b>" not in detail
    frame = html.unescape(_SRCDOC.search(detail).group(1))  # the HTML part, sandboxed
    assert '<iframe sandbox="" srcdoc=' in detail
    assert "Layla &lt;b&gt;Haddad&lt;/b&gt;" in frame  # escaped inside the e-mail too
    assert token not in detail  # the secret link never shows here
    assert "/track/~tracking-token~" in detail
    assert "Send again now" not in detail  # pending: nothing to send again


def test_status_filters_and_pages(client, auth, app_ctx) -> None:
    deploy_notifying_process()
    file_complaint(client)
    file_complaint(client, complainant_email="")  # held: no address
    now = utcnow()
    [first, _] = messages()
    db.session.execute(insert(OutboxMessage), [
        {"case_id": first.case_id, "event": "closed", "language": "en",
         "recipient_kind": "complainant", "recipient": f"old{i}@example.com",
         "subject": f"Old message {i}", "body_text": "Old", "body_html": "<p>Old</p>",
         "message_id": f"<old{i}@bank.example>", "status": "sent", "attempts": 1,
         "created_at": now, "sent_at": now} for i in range(55)])
    db.session.commit()
    admin = auth.signed_in("root", "admin")
    held = admin.get("/admin/outbox?status=held").get_data(as_text=True)
    assert "The complainant gave no e-mail address" in held and "Old message" not in held
    assert ">Held <span" in held and ">1</span>" in held
    newest = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Page 1 of 2" in newest and "Old message 54" in newest
    assert "We have received your complaint" not in newest  # the oldest are on page 2
    older = admin.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "We have received your complaint" in older and "Old message 54" not in older


@pytest.mark.parametrize("path", ["/admin/outbox?status=%3Cscript%3E&page=abc",
                                  "/admin/outbox?page=-3", "/admin/outbox?page=99999999999",
                                  "/admin/outbox?page=0&status="])
def test_nonsense_in_the_address_shows_the_first_page(client, auth, path: str) -> None:
    admin = auth.signed_in("root", "admin")
    page = admin.get(path)
    assert page.status_code == 200
    assert "<script>" not in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/outbox/0", "/admin/outbox/99999999999999999999",
                                  "/admin/outbox/12345", "/admin/outbox/x"])
def test_an_email_that_is_not_there_is_a_404(client, auth, path: str) -> None:
    admin = auth.signed_in("root", "admin")
    assert admin.get(path).status_code == 404
    assert post(admin, path + "/retry").status_code == 404


def test_an_admin_sends_a_failed_email_again(client, auth, app_ctx, mail_server, mailing) -> None:
    from server.services import outbox

    mail_server.rcpt_reply = "550 5.1.1 No such mailbox"
    file_complaint(client)
    outbox.deliver_due()
    [row] = messages()
    assert row.status == "failed"
    admin = auth.signed_in("root", "admin")
    detail = admin.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "550 5.1.1 No such mailbox" in detail and "Send again now" in detail

    refused = admin.post(f"/admin/outbox/{row.id}/retry")  # no CSRF token
    assert refused.status_code == 400
    assert messages()[0].status == "failed"

    mail_server.rcpt_reply = None  # the mailbox was fixed
    again = post(admin, f"/admin/outbox/{row.id}/retry")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/outbox/{row.id}")
    assert "will be sent again" in admin.get(again.headers["Location"]).get_data(as_text=True)
    [queued] = messages()
    assert (queued.status, queued.attempts) == ("pending", 0)
    db.session.rollback()
    event = db.session.scalar(select(SystemEvent).where(SystemEvent.kind == "outbox.retry"))
    assert event.actor == "root" and json.loads(event.data)["status"] == ["failed", "pending"]
    assert outbox.deliver_due().sent == 1 and len(mail_server.received) == 1

    sent_again = post(admin, f"/admin/outbox/{row.id}/retry")  # sent: nothing to do
    page = admin.get(sent_again.headers["Location"]).get_data(as_text=True)
    assert "only failed or held e-mails can be sent again" in page
    assert messages()[0].status == "sent"


def test_a_held_email_goes_once_the_complainant_has_an_address(client, auth, app_ctx) -> None:
    deploy_notifying_process()
    reference, _ = file_complaint(client, complainant_email="")
    [row] = messages()
    admin = auth.signed_in("root", "admin")
    still = post(admin, f"/admin/outbox/{row.id}/retry")
    assert "cannot be sent: The complainant gave no e-mail address" in admin.get(
        still.headers["Location"]).get_data(as_text=True)
    assert messages()[0].status == "held"
    from server.models import Case

    db.session.execute(update(Case).where(Case.reference == reference)
                       .values(complainant_email="layla@example.com"))
    db.session.commit()
    post(admin, f"/admin/outbox/{row.id}/retry")
    [queued] = messages()
    assert (queued.status, queued.recipient) == ("pending", "layla@example.com")


def test_an_auditor_reads_the_outbox_but_cannot_send_again(app, client, auth, app_ctx) -> None:
    deploy_notifying_process()
    use_smtp(app, free_port(), PLAINT_MAIL_MAX_ATTEMPTS=1)
    from server.services import outbox

    file_complaint(client)
    outbox.deliver_due()
    [row] = messages()
    assert row.status == "failed"
    auditor = auth.signed_in("adel", "auditor")
    assert auditor.get("/admin/outbox").status_code == 200
    detail = auditor.get(f"/admin/outbox/{row.id}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert "Could not reach the SMTP server" in body and "Send again now" not in body
    assert "Accounts" not in body  # no links to the pages auditors may not open
    assert post(auditor, f"/admin/outbox/{row.id}/retry").status_code == 403
    assert messages()[0].status == "failed"


@pytest.mark.parametrize("role", ["handler", "supervisor", "complaints_manager",
                                  "process_owner"])
def test_other_roles_are_refused_the_outbox(client, auth, app_ctx, role: str) -> None:
    deploy_notifying_process()
    file_complaint(client)
    [row] = messages()
    someone = auth.signed_in("someone", role)
    for path in ("/admin/outbox", f"/admin/outbox/{row.id}"):
        assert someone.get(path).status_code == 403, path
    assert post(someone, f"/admin/outbox/{row.id}/retry").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:
    page = client.get("/admin/outbox")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.post("/admin/outbox/1/retry").status_code in (302, 400)
