"""The tracking link survives: the confirmation reloads, every complainant e-mail links to the
case, and a complainant who lost the link gets a new one at /track (the old one revoked)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import Case, CaseEvent, OutboxMessage, utcnow
from server.services import links, outbox, recovery

from .support.mail import messages
from .support.web import file_complaint, form_token

NEUTRAL = "If the reference and the e-mail address match a complaint"
_LINK = re.compile(r"http://127\.0\.0\.1:5000(/track/\S+)")


def ask(client, reference: str, email: str, **kwargs) -> object:
    """Send the /track form as a browser would."""
    page = client.get("/track").get_data(as_text=True)
    return client.post("/track", data={"reference": reference, "email": email,
                                       "csrf_token": form_token(page)}, **kwargs)


def link_in(row: OutboxMessage) -> str:
    """The tracking path an outbox row's e-mail carries once it is sent."""
    message = outbox.build_message(db.session.execute(select(OutboxMessage.__table__).where(
        OutboxMessage.id == row.id)).one())
    found = _LINK.search(message.get_body(("plain",)).get_content())
    assert found, "no tracking link in the e-mail"
    return found.group(1)


def test_the_confirmation_page_can_be_reloaded_in_the_same_browser(client) -> None:
    reference, link = file_complaint(client)
    for _ in range(2):
        page = client.get("/complaints/submitted").get_data(as_text=True)
        assert reference in page and link in page
        assert 'id="copy-tracking-link"' in page and "js/copy.js" in page
    other_browser = client.application.test_client()
    assert other_browser.get("/complaints/submitted").status_code == 302


def test_a_lost_link_is_sent_again_to_the_email_on_file_and_the_old_one_stops(
        client, app_ctx) -> None:
    reference, old = file_complaint(client)
    before = len(messages())
    answer = ask(client, reference.lower(), " Layla@Example.com ", follow_redirects=True)
    assert answer.status_code == 200 and NEUTRAL in answer.get_data(as_text=True)
    [sent] = messages(event="tracking_link")
    assert len(messages()) == before + 1
    assert sent.recipient == "layla@example.com" and reference in sent.subject
    assert "~tracking-token~" in sent.body_text  # the link is made only when it is sent
    new = link_in(sent)
    assert new != old and reference in client.get(new).get_data(as_text=True)
    assert client.get(old).status_code == 404
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)))
    assert "tracking.renewed" in kinds


def test_a_wrong_pair_gets_the_same_answer_and_no_email(client, app_ctx) -> None:
    reference, link = file_complaint(client)
    answers = [ask(client, ref, email, follow_redirects=True) for ref, email in (
        (reference, "someone.else@example.com"), ("CMP-2099-999999", "layla@example.com"))]
    assert messages(event="tracking_link") == []
    assert client.get(link).status_code == 200  # nothing was revoked
    answers.append(ask(client, reference, "layla@example.com", follow_redirects=True))
    texts = [re.sub(r'name="csrf_token" value="[^"]+"', "", a.get_data(as_text=True))
             for a in answers]
    assert texts[0] == texts[1] == texts[2] and NEUTRAL in texts[0]
    assert len(messages(event="tracking_link")) == 1  # only the matching pair sent one


def test_an_empty_field_is_explained_and_the_input_kept(client) -> None:
    answer = ask(client, "CMP-2026-000001", "")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Enter the e-mail address you gave with your complaint." in body
    assert 'value="CMP-2026-000001"' in body


def test_the_form_needs_its_csrf_token(client) -> None:
    sent = client.post("/track", data={"reference": "CMP-2026-000001", "email": "a@b.example"})
    assert sent.status_code == 400


def test_asking_too_often_for_one_reference_is_refused_for_a_while(client, app_ctx) -> None:
    reference, _link = file_complaint(client)
    for _ in range(recovery.PER_REFERENCE.limit):
        assert ask(client, reference, "nobody@example.com").status_code == 302
    refused = ask(client, reference, "layla@example.com")
    assert refused.status_code == 429 and "Too many requests" in refused.get_data(as_text=True)
    assert messages(event="tracking_link") == []  # the right pair came too late


def test_asking_too_often_from_one_address_is_refused(client) -> None:
    for number in range(recovery.PER_ADDRESS.limit):
        assert ask(client, f"CMP-2026-{number:06d}", "x@example.com").status_code == 302
    assert ask(client, "CMP-2026-000999", "x@example.com").status_code == 429
    other = client.application.test_client()
    assert ask(other, "CMP-2026-000999", "x@example.com",
               environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_later_emails_carry_a_signed_link_that_a_new_link_revokes(client, app_ctx) -> None:
    reference, _link = file_complaint(client)
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    signed = links.token_for(links.case_seed(case.id))
    assert "." in signed and reference in client.get(f"/track/{signed}").get_data(as_text=True)
    forged = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    assert client.get(f"/track/{forged}").status_code == 404
    expired = links.signed_token(case.id, now=utcnow() - timedelta(days=links.SIGNED_LINK_DAYS + 1))
    assert client.get(f"/track/{expired}").status_code == 404
    ask(client, reference, "layla@example.com")
    assert client.get(f"/track/{signed}").status_code == 404
