"""Sequence-flow coverage (tests/flowcov.py): steps of real engine runs map to the right flows,
and a whole-suite run below the minimum fails."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from lxml import etree
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from server.engine import ProcessRuntime, load_bundle
from server.engine.serializer import dump_state, load_specs
from server.services import cases, processes

from .flowcov import Collector, Coverage, FlowMap, saved_steps, steps
from .support.data import HANDLER, INTAKE
from .support.process import reference_files

pytest_plugins = ["pytester"]

NS = 'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
START = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def flow(flow_id: str, source: str, target: str, condition: str | None = None,
         name: str = "") -> str:
    """A sequence flow, with a condition expression when given one."""
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return (f'<bpmn:sequenceFlow id="{flow_id}" name="{name}" sourceRef="{source}" '
            f'targetRef="{target}">{body}</bpmn:sequenceFlow>')


def timer(duration: str) -> str:
    """A timer event definition that fires `duration` (ISO 8601) after it starts waiting."""
    return (f'<bpmn:timerEventDefinition><bpmn:timeDuration>"{duration}"</bpmn:timeDuration>'
            "</bpmn:timerEventDefinition>")


def diagram(process_id: str, body: str, extra: str = "") -> bytes:
    """A BPMN file holding one executable process (no drawing: the engine needs none)."""
    return (f'<bpmn:definitions {NS} id="Defs_{process_id}" targetNamespace="http://test">{extra}'
            f'<bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>'
            "</bpmn:definitions>").encode()


class Run:
    """One workflow of synthetic diagrams on the real engine, with a clock to move."""

    def __init__(self, files: dict[str, bytes], process_id: str, clock: time_machine.Traveller,
                 **data: object) -> None:
        parser = SpiffBpmnParser()
        for name, text in files.items():
            parser.add_bpmn_xml(etree.fromstring(text), filename=name)
        self.clock = clock
        self.workflow = BpmnWorkflow(parser.get_spec(process_id),
                                     parser.get_subprocess_specs(process_id))
        self.workflow.get_next_task(state=TaskState.READY).data.update(data)
        self.workflow.do_engine_steps()

    def complete(self, bpmn_id: str, **data: object) -> None:
        """Complete a ready manual task."""
        task = next(t for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == bpmn_id)
        task.data.update(data)
        task.run()
        self.workflow.do_engine_steps()

    def wait(self, hours: float) -> None:
        """Let time pass and fire the timers that are due."""
        self.clock.shift(timedelta(hours=hours))
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps()

    def message(self, name: str) -> None:
        """Deliver a message the workflow waits for."""
        self.workflow.send_event(BpmnEvent(MessageEventDefinition(name)))
        self.workflow.do_engine_steps()


Drive = Callable[[Run], None]


@pytest.fixture
def measure() -> Callable[..., Coverage]:
    """Run synthetic diagrams as `drive` says and return the flows the run took."""

    def run(files: dict[str, bytes], process_id: str, drive: Drive, **data: object) -> Coverage:
        coverage = Coverage(FlowMap(files))
        with time_machine.travel(START, tick=False) as clock:
            current = Run(files, process_id, clock, **data)
            drive(current)
        workflow = current.workflow
        coverage.record(workflow)
        assert coverage.unmapped == set(), "every step of the run is a drawn flow"
        saved = saved_steps(dump_state(workflow), workflow.spec, workflow.subprocess_specs)
        assert saved == steps(workflow), "a saved state reads as the same steps"
        return coverage

    return run


def nothing(run: Run) -> None:
    """Start the workflow and leave it as it stands."""


EXCLUSIVE = {"exclusive.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="route" default="Flow_normal"/>'
    '<bpmn:scriptTask id="urgent"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
    '<bpmn:scriptTask id="normal"><bpmn:script>x = 2</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="end"/>'
    + flow("Flow_start", "start", "route")
    + flow("Flow_urgent", "route", "urgent", "priority == 'high'")
    + flow("Flow_normal", "route", "normal")
    + flow("Flow_urgent_end", "urgent", "end") + flow("Flow_normal_end", "normal", "end")))}


def test_an_exclusive_gateway_takes_the_default_flow_only_when_no_condition_holds(
        measure: Callable[..., Coverage]) -> None:
    low = measure(EXCLUSIVE, "p", nothing, priority="low")
    assert low.taken == {"Flow_start", "Flow_normal", "Flow_normal_end"}
    high = measure(EXCLUSIVE, "p", nothing, priority="high")
    assert high.taken == {"Flow_start", "Flow_urgent", "Flow_urgent_end"}


PARALLEL = {"parallel.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="fork"/>'
    '<bpmn:manualTask id="check"/><bpmn:manualTask id="call"/>'
    '<bpmn:parallelGateway id="join"/><bpmn:endEvent id="end"/>'
    + flow("Flow_start", "start", "fork") + flow("Flow_check", "fork", "check")
    + flow("Flow_call", "fork", "call") + flow("Flow_checked", "check", "join")
    + flow("Flow_called", "call", "join") + flow("Flow_end", "join", "end")))}


def test_a_parallel_join_counts_the_branch_that_waited_as_well_as_the_last_one(
        measure: Callable[..., Coverage]) -> None:
    def first_branch_only(run: Run) -> None:
        run.complete("check")

    def both(run: Run) -> None:
        run.complete("check")
        run.complete("call")

    # Only completed steps count: the other branch's task is ready and the join waits.
    assert measure(PARALLEL, "p", first_branch_only).taken == {"Flow_start", "Flow_check"}
    assert measure(PARALLEL, "p", both).taken == set(FlowMap(PARALLEL).flows)


EVENT_GATEWAY = {"events.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="wait"/>'
    '<bpmn:intermediateCatchEvent id="answer"><bpmn:messageEventDefinition messageRef="m"/>'
    '</bpmn:intermediateCatchEvent>'
    f'<bpmn:intermediateCatchEvent id="silence">{timer("P10D")}</bpmn:intermediateCatchEvent>'
    '<bpmn:endEvent id="answered"/><bpmn:endEvent id="timed_out"/>'
    + flow("Flow_start", "start", "wait") + flow("Flow_answer", "wait", "answer")
    + flow("Flow_silence", "wait", "silence") + flow("Flow_answered", "answer", "answered")
    + flow("Flow_timed_out", "silence", "timed_out")),
    '<bpmn:message id="m" name="answer"/>')}


def test_an_event_based_gateway_counts_only_the_branch_whose_event_came(
        measure: Callable[..., Coverage]) -> None:
    assert measure(EVENT_GATEWAY, "p", nothing).taken == set()  # the gateway still waits
    assert measure(EVENT_GATEWAY, "p", lambda run: run.message("answer")).taken == {
        "Flow_start", "Flow_answer", "Flow_answered"}
    assert measure(EVENT_GATEWAY, "p", lambda run: run.wait(24 * 11)).taken == {
        "Flow_start", "Flow_silence", "Flow_timed_out"}


BOUNDARY = {"boundary.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:manualTask id="work"/><bpmn:endEvent id="done"/>'
    '<bpmn:boundaryEvent id="remind" attachedToRef="work" cancelActivity="false">'
    f'{timer("PT1H")}</bpmn:boundaryEvent><bpmn:endEvent id="reminded"/>'
    f'<bpmn:boundaryEvent id="overdue" attachedToRef="work">{timer("PT5H")}</bpmn:boundaryEvent>'
    '<bpmn:manualTask id="escalated"/><bpmn:endEvent id="escalation_done"/>'
    + flow("Flow_start", "start", "work") + flow("Flow_done", "work", "done")
    + flow("Flow_reminded", "remind", "reminded") + flow("Flow_overdue", "overdue", "escalated")
    + flow("Flow_escalation_done", "escalated", "escalation_done")))}


def test_boundary_timers_count_the_flows_leaving_the_event_that_fired(
        measure: Callable[..., Coverage]) -> None:
    def in_time(run: Run) -> None:
        run.complete("work")

    def reminded_then_done(run: Run) -> None:
        run.wait(2)
        run.complete("work")

    def overdue(run: Run) -> None:
        run.wait(6)
        run.complete("escalated")

    assert measure(BOUNDARY, "p", in_time).taken == {"Flow_start", "Flow_done"}
    assert measure(BOUNDARY, "p", reminded_then_done).taken == {
        "Flow_start", "Flow_done", "Flow_reminded"}
    # The interrupted task never completed: the flow into it does not count.
    assert measure(BOUNDARY, "p", overdue).taken == {
        "Flow_reminded", "Flow_overdue", "Flow_escalation_done"}


LOOP = {"loop.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="merge"/>'
    '<bpmn:manualTask id="review"/><bpmn:exclusiveGateway id="again" default="Flow_finish"/>'
    '<bpmn:endEvent id="end"/>'
    + flow("Flow_start", "start", "merge") + flow("Flow_review", "merge", "review")
    + flow("Flow_decide", "review", "again")
    + flow("Flow_back", "again", "merge", "more", name="Needs more work")
    + flow("Flow_finish", "again", "end")))}


def test_a_loop_back_counts_on_the_new_task_instances_under_the_loops_last_task(
        measure: Callable[..., Coverage]) -> None:
    def twice(run: Run) -> None:
        run.complete("review", more=True)
        run.complete("review", more=False)

    assert measure(LOOP, "p", twice).taken == set(FlowMap(LOOP).flows)
    assert measure(LOOP, "p", lambda run: run.complete("review", more=False)).taken == \
        set(FlowMap(LOOP).flows) - {"Flow_back"}
    assert FlowMap(LOOP).flows["Flow_back"].describe() == \
        'Flow_back "Needs more work": again -> merge'


CALL = {
    "caller.bpmn": diagram("caller", (
        '<bpmn:startEvent id="start"/><bpmn:callActivity id="consult" calledElement="helper"/>'
        '<bpmn:endEvent id="end"/>'
        + flow("Flow_start", "start", "consult") + flow("Flow_end", "consult", "end"))),
    "helper.bpmn": diagram("helper", (
        '<bpmn:startEvent id="helper_start"/><bpmn:manualTask id="opinion"/>'
        '<bpmn:endEvent id="helper_end"/>'
        + flow("Flow_ask", "helper_start", "opinion")
        + flow("Flow_answer", "opinion", "helper_end"))),
}


def test_a_call_activity_counts_the_flows_of_the_called_process_in_its_own_file(
        measure: Callable[..., Coverage]) -> None:
    assert measure(CALL, "caller", nothing).taken == set()  # the opinion is still to give
    done = measure(CALL, "caller", lambda run: run.complete("opinion"))
    assert [(d.file, d.taken, d.total) for d in done.figures()] == [
        ("caller.bpmn", 2, 2), ("helper.bpmn", 2, 2)]


TERMINATE = {"terminate.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:parallelGateway id="fork"/>'
    '<bpmn:manualTask id="withdraw"/><bpmn:manualTask id="handle"/>'
    '<bpmn:endEvent id="withdrawn"><bpmn:terminateEventDefinition/></bpmn:endEvent>'
    '<bpmn:endEvent id="handled"/>'
    + flow("Flow_start", "start", "fork") + flow("Flow_withdraw", "fork", "withdraw")
    + flow("Flow_handle", "fork", "handle") + flow("Flow_withdrawn", "withdraw", "withdrawn")
    + flow("Flow_handled", "handle", "handled")))}


def test_a_terminate_end_counts_its_own_flow_and_nothing_after_the_cancelled_tasks(
        measure: Callable[..., Coverage]) -> None:
    coverage = measure(TERMINATE, "p", lambda run: run.complete("withdraw"))
    assert coverage.taken == {"Flow_start", "Flow_withdraw", "Flow_withdrawn"}


MULTI = {"multi.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:manualTask id="ask">'
    '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>people'
    '</bpmn:loopDataInputRef><bpmn:inputDataItem id="person"/>'
    '</bpmn:multiInstanceLoopCharacteristics></bpmn:manualTask><bpmn:endEvent id="end"/>'
    + flow("Flow_start", "start", "ask") + flow("Flow_end", "ask", "end")))}


def test_multi_instance_instances_are_not_steps(measure: Callable[..., Coverage]) -> None:
    def everyone(run: Run) -> None:
        run.complete("ask")
        run.complete("ask")

    assert measure(MULTI, "p", everyone, people=["ana", "ben"]).taken == {"Flow_start",
                                                                          "Flow_end"}


TWIN = {"twin.bpmn": diagram("p", (
    '<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="route" default="Flow_b"/>'
    '<bpmn:endEvent id="end"/>' + flow("Flow_start", "start", "route")
    + flow("Flow_a", "route", "end", "x == 1") + flow("Flow_b", "route", "end")))}


def test_two_flows_between_the_same_elements_count_together(
        measure: Callable[..., Coverage]) -> None:
    coverage = measure(TWIN, "p", nothing, x=2)
    assert coverage.taken == {"Flow_start", "Flow_a", "Flow_b"}
    assert [[f.id for f in group] for group in coverage.flow_map.ambiguous()] == [
        ["Flow_a", "Flow_b"]]


def _runtime(files: dict[str, bytes]) -> ProcessRuntime:
    spec, subprocess_specs = load_specs(load_bundle(files, lambda name: name).spec_json)
    return ProcessRuntime(spec, subprocess_specs, {}, 0.5)


def test_engine_runs_count_only_when_built_from_the_measured_diagrams(tmp_path: Path) -> None:
    script = ('<bpmn:startEvent id="start"/><bpmn:scriptTask id="note">'
              "<bpmn:script>noted = True</bpmn:script></bpmn:scriptTask><bpmn:endEvent id='end'/>"
              + flow("Flow_note", "start", "note") + flow("Flow_end", "note", "end"))
    (tmp_path / "note.bpmn").write_bytes(diagram("p", script))
    collector = Collector(tmp_path)
    changed = {"note.bpmn": diagram("p", script.replace("True", "False"))}
    for files in ({"note.bpmn": (tmp_path / "note.bpmn").read_bytes()}, changed):
        runtime = _runtime(files)
        workflow, _ = runtime.start({})
        collector.record_run(runtime, workflow)
    assert collector.coverage.runs == 1
    assert collector.coverage.taken == {"Flow_note", "Flow_end"}


def test_saved_cases_count_only_on_versions_with_the_same_diagram_files(
        app: Flask, app_ctx: None) -> None:
    collector = Collector(Path(__file__).resolve().parent.parent / "workflows")
    cases.start_case(dict(INTAKE), "web", HANDLER)
    files = reference_files()
    files["complaint.bpmn"] += b"<!-- a copy -->\n"
    processes.deploy(files, HANDLER, note="same process, different bytes")
    cases.start_case(dict(INTAKE), "web", HANDLER)
    collector.collect_app(app)
    assert (collector.cases_read, collector.cases_other_version) == (1, 1)
    assert collector.errors == []
    collector.collect_app(app)  # a state counted once is not loaded again
    assert (collector.cases_read, collector.cases_known) == (1, 1)


GATE_DIAGRAM = EXCLUSIVE["exclusive.bpmn"].decode()

GATE_TESTS = textwrap.dedent('''
    from pathlib import Path
    from lxml import etree
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from tests import flowcov

    def test_a_low_priority_complaint() -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_xml(etree.parse(str(Path(__file__).parent / "diagrams" / "exclusive.bpmn")))
        workflow = BpmnWorkflow(parser.get_spec("p"))
        workflow.task_tree.data["priority"] = "low"
        workflow.do_engine_steps()
        flowcov.record(workflow)
    ''')


@pytest.fixture
def gate_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A tiny suite whose one test takes 3 of the 5 flows of a diagram."""
    pytester.mkdir("diagrams").joinpath("exclusive.bpmn").write_text(GATE_DIAGRAM)
    pytester.makepyfile(test_low=GATE_TESTS)
    return pytester


def _run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest("-p", "tests.flowcov", "--flow-coverage-diagrams",
                           str(suite.path / "diagrams"), *args)


def test_a_whole_suite_below_the_minimum_fails_naming_the_flows_not_taken(
        gate_suite: pytest.Pytester) -> None:
    result = _run(gate_suite, "--flow-coverage-min=100")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "exclusive.bpmn*3/5*60.0%",
        "*not taken: Flow_urgent: route -> urgent",
        "*not taken: Flow_urgent_end: urgent -> end",
        "gate: failed: below 100%",
        "*exclusive.bpmn 60.0% < 100%: Flow_urgent, Flow_urgent_end",
    ])
    result.assert_outcomes(passed=1)
    report = gate_suite.path / ".pytest_cache" / "flow-coverage.json"
    assert '"percent": 60.0' in report.read_text()


def test_a_suite_at_the_minimum_passes(gate_suite: pytest.Pytester) -> None:
    result = _run(gate_suite, "--flow-coverage-min=60")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["gate: passed: every diagram at 60% or more"])


@pytest.mark.parametrize("selection", [["-k", "low"], ["test_low.py"]])
def test_a_partial_run_reports_coverage_but_does_not_fail(
        gate_suite: pytest.Pytester, selection: list[str]) -> None:
    result = _run(gate_suite, "--flow-coverage-min=100", *selection)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["exclusive.bpmn*3/5*60.0%", "gate: not applied: *"])
