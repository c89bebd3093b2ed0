"""The data-subject request diagram on the engine alone, in memory and saved between steps:
every ending, and the statutory deadline's reminder and escalation at each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from .support.process import Driver, round_trip, runtime

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
REQUEST = {"name": "Layla Haddad", "email": "layla@example.com", "phone": None,
           "request_kind": "erasure", "identity_check": "ID at the branch", "reason": None}
CONFIRMED = {"identity": "confirmed", "identity_note": "ID seen."}


class RequestDriver(Driver):
    """A driver whose workflow is a data-subject request, started by its message."""

    def __init__(self, round_trip: bool) -> None:
        self.rt = runtime()
        self.round_trip = round_trip
        message = self.rt.starter_of("data_request")
        assert message is not None
        self.workflow, self.snapshot = self.rt.start_process(
            self.rt.starters[message], {}, message, dict(REQUEST))
        self.sizes = [len(self.rt.dump(self.workflow))]


def ended_as(d: RequestDriver) -> str | None:
    """The status the request closed with (None while it is open)."""
    return d.snapshot.status_label if "closed" in d.snapshot.reached else None


@round_trip
def test_a_request_whose_identity_is_not_confirmed_is_refused(round_trip: bool) -> None:
    d = RequestDriver(round_trip)
    assert d.ready() == ["verify_identity"]
    assert d.snapshot.data["request"]["email"] == "layla@example.com"
    d.complete("verify_identity", {"identity": "not_confirmed", "identity_note": "No ID."})
    assert (d.ready(), ended_as(d)) == ([], "Closed: identity not confirmed")


@round_trip
def test_each_decision_closes_the_request_its_own_way(round_trip: bool) -> None:
    for decision, status in (("export", "Closed: copy provided"),
                             ("erase", "Closed: data erased"),
                             ("refuse", "Closed: refused")):
        d = RequestDriver(round_trip)
        d.complete("verify_identity", CONFIRMED)
        assert d.ready() == ["decide_request"]
        d.complete("decide_request", {"decision": decision, "decision_note": "Done.",
                                      "refusal_reason": "A lawsuit is pending."})
        assert (d.ready(), ended_as(d)) == ([], status), decision


@round_trip
def test_the_statutory_deadline_reminds_and_escalates_at_either_step(round_trip: bool) -> None:
    with time_machine.travel(START, tick=False) as clock:
        d = RequestDriver(round_trip)
        # tests/support/process.py: a 720-hour target, the reminder 8 hours before it.
        clock.shift(timedelta(hours=712, seconds=1))
        assert d.fire() == ["verify_reminder"]
        assert [(n.template, n.recipient) for n in d.snapshot.notices] == [
            ("reminder", "assignee")]
        clock.shift(timedelta(hours=8))
        assert d.fire() == ["verify_overdue"]
        assert [(n.template, n.recipient) for n in d.snapshot.notices] == [
            ("escalated", "Complaints manager")]
        assert d.ready() == ["verify_identity"]  # the step goes on, flagged
        assert d.snapshot.ready[0].flag == "Statutory deadline passed"
        d.complete("verify_identity", CONFIRMED)
        # Already past the deadline: the decision's reminder and escalation fire at once.
        assert d.ready() == ["decide_request"]
        assert d.snapshot.ready[0].flag == "Statutory deadline passed"
        d.complete("decide_request", {"decision": "export", "decision_note": "Sent."})
        assert d.ready() == []
