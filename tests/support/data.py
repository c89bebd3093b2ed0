"""The values tests share: the people who act on cases and what they fill in at each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.services.actors import Actor

PASSWORD = "correct horse battery"  # every test account's

HANDLER = Actor("hana.handler", 101, frozenset({"handler"}))
OTHER_HANDLER = Actor("omar.handler", 102, frozenset({"handler"}))
SUPERVISOR = Actor("sara.supervisor", 201, frozenset({"supervisor"}))
AUDITOR = Actor("adel.auditor", 301, frozenset({"auditor"}))

INTAKE = {
    "complainant_name": "Layla Haddad",
    "complainant_email": "layla@example.com",
    "product_service": "Current account",
    "description": "I was charged twice for the same transfer on 3 March.",
    "remedy_sought": "Refund the duplicate charge",
    "consent": True,
}
ACK = {"acknowledgement_channel": "email", "acknowledgement_message": "We have your complaint."}
# Serious, not vulnerable, no regulator: triage.dmn gives priority "high".
ASSESS = {"in_scope": True, "category": "billing", "product": "other", "severity": "serious",
          "complexity": "simple",
          "vulnerable_customer": False, "regulator_involved": False,
          "immediate_action_needed": False}
INVESTIGATE = {"findings": "The transfer was booked twice.", "need_information": False}
ASK = {"findings": "Need the date.", "need_information": True,
       "question_to_complainant": "On which date did you make the transfer?"}
RESPOND = {"outcome": "upheld", "response": "We refunded the charge.", "remedy_offered": "Refund"}
REVIEW = {"review_outcome": "decision_confirmed", "review_note": "The decision stands."}
CLOSE = {"closure_reason": "accepted", "final_outcome": "upheld", "root_cause": "process",
         "corrective_action_needed": False}

# The public complaint form as a complainant fills it in (form fields are text).
PUBLIC_FORM = {"complainant_name": "Layla Haddad", "complainant_email": "layla@example.com",
               "description": "I was charged twice for one transfer.", "consent": "true"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"

# A Sunday, 12:00 in Riyadh: the default calendar works Sunday to Thursday, 08:00-16:00,
# and the default policy wants an acknowledgement within 1 working day.
START = "2026-05-03 09:00:00+00:00"
REMINDER = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)  # Monday 08:00 Riyadh: 4 working hours before
BREACH = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # Monday 12:00 Riyadh
SECOND = timedelta(seconds=1)
