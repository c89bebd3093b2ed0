"""The golden data set: a few hundred cases with known outcomes, times, pauses, causes and
surveys, made through the services at known moments (time_machine), and beside it an
independent list of what each case must show.

`build(n)` needs an app context on an empty database holding the reference process. It
sets the working calendar to Sunday to Thursday, 08:00-16:00 Riyadh (05:00-13:00 UTC) with
no public holidays, so `working_hours` below can count business time on its own, and
returns one `Expected` per case. Each case i follows scenario `SCENARIOS[i % 6]`:

* "accepted": acknowledged, assessed, investigated, decided, accepted, closed, surveyed;
* "information": as accepted, but the handler asks the complainant first, who answers one
  working day later (the resolution clock stands still 8 working hours);
* "out_of_scope": assessed as out of scope (closed there);
* "withdrawn": acknowledged, then withdrawn by the complainant;
* "open": acknowledged and assessed, still under investigation; every other one of these
  (i % 12 == 4) is left until after its resolution deadline, when the diagram's overdue
  timer fires (resolution missed, escalation level 1);
* "escalated": not acknowledged in time: the acknowledgement deadline's timer fires
  (escalation level 1), the supervisor acknowledges, then as "accepted".

Cases are received on consecutive working days from RECEIVED_FROM (several a day) at
09:00, 10:00 or 11:00 Riyadh; the decision comes 1 to 8 working days after receipt, so some
miss the resolution target.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select, update

from server import create_app
from server.extensions import db
from server.models import Case, Timer
from server.models.calendar import BusinessCalendar
from server.services import cases, code_lists, policy, portal, timers
from server.services.actors import Actor

from .app import app_config, init_database
from .cases import complete
from .web import make_user

SCENARIOS = ("accepted", "information", "out_of_scope", "withdrawn", "open", "escalated")
RECEIVED_FROM = datetime(2026, 1, 4, 6, 0, tzinfo=UTC)  # Sunday 09:00 Riyadh
OPENS, CLOSES = 5, 13  # working hours in UTC (08:00-16:00 Riyadh)
WORKING_WEEKDAYS = (6, 0, 1, 2, 3)  # Sunday to Thursday
CATEGORIES = ("service_quality", "billing", "product_defect", "staff_conduct", "delay",
              "privacy", "other")
CAUSES = ("process", "system", "staff_error", "communication", "policy", "third_party",
          "customer_misunderstanding", "none_found")
OUTCOMES = ("upheld", "partly_upheld", "not_upheld")
# The products list's codes the handler picks at Assess, with the complainant's own words.
PRODUCTS = (("current_account", "Current account", "حساب جار"),
            ("credit_card", "Credit card", "بطاقة ائتمان"),
            ("mortgage", "Mortgage", "تمويل عقاري"),
            ("savings_account", "Savings account", "حساب ادخار"))
CHANNELS = ("web", "phone", "email", "letter")
HANDLERS = ("golden.handler1", "golden.handler2", "golden.handler3")


@dataclass
class Expected:
    """What one golden case must show, known from how it was made."""

    reference: str
    scenario: str
    received_at: datetime
    channel: str
    product_text: str  # the complainant's words on the intake form
    product: str | None = None  # the products list's code chosen at Assess
    category: str | None = None
    vulnerable: bool | None = None
    regulator: bool | None = None
    outcome: str | None = None
    cause: str | None = None
    remedy_amount: Decimal | None = None
    satisfaction: int | None = None
    acknowledged_at: datetime | None = None
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    paused_hours: float = 0.0
    escalation_level: int = 0
    reopen_count: int = 0
    is_open: bool = True
    # When a timer last fired on the case without its milestone (deadlines missed by then).
    overdue_fired_at: datetime | None = None
    owner: str | None = None  # the handler's username
    priority: str | None = None  # as triage.dmn set it (read from the case)
    # The resolution deadline: the policy's target for the priority, counted here by hand
    # from receipt, plus the paused hours; None for cases that never reach a decision.
    resolution_due: datetime | None = None
    steps: list[str] = field(default_factory=list)

    def hours(self, at: datetime | None, clock_paused: float = 0.0) -> float | None:
        """Working hours from receipt to `at`, less paused hours (None without `at`)."""
        if at is None:
            return None
        return round(max(0.0, working_hours(self.received_at, at) - clock_paused), 2)


def working_hours(start: datetime, end: datetime) -> float:
    """Working hours between two instants in the golden calendar, counted by hand."""
    total = 0.0
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        if day.weekday() in WORKING_WEEKDAYS:
            opens, closes = day + timedelta(hours=OPENS), day + timedelta(hours=CLOSES)
            low, high = max(opens, start), min(closes, end)
            if high > low:
                total += (high - low).total_seconds() / 3600
        day += timedelta(days=1)
    return total


def working_day(start: datetime, n: int) -> datetime:
    """The same clock time on the n-th working day after `start` (n=0: start itself)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() in WORKING_WEEKDAYS:
            n -= 1
    return day


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (start inside working hours)."""
    at, left = start, hours
    while True:
        closes = at.replace(hour=CLOSES, minute=0, second=0, microsecond=0)
        if at.weekday() in WORKING_WEEKDAYS and at < closes:
            room = (closes - at).total_seconds() / 3600
            if left <= room:
                return at + timedelta(hours=left)
            left -= room
        at = (at + timedelta(days=1)).replace(hour=OPENS, minute=0, second=0, microsecond=0)


def build(n: int = 240) -> list[Expected]:
    """Make `n` golden cases through the services; what each must show (app context needed)."""
    db.session.execute(update(BusinessCalendar).values(holiday_country=None))
    db.session.commit()
    staff = []
    for name in HANDLERS:
        make_user(name, "handler")
    make_user("golden.supervisor", "supervisor")
    db.session.commit()
    for code, english, arabic in PRODUCTS:
        code_lists.add("products", code_lists.EntryForm(code, english, arabic),
                       Actor.system("golden"))
    from server.models import User

    for name in HANDLERS:
        user = db.session.scalar(select(User).where(User.username == name))
        staff.append(Actor(name, user.id, frozenset({"handler"})))
    supervisor_id = db.session.scalar(select(User.id).where(
        User.username == "golden.supervisor"))
    supervisor = Actor("golden.supervisor", supervisor_id, frozenset({"supervisor"}))
    expected = []
    day = RECEIVED_FROM
    for i in range(n):
        if i and i % 3 == 0:
            day = working_day(day, 1)
        received = day + timedelta(hours=i % 3)
        exp = _one(i, received, staff[i % len(staff)], supervisor)
        exp.priority = db.session.scalar(select(Case.priority).where(
            Case.reference == exp.reference))
        expected.append(exp)
    return expected


def _one(i: int, received: datetime, handler: Actor, supervisor: Actor) -> Expected:
    """Make case i from `received` on, as its scenario says."""
    scenario = SCENARIOS[i % len(SCENARIOS)]
    channel = CHANNELS[i % len(CHANNELS)]
    code, text, _arabic = PRODUCTS[i % len(PRODUCTS)]
    exp = Expected(reference="", scenario=scenario, received_at=received, channel=channel,
                   product_text=text)
    with time_machine.travel(received, tick=False) as clock:
        reference = cases.start_case(
            {"complainant_name": f"Golden {i}", "complainant_email": f"golden{i}@example.com",
             "product_service": text, "description": f"Golden complaint {i}.",
             "consent": True}, channel, Actor.system("golden")).case.reference
        exp.reference = reference
        ack_by = handler
        if scenario == "escalated":
            clock.move_to(working_day(received, 1) + timedelta(hours=1))
            exp.escalation_level = _fire_due(reference)
            ack_task, ack_by = "acknowledge_escalated", supervisor
        else:
            clock.move_to(received + timedelta(hours=1))
            ack_task = "acknowledge"
        complete(reference, ack_task, {"acknowledgement_channel": "email",
                                         "acknowledgement_message": "We have it."}, ack_by)
        exp.acknowledged_at = _now()
        exp.owner = handler.name if ack_by is handler else None
        if scenario == "withdrawn":
            clock.move_to(received + timedelta(hours=2))
            answer(reference, "complainant_withdraws",
                    {"reason": "no_longer_needed", "confirm": True})
            exp.outcome, exp.is_open, exp.closed_at = "withdrawn", False, _now()
            return exp
        clock.move_to(exp.acknowledged_at + timedelta(hours=1))
        exp.category, exp.product = CATEGORIES[i % len(CATEGORIES)], code
        exp.vulnerable, exp.regulator = i % 7 == 0, i % 11 == 0
        in_scope = scenario != "out_of_scope"
        assess = {"in_scope": in_scope, "category": exp.category, "product": code,
                  "severity": ("minor", "moderate", "serious")[i % 3],
                  "complexity": "simple", "vulnerable_customer": exp.vulnerable,
                  "regulator_involved": exp.regulator, "immediate_action_needed": False}
        if not in_scope:
            assess["out_of_scope_reason"] = "Not a service of ours."
        complete(reference, "assess", assess, handler)
        exp.responded_at = _now()
        if exp.owner is None:
            exp.owner = handler.name
        if not in_scope:
            exp.outcome, exp.is_open, exp.closed_at = "out_of_scope", False, _now()
            return exp
        if scenario == "open":
            if i % 12 == 4:
                clock.move_to(working_day(received, 12))
                exp.escalation_level = _fire_due(reference)
                exp.overdue_fired_at = _now()
            return exp
        _decide(i, scenario, reference, received, handler, clock, exp)
    return exp


def _deadline(exp: Expected, kind: str) -> datetime:
    """A deadline of the case counted by hand from the policy's target (amount and unit)."""
    target = policy.target_for(kind, priority=exp.priority, category=exp.category)
    if target.unit == "working_days":
        return working_day(exp.received_at, target.amount)
    if target.unit == "working_hours":
        return add_working_hours(exp.received_at, target.amount)
    raise AssertionError(f"golden cases count {target.unit} targets by hand: add it")


def _decide(i: int, scenario: str, reference: str, received: datetime, handler: Actor,
            clock: Any, exp: Expected) -> None:
    """Investigate (asking the complainant first, for "information"), decide, close, survey."""
    # Half past: no step lands exactly on a deadline (whole hours of receipt).
    first = working_day(received, 1).replace(hour=6, minute=30)
    clock.move_to(first)
    if scenario == "information":
        complete(reference, "investigate", {
            "findings": "Need the date.", "need_information": True,
            "question_to_complainant": "When did it happen?"}, handler)
        clock.move_to(working_day(first, 1))
        answer(reference, "complainant_information", {"information": "On 3 March."})
        exp.paused_hours = working_hours(first, _now())
        clock.move_to(_now() + timedelta(minutes=90))
    complete(reference, "investigate", {"findings": "Booked twice.",
                                        "need_information": False}, handler)
    respond_ready = _now()
    decided = working_day(received, 1 + i % 8).replace(hour=7 + i % 5)
    clock.move_to(max(decided, _now() + timedelta(minutes=30)))
    outcome = OUTCOMES[i % len(OUTCOMES)]
    amount = Decimal((i * 37) % 400) if outcome != "not_upheld" else Decimal(0)
    complete(reference, "respond", {"outcome": outcome, "response": "Our decision.",
                                    "remedy_offered": "Refund",
                                    "compensation_amount": int(amount)}, handler)
    exp.resolved_at = _now()
    exp.priority = db.session.scalar(select(Case.priority).where(Case.reference == reference))
    exp.resolution_due = add_working_hours(_deadline(exp, "resolution"), exp.paused_hours) \
        if exp.paused_hours else _deadline(exp, "resolution")
    # Time jumps between steps, so the diagram's resolution-overdue timer on the decision
    # fires only if the decision task became ready after the deadline (it starts already
    # due); a decision made late within one jump cancels it unfired.
    if respond_ready > exp.resolution_due:
        exp.escalation_level = max(exp.escalation_level, 1)
    clock.move_to(_now() + timedelta(minutes=30))
    answer(reference, "complainant_response", {"accepted": True})
    clock.move_to(_now() + timedelta(minutes=30))
    # The closing outcome can differ from the decision's: the later one is reported.
    exp.outcome = OUTCOMES[(i // 2) % len(OUTCOMES)]
    exp.cause = CAUSES[i % len(CAUSES)]
    complete(reference, "close", {"closure_reason": "accepted", "final_outcome": exp.outcome,
                                  "root_cause": exp.cause,
                                  "corrective_action_needed": False}, handler)
    exp.closed_at, exp.is_open = _now(), False
    exp.remedy_amount = amount.quantize(Decimal("0.01"))
    if i % 4 != 3:  # one in four does not answer the survey
        clock.move_to(_now() + timedelta(hours=2))
        exp.satisfaction = 1 + i % 5
        answer(reference, "complainant_rates", {"satisfaction": exp.satisfaction,
                                                 "kept_informed": True})


def _now() -> datetime:
    return datetime.now(UTC)


def answer(reference: str, message: str, values: dict[str, Any]) -> None:
    """The complainant answers the question the case asks with this message."""
    case = cases.get_case(reference)
    question = next(q for q in portal.questions(case) if q["message"] == message)
    portal.answer(case, question, values)


def _fire_due(reference: str) -> int:
    """Fire this case's due timers only (other golden cases' timers stay as they are)."""
    case_id = db.session.scalar(select(Case.id).where(Case.reference == reference))
    db.session.execute(update(Timer).where(Timer.case_id == case_id, Timer.due_at <= _now())
                       .values(claimed_by="golden", claimed_until=_now() + timedelta(hours=1)))
    db.session.commit()
    timers.fire_case(case_id, "golden")
    return 1


@dataclass(frozen=True)
class GoldenSet:
    """The golden database file (a template: copy it before writing) and what it must show."""

    path: Path
    expected: list[Expected]

    def by_reference(self) -> dict[str, Expected]:
        """The expected values of each case, by its reference."""
        return {e.reference: e for e in self.expected}


GOLDEN_CASES = 240


@pytest.fixture(scope="session")
def golden_set(tmp_path_factory: pytest.TempPathFactory) -> GoldenSet:
    """The golden data set on SQLite, built once per test session."""
    path = tmp_path_factory.mktemp("golden") / "golden.db"
    init_database(f"sqlite:///{path}")
    app = create_app(app_config(f"sqlite:///{path}"))
    with app.app_context():
        expected = build(GOLDEN_CASES)
        db.session.remove()
        db.engine.dispose()
    return GoldenSet(path, expected)


@pytest.fixture
def golden_app(golden_set: GoldenSet, tmp_path: Path) -> Iterator[Flask]:
    """An app on a fresh copy of the golden database, its app context pushed."""
    target = tmp_path / "golden.db"
    shutil.copy(golden_set.path, target)
    app = create_app(app_config(f"sqlite:///{target}"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
