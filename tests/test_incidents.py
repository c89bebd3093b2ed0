"""Timers that cannot spin, and incidents instead of stalls.

Deploy refuses the timers and loops the files show would spin a case; what only running
shows stops that case as an incident; a failing case never holds the others back, is
shown to those who handle incidents, and an administrator retries it after the fix.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from lxml import etree
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import func, select, update

from server.engine import BundleError, EngineError, ProcessRuntime, RunLimits, load_bundle
from server.errors import DeployRefused
from server.extensions import db
from server.models import (
    Case,
    CaseEvent,
    EscalationTarget,
    HumanTask,
    Incident,
    Timer,
    utcnow,
)
from server.scheduler import TimerScheduler
from server.services import audit, cases, incidents, processes, timers
from server.services.actors import Actor

from .support.data import BREACH, HANDLER, INTAKE, SECOND, START
from .support.process import bundle, reference_bpmn, resolve, runtime, with_bpmn
from .support.web import make_user, post, sign_in

# These tests call the services and the engine directly, in the test's app context.
pytestmark = pytest.mark.usefixtures("app_ctx")

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"')
FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"note": {"type": "string"}}}


def flow(source: str, target: str, condition: str | None = None) -> str:
    """A sequence flow, conditional when given a condition."""
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition \
        else ""
    return (f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" '
            f'targetRef="{target}">{body}</bpmn:sequenceFlow>')


def work(task_id: str, name: str = "Check the complaint") -> str:
    """A user task a handler works, with a form."""
    return (f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements>'
            "<spiffworkflow:properties>"
            '<spiffworkflow:property name="formJsonSchemaFilename" value="work.json" />'
            '<spiffworkflow:property name="candidateRole" value="handler" />'
            "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>")


def script(task_id: str, name: str, code: str = "count = count + 1") -> str:
    return f'<bpmn:scriptTask id="{task_id}" name="{name}"><bpmn:script>{code}</bpmn:script>' \
        "</bpmn:scriptTask>"


def timer(kind: str, expression: str) -> str:
    """A timer event definition: kind is timeDuration, timeCycle or timeDate."""
    return f"<bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}>" \
        "</bpmn:timerEventDefinition>"


def boundary(event_id: str, name: str, on: str, definition: str,
             interrupting: bool = True) -> str:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return (f'<bpmn:boundaryEvent id="{event_id}" name="{name}" attachedToRef="{on}"{cancel}>'
            f"{definition}</bpmn:boundaryEvent>")


def files(*elements: str) -> dict[str, bytes]:
    """A bundle of one process made of `elements`, and the user tasks' form."""
    body = "".join(elements)
    xml = (f'<bpmn:definitions {NS} id="Defs" targetNamespace="http://test">'
           f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process>'
           "</bpmn:definitions>")
    return {"p.bpmn": xml.encode(), "work.json": json.dumps(FORM).encode()}


def refused(bundle_files: dict[str, bytes], **kwargs: Any) -> list[str]:
    """The deploy issues of a bundle, as "element: message"."""
    with pytest.raises(BundleError) as caught:
        load_bundle(bundle_files, resolve, **kwargs)
    return [f"{issue.element_id}: {issue.message}" for issue in caught.value.issues]


START_WORK = ('<bpmn:startEvent id="start"/>' + work("check") + '<bpmn:endEvent id="end"/>'
              + flow("start", "check") + flow("check", "end"))


def with_tick(expression: str, interrupting: bool = False) -> dict[str, bytes]:
    """The handler's task with a cycle timer on its boundary that writes a note."""
    return files(START_WORK,
                 boundary("tick", "Chase the handler", "check", timer("timeCycle", expression),
                          interrupting),
                 script("note", "Note the chase"), '<bpmn:endEvent id="noted"/>',
                 flow("tick", "note"), flow("note", "noted"))


# -- Deploy refuses what the files show ------------------------------------------------------

def test_a_cycle_timer_of_zero_seconds_is_refused_at_deploy_naming_it() -> None:
    [issue] = refused(with_tick('"R/PT0S"'))
    assert issue == ("tick: the timer 'Chase the handler' repeats every 0 s: a cycle timer must "
                     "wait at least 60 s between repeats (PLAINT_MIN_TIMER_PERIOD)")


def test_a_one_second_cycle_timer_is_refused_and_the_minimum_is_a_setting() -> None:
    [issue] = refused(with_tick('"R/PT1S"', interrupting=True))
    assert issue.startswith("tick: the timer 'Chase the handler' repeats every 1 s")
    assert "PLAINT_MIN_TIMER_PERIOD" in issue
    assert refused(with_tick('"R5/PT30M"'), min_timer_period=3600.0) == [
        "tick: the timer 'Chase the handler' repeats every 1800 s: a cycle timer must wait at "
        "least 3600 s between repeats (PLAINT_MIN_TIMER_PERIOD)"]
    bundle(with_tick('"R/PT1M"'))  # a minute is enough


PT1S_LOOP = files('<bpmn:startEvent id="start"/>', script("note", "Write a note"),
                  '<bpmn:intermediateCatchEvent id="wait" name="Wait a moment">'
                  + timer("timeDuration", '"PT1S"') + "</bpmn:intermediateCatchEvent>",
                  flow("start", "note"), flow("note", "wait"), flow("wait", "note"))


def test_a_one_second_timer_loop_is_refused_naming_the_timer_and_the_loop() -> None:
    [issue] = refused(PT1S_LOOP)
    assert issue == ("wait: the timer 'Wait a moment' waits only 1 s and the flow loops back to "
                     "it ('Wait a moment' → 'Write a note' → 'Wait a moment'): a loop must wait "
                     "at least 60 s (PLAINT_MIN_TIMER_PERIOD) for a timer, or wait for a person "
                     "or a message")


def test_a_short_boundary_timer_that_loops_back_to_its_task_is_refused() -> None:
    # The task waits for a person, but the timer takes the case round every second anyway.
    looped = files(START_WORK, boundary("nag", "Nag", "check", timer("timeDuration", '"PT1S"')),
                   flow("nag", "check"))
    [issue] = refused(looped)
    assert issue.startswith("nag: the timer 'Nag' waits only 1 s and the flow loops back to it "
                            "('Nag' → 'Check the complaint' → 'Nag')")


SCRIPT_CYCLE = files(
    '<bpmn:startEvent id="start"/>', script("add", "Add interest"),
    script("check", "Check the total", "done = count > 5000"),
    '<bpmn:exclusiveGateway id="again" name="Again?" default="f_again_end"/>',
    '<bpmn:endEvent id="end"/>',
    flow("start", "add"), flow("add", "check"), flow("check", "again"),
    flow("again", "add", "not done"), flow("again", "end"))


def test_a_cycle_of_script_tasks_is_refused_naming_its_elements() -> None:
    [issue] = refused(SCRIPT_CYCLE)
    assert issue == ("add: the flow loops through 'Add interest' → 'Check the total' → "
                     "'Again?' → 'Add interest' without waiting for a person, a message or a "
                     "timer, so a case would run round it without end: put a user task, a "
                     "message or a timer of at least 60 s on the loop")


@pytest.mark.parametrize("wait", [
    work("review", "Review"),
    '<bpmn:intermediateCatchEvent id="review"><bpmn:messageEventDefinition /></bpmn:'
    "intermediateCatchEvent>",
    '<bpmn:intermediateCatchEvent id="review">' + timer("timeDuration", '"PT1H"')
    + "</bpmn:intermediateCatchEvent>",
    # Computed: deploy cannot know it; the run checks it (below).
    '<bpmn:intermediateCatchEvent id="review">' + timer("timeDuration", "pause")
    + "</bpmn:intermediateCatchEvent>",
], ids=["user-task", "message", "hour-timer", "computed-timer"])
def test_a_loop_that_waits_deploys(wait: str) -> None:
    bundle(files('<bpmn:startEvent id="start"/>', script("add", "Add interest"), wait,
                 '<bpmn:exclusiveGateway id="again" default="f_again_end"/>',
                 '<bpmn:endEvent id="end"/>', flow("start", "add"), flow("add", "review"),
                 flow("review", "again"), flow("again", "add", "count &lt; 3"),
                 flow("again", "end")))


def test_the_studio_refuses_a_one_second_reminder_cycle_and_keeps_the_active_version(app) -> None:
    active = processes.active_version_id()
    text = reference_bpmn().replace(
        '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">reminder("acknowledge")</bpmn:timeDate>',
        '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">"R/PT1S"</bpmn:timeCycle>')
    with pytest.raises(DeployRefused) as caught:
        processes.deploy(with_bpmn(text), Actor.system("test"))
    [issue] = caught.value.issues
    assert issue.element_id == "acknowledgement_reminder"
    assert "repeats every 1 s" in issue.message
    assert processes.active_version_id() == active


# -- Run time stops what only running shows -------------------------------------------------

def within(seconds: float, fn: Callable[[], Any]) -> Any:
    """Run `fn` in a thread and return what it returned or raised, failing if it hangs."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s: it spins instead of stopping"
    return outcome[0]


def test_a_computed_zero_second_cycle_stops_the_intake_run_instead_of_hanging_it() -> None:
    # "R/PT0S" written so that deploy cannot read it: the first run meets it.
    engine = runtime(with_tick('"R/PT" + "0S"'))
    failure = within(30, lambda: engine.start({"count": 0}))
    assert isinstance(failure, EngineError)
    assert failure.element_id == "tick"
    assert "the timer 'Chase the handler' (tick) would repeat every 0 s" in str(failure)


def test_a_loop_deploy_cannot_see_is_stopped_after_the_step_limit() -> None:
    # A loop marker on a script task whose condition never changes: no flow loops, so
    # deploy lets it through; unstopped, SpiffWorkflow would run it for ever.
    polling = files('<bpmn:startEvent id="start"/>',
                    '<bpmn:scriptTask id="poll" name="Poll the bank">'
                    "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>not answered"
                    "</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
                    "<bpmn:script>count = count + 1</bpmn:script></bpmn:scriptTask>",
                    '<bpmn:endEvent id="end"/>', flow("start", "poll"), flow("poll", "end"))
    # The step limit is under test, not the script time limit: a machine that stalls for
    # half a second during one tiny script (a loaded CI runner did) must not fail it.
    engine = runtime(polling, time_limit=10)
    failure = within(60, lambda: engine.start({"count": 0, "answered": False}))
    assert isinstance(failure, EngineError)
    assert failure.element_id == "poll"
    assert str(failure).startswith("the process ran 1000 steps without waiting for a person, a "
                                   "message or a timer ('poll' 999 times")


def unchecked(bundle_files: dict[str, bytes], max_steps: int) -> ProcessRuntime:
    """A runtime of a diagram deployed before the deploy checks refused it."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(etree.fromstring(bundle_files["p.bpmn"]), filename="p.bpmn")
    return ProcessRuntime(parser.get_spec("p"), parser.get_subprocess_specs("p"), {}, 0.5,
                          limits=RunLimits(max_steps=max_steps))


@pytest.mark.parametrize(("max_steps", "expected"), [
    (1000, "the process ran 1000 steps without waiting for a person, a message or a timer "
           "('add' 333 times, 'check' 333 times, 'again' 333 times)"),
    # Unstopped, SpiffWorkflow loses sight of the loop after about a thousand steps and
    # leaves the case with nothing to wait for: that is an error too, not a silent stall.
    (5000, "the process stopped without finishing and without waiting for anything"),
], ids=["step-limit", "silent-stall"])
def test_a_script_cycle_deployed_before_the_checks_is_stopped_when_it_runs(
        max_steps: int, expected: str) -> None:
    engine = unchecked(SCRIPT_CYCLE, max_steps)
    failure = within(60, lambda: engine.start({"count": 0}))
    assert isinstance(failure, EngineError)
    assert str(failure).startswith(expected)


STILL_OVERDUE = ('attachedToRef="acknowledge_escalated">', '<bpmn:timeDate xsi:type="bpmn:'
                 'tFormalExpression">next_level("acknowledge")</bpmn:timeDate>')
# A second-level chase of web complaints every second (meant: every hour).
CHASE = ('attachedToRef="acknowledge_escalated" cancelActivity="false">',
         '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">'
         '"R/PT1S" if channel == "web" else "R/P1D"</bpmn:timeCycle>')


def deploy_chasing_every_second() -> None:
    text = reference_bpmn()
    for old, new in zip(STILL_OVERDUE, CHASE, strict=True):
        assert old in text
        text = text.replace(old, new)
    processes.deploy(with_bpmn(text), Actor.system("test"))


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_computed_one_second_cycle_becomes_an_incident_instead_of_spinning(app) -> None:
    deploy_chasing_every_second()
    with time_machine.travel(START, tick=False) as clock:
        case = cases.start_case(dict(INTAKE), "web", HANDLER).case
        clock.move_to(BREACH + SECOND)
        result = timers.sweep()
        assert (result.failed, result.fired) == (1, 0)
        [incident] = db.session.scalars(select(Incident))
        assert (incident.case_id, incident.element_id, incident.attempts) == (
            case.id, "acknowledgement_still_overdue", 1)
        assert "would repeat every 1 s; a cycle timer must wait at least 60 s" in incident.error
        # Not spinning: nothing is claimable now, and the scheduler is not woken for it.
        clock.shift(timedelta(seconds=30))
        assert timers.sweep().claimed == 0
        assert timers.next_due() is None
        # Tried again by itself twice (after 5 and 25 more minutes), then stopped.
        clock.shift(incidents.FIRST_RETRY)
        assert timers.sweep().failed == 1
        clock.shift(incidents.FIRST_RETRY * incidents.BACKOFF + SECOND)
        assert timers.sweep().failed == 1
        clock.shift(timedelta(days=30))
        assert timers.sweep().claimed == 0
    db.session.refresh(incident)
    assert (incident.attempts, incident.retry_at, incident.is_open) == (3, None, True)
    kinds = list(db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.seq)))
    assert kinds == ["case.received", "incident.opened"]  # one entry, not one per attempt
    assert audit.verify_case(db.session.get(Case, case.id)) == []


# -- One broken case never holds the others back --------------------------------------------

def test_a_poisoned_case_becomes_one_incident_while_fifty_healthy_ones_fire_in_one_sweep(
        app) -> None:
    with time_machine.travel(START, tick=False) as clock:
        started = [cases.start_case(dict(INTAKE), "web", HANDLER).case for _ in range(51)]
        poisoned = started[25]
        # Its saved state was damaged (a bad restore, a migration gone wrong): loading it
        # raises a plain error, not an engine error.
        db.session.execute(update(Case).where(Case.id == poisoned.id)
                           .values(workflow_state=b"not a workflow"))
        db.session.commit()
        clock.move_to(BREACH + SECOND)
        result = timers.sweep()
        assert (result.fired, result.cases, result.failed) == (100, 50, 1)
        assert timers.sweep().claimed == 0  # nothing of the healthy cases is left claimed
    escalated = set(db.session.scalars(select(HumanTask.case_id).where(
        HumanTask.bpmn_id == "acknowledge_escalated")))
    assert escalated == {c.id for c in started} - {poisoned.id}
    [incident] = db.session.scalars(select(Incident))
    assert incident.case_id == poisoned.id and incident.is_open and incident.attempts == 1
    assert incident.element_id == "acknowledgement_reminder"  # the first timer it was firing
    assert incident.error.startswith("error: ")  # zlib's error, named by its type
    assert count(Timer, Timer.case_id == poisoned.id, Timer.claimed_until.is_not(None)) == 2
    # Restored from the backup and retried, it moves on like the others.
    db.session.execute(update(Case).where(Case.id == poisoned.id)
                       .values(workflow_state=started[0].workflow_state))
    db.session.commit()
    with time_machine.travel(BREACH + 2 * SECOND, tick=False):
        timers.retry_incident(incident.id, Actor("adam", 1, frozenset({"admin"})))
    assert count(HumanTask, HumanTask.case_id == poisoned.id,
                 HumanTask.bpmn_id == "acknowledge_escalated") == 1
    assert incidents.open_count() == 0


# -- Who sees incidents, and retrying one after the fix -------------------------------------

def break_the_policy() -> None:
    """A migration left a unit the calendar does not know on the second acknowledgement level."""
    db.session.execute(update(EscalationTarget).where(EscalationTarget.kind == "acknowledge")
                       .values(next_level_unit="fortnights"))
    db.session.commit()


def fix_the_policy() -> None:
    db.session.execute(update(EscalationTarget).where(EscalationTarget.kind == "acknowledge")
                       .values(next_level_unit="working_days"))
    db.session.commit()


def stopped_case(app: Any) -> Any:
    """A case whose breach timer failed on the broken policy: stopped on an incident."""
    with app.app_context():
        make_user("maha", "complaints_manager")
        make_user("hana", "handler")
        make_user("adam", "admin")
        make_user("pia", "process_owner")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    break_the_policy()
    return case


def client_of(app: Any, username: str) -> Any:
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def test_complaints_managers_see_incidents_and_handlers_do_not(app) -> None:
    with time_machine.travel(START, tick=False) as clock:
        case = stopped_case(app)
        clock.move_to(BREACH + SECOND)
        assert timers.sweep().failed == 1
        [incident] = db.session.scalars(select(Incident))
        manager, handler, owner = (client_of(app, name) for name in ("maha", "hana", "pia"))
        listing = manager.get("/incidents").get_data(as_text=True)
        assert case.reference in listing and "Unknown unit" in listing
        assert "acknowledgement_still_overdue" in listing
        page = manager.get(f"/incidents/{incident.id}").get_data(as_text=True)
        assert "retry-incident" not in page  # only administrators retry
        assert "1 case is stopped because a timer step failed." in \
            manager.get("/tasks").get_data(as_text=True)
        assert owner.get("/incidents").status_code == 200
        assert handler.get("/incidents").status_code == 403
        assert handler.get(f"/incidents/{incident.id}").status_code == 403
        inbox = handler.get("/tasks").get_data(as_text=True)
        assert "incident-banner" not in inbox and ">Incidents</a>" not in inbox
        # The handler learns on the case page that it is stopped, and that someone knows.
        case_page = handler.get(f"/cases/{case.reference}").get_data(as_text=True)
        assert "This case is stopped: the step “Still not acknowledged” failed" in case_page
        assert "The complaints manager has been told." in case_page
        assert f'href="/incidents/{incident.id}"' in \
            manager.get(f"/cases/{case.reference}").get_data(as_text=True)


def test_an_admin_retries_an_incident_after_the_cause_is_fixed_and_the_case_moves_on(
        app) -> None:
    with time_machine.travel(START, tick=False) as clock:
        case = stopped_case(app)
        clock.move_to(BREACH + SECOND)
        assert timers.sweep().failed == 1
        [incident] = db.session.scalars(select(Incident))
        path = f"/incidents/{incident.id}"
        admin = client_of(app, "adam")
        assert admin.post(f"{path}/retry").status_code == 400  # no CSRF token: refused
        # Retried before the fix: it fails again, and the page says so.
        again = post(admin, f"{path}/retry", follow_redirects=True).get_data(as_text=True)
        assert f"Case {case.reference} failed again" in again
        assert re.search(r'id="incident-attempts">2<', again)
        fix_the_policy()
        done = post(admin, f"{path}/retry", follow_redirects=True).get_data(as_text=True)
        assert f"Incident {incident.id} is closed: the timer fired." in done
        assert "adam" in done
    incident = db.session.get(Incident, incident.id)
    assert not incident.is_open and incident.closed_by == "adam"
    [task] = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))
    assert task.bpmn_id == "acknowledge_escalated"  # the case moved on
    fired = [e for e in audit.history(db.session.get(Case, case.id)) if e.kind == "timer.fired"]
    assert [(e.actor, e.summary) for e in fired] == [
        ("adam", f"Timer fired: Acknowledgement due soon, Acknowledgement overdue "
                 f"(incident #{incident.id} closed)")]
    assert audit.verify_case(db.session.get(Case, case.id)) == []
    assert incidents.open_count() == 0


def test_a_timer_row_that_cannot_fire_does_not_spin_the_scheduler(app) -> None:
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    # Its row says due, its case says tomorrow: every sweep claims it and fires nothing.
    db.session.execute(update(Timer).where(Timer.case_id == case.id)
                       .values(due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    app.config["PLAINT_SCHEDULER_MAX_SLEEP"] = 3600.0
    scheduler = TimerScheduler(app)
    scheduler.start()
    try:
        time.sleep(3)
    finally:
        scheduler.shutdown()
    assert scheduler.fired == 0
    assert 1 <= scheduler.sweeps <= 6  # about one a second, not a sweep after a sweep
