"""The systemic-issue alert: a category or product whose complaints rise beyond their recent
range is alerted once to the complaints managers, through the outbox; normal volume is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import SystemicAlert
from server.services import systemic

from .support.inserted import insert_case
from .support.mail import messages, staff

NOW = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
# Complaints in each of the 8 weeks before this one, most recent first: mean 3.75, and
# mean + 2 standard deviations is about 5.1.
USUAL = [3, 4, 3, 5, 4, 3, 4, 4]


def _weeks(category: str | None, this_week: int, product: str | None = None) -> None:
    """Insert a category's (or product's) complaints: this week's count, then USUAL."""
    for week, count in enumerate([this_week, *USUAL]):
        for n in range(count):
            at = NOW - timedelta(days=7 * week) - timedelta(hours=6 + 12 * n)
            insert_case(at, category=category, product=product)
    db.session.commit()


def _alerts() -> list[SystemicAlert]:
    db.session.rollback()
    return list(db.session.scalars(select(SystemicAlert).order_by(SystemicAlert.id)))


def test_a_rise_is_alerted_once_to_each_complaints_manager(app_ctx):
    staff("maha", "complaints_manager")
    staff("majid", "complaints_manager")
    staff("nomail", "complaints_manager", email=False)
    staff("sara", "supervisor")
    _weeks("billing", 12)   # well beyond its range
    _weeks("delay", 5)      # within it: 5 is not above 5.1
    raised = systemic.run(NOW)
    assert [(a.dimension, a.code, a.count) for a in raised] == [("category", "billing", 12)]
    sent = messages(event="systemic_alert")
    assert sorted(m.recipient for m in sent) == ["maha@bank.example", "majid@bank.example"]
    assert all(m.status == "pending" and m.case_id is None for m in sent)
    assert "Billing and charges" in sent[0].subject and "12" in sent[0].subject
    assert ", ".join(map(str, reversed(USUAL))) in sent[0].body_text  # oldest week first
    # The same rise, seen again the same day and the days after, is not alerted again.
    assert systemic.run(NOW) == []
    assert systemic.run(NOW + timedelta(days=1)) == []
    assert len(_alerts()) == 1
    assert len(messages(event="systemic_alert")) == 2


def test_normal_volume_raises_nothing(app_ctx):
    staff("maha", "complaints_manager")
    _weeks("billing", 4)
    _weeks("privacy", 1)
    assert systemic.run(NOW) == []
    assert _alerts() == [] and messages(event="systemic_alert") == []


def test_a_few_cases_of_a_new_code_are_not_a_systemic_issue(app_ctx):
    staff("maha", "complaints_manager")
    for n in range(4):  # nothing before, but fewer than PLAINT_SYSTEMIC_MIN_CASES
        insert_case(NOW - timedelta(hours=n + 1), category="other")
    db.session.commit()
    assert systemic.run(NOW) == []


def test_a_product_rise_is_alerted_in_the_staff_language_with_its_label(app, app_ctx):
    app.config["PLAINT_STAFF_LANGUAGE"] = "ar"
    staff("maha", "complaints_manager")
    _weeks(None, 9, product="other")
    raised = systemic.run(NOW)
    assert [(a.dimension, a.code) for a in raised] == [("product", "other")]
    (sent,) = messages(event="systemic_alert")
    assert sent.language == "ar" and "أخرى أو غير مدرجة" in sent.subject


def test_with_no_complaints_manager_to_write_to_the_alert_waits_with_the_reason(app_ctx):
    _weeks("billing", 12)
    assert len(systemic.run(NOW)) == 1
    (held,) = messages(event="systemic_alert")
    assert held.status == "held" and "complaints_manager" in held.last_error
