"""The complainant's e-mails from the reference process arrive at a real SMTP server.

Acknowledgement when the complaint is filed, the decision when it is sent, and the
closing e-mail that invites them to rate the handling (the satisfaction survey).
"""

from __future__ import annotations

import re

from server.services import cases, outbox
from server.services.actors import Actor

from .support.cases import complete
from .support.data import ACK, ASSESS, CLOSE, INVESTIGATE
from .support.mail import MailServer, parts, use_smtp
from .support.web import file_complaint, form_token

DECISION = {"outcome": "partly_upheld", "response": "We refund the second charge of 120 SAR.",
            "remedy_offered": "Refund of 120 SAR"}


def test_acknowledgement_decision_and_survey_emails_reach_the_complainant(
        app, app_ctx, client, mail_server: MailServer) -> None:
    use_smtp(app, mail_server.port)
    reference, link = file_complaint(client)
    for bpmn_id, values in (("acknowledge", ACK), ("assess", ASSESS),
                            ("investigate", INVESTIGATE), ("respond", DECISION)):
        complete(reference, bpmn_id, values)
    # The complainant accepts on the tracking page; a handler closes the case.
    page = client.get(link).get_data(as_text=True)
    assert "Do you accept our response?" in page
    cases.send_message(reference, "complainant_response", {"accepted": True},
                       Actor.complainant())
    complete(reference, "close", CLOSE)
    assert outbox.deliver_due().sent == 3

    mails = {m["Subject"]: parts(m) for m in mail_server.received}
    assert all(reference in subject for subject in mails)
    ack, decision, closed = (next(body for subject, body in mails.items() if word in subject)
                             for word in ("received", "decision", "closed"))
    assert "http://127.0.0.1:5000" + link in ack["text/plain"]
    assert DECISION["response"] in decision["text/plain"]
    assert DECISION["response"] in decision["text/html"]
    # Later e-mails carry a signed link to the same page (only the token's hash is stored).
    assert "Please rate our handling" in closed["text/plain"]
    later = re.search(r"http://127\.0\.0\.1:5000(/track/\S+)", closed["text/plain"])
    assert later and later.group(1) != link
    assert reference in client.get(later.group(1)).get_data(as_text=True)
    assert [rcpt for _sender, rcpt in mail_server.envelopes] == [["layla@example.com"]] * 3
    # The survey itself is a form on the tracking page, answered without an account.
    page = client.get(link).get_data(as_text=True)
    assert "How did we handle your complaint?" in page
    token = link.rsplit("/", 1)[-1]
    sent = client.post(f"/track/{token}/complainant_rates",
                       data={"satisfaction": "5", "csrf_token": form_token(page)})
    assert sent.status_code == 302
    assert cases.case_data(cases.get_case(reference))["survey"]["satisfaction"] == 5
