"""Sequence-flow coverage: which flows of workflows/*.bpmn the test suite takes, and a gate.

A pytest plugin (registered in tests/conftest.py) and the small library behind it.

How a step of a run becomes a sequence flow. SpiffWorkflow 3.2 keeps every task it
created in a tree: a task's children are the tasks that followed it, a loop back adds new
task instances under the loop's last task, and each sub-process or call activity keeps its
own tree in ``workflow.subprocesses``. The engine adds tasks that are not in the diagram
(Start, End, <process>.EndJoin, <activity>.BoundaryEventSplit/Join); they have no
``bpmn_id``. So for every task that a token went through, the flow that brought it there
runs from the nearest ancestor that is a diagram element to the task's own element:

- a token went through a task when the task is COMPLETED. Tokens that reach a parallel or
  inclusive join wait there; when the join fires, the waiting ones are CANCELLED and only
  the last arrival goes on, so a cancelled join under a completed task counts too. A
  predicted task that never ran (an event-gateway branch not taken, an activity
  interrupted by a boundary event) does not count.
- boundary events sit under the BoundaryEventSplit: no flow enters them, and the flows
  that leave them start at the event; flows leaving the activity start at the activity.
- the instances of a multi-instance or standard-loop activity are children of the
  activity with the same element id: they are not steps.
- two flows between the same pair of elements cannot be told apart from the tree: both
  count (the report says so).

Where runs come from: (a) every case in a test's database, read at teardown of the `app`
fixture when its process version's BPMN and DMN files are byte-identical to workflows/;
(b) every run of a ProcessRuntime built from the same specs (engine tests, live servers),
recorded after each engine operation by wrapping ProcessRuntime.snapshot; (c) anything
passed to record().

PYTEST_DONT_REWRITE: tests/conftest.py imports this module before pytest loads it as a plugin.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree

# The tree walk needs the engine's own types: this is test tooling about the engine.
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from server.engine.serializer import state_dict

REPO = Path(__file__).resolve().parent.parent
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
REPORT_NAME = "flow-coverage.json"
Pair = tuple[str, str]


# -- the diagrams ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    """One sequence flow as drawn."""

    id: str
    name: str
    file: str
    source: str
    target: str
    source_name: str
    target_name: str

    def describe(self) -> str:
        """The flow as a person finds it in the modeller: id, name, from and to."""
        name = f' "{self.name}"' if self.name else ""
        return f"{self.id}{name}: {self.source_name} -> {self.target_name}"


class FlowMap:
    """Every sequence flow of a set of BPMN files, looked up by (source, target) element."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = sorted(name for name in files if name.endswith(".bpmn"))
        self.flows: dict[str, Flow] = {}
        self.by_pair: dict[Pair, list[Flow]] = {}
        for name in self.files:
            root = etree.fromstring(files[name], etree.XMLParser(resolve_entities=False))
            names = {e.get("id"): e.get("name") or e.get("id") for e in root.iter()
                     if isinstance(e.tag, str) and e.get("id")}
            for elem in root.iter(f"{BPMN}sequenceFlow"):
                source, target = elem.get("sourceRef", ""), elem.get("targetRef", "")
                flow = Flow(elem.get("id", ""), elem.get("name") or "", name, source, target,
                            names.get(source) or source, names.get(target) or target)
                self.flows[flow.id] = flow
                self.by_pair.setdefault((source, target), []).append(flow)

    @classmethod
    def from_folder(cls, folder: Path) -> FlowMap:
        """The flows of every .bpmn file in a folder."""
        return cls({p.name: p.read_bytes() for p in sorted(folder.glob("*.bpmn"))})

    def in_file(self, name: str) -> list[Flow]:
        """The flows drawn in one file, in document order."""
        return [f for f in self.flows.values() if f.file == name]

    def ambiguous(self) -> list[list[Flow]]:
        """Groups of flows that join the same two elements (counted together)."""
        return [flows for flows in self.by_pair.values() if len(flows) > 1]


# -- the task trees -------------------------------------------------------------------------

def _element(task: Any) -> str | None:
    """The diagram element a task runs, or None for the engine's own tasks."""
    bpmn_id: str | None = getattr(task.task_spec, "bpmn_id", None)
    return bpmn_id


def _passed(task: Any) -> bool:
    """Whether a token went through the task (see the module docstring)."""
    if task.state == TaskState.COMPLETED:
        return True
    return (task.state == TaskState.CANCELLED and isinstance(task.task_spec, UnstructuredJoin)
            and task.parent is not None and task.parent.state == TaskState.COMPLETED)


def _is_instance(task: Any) -> bool:
    """An instance of a multi-instance or loop activity (a child of the activity itself)."""
    parent = task.parent
    instance_spec = getattr(parent.task_spec, "task_spec", None) if parent is not None else None
    return instance_spec is not None and instance_spec == task.task_spec.name


def _steps(trees: Iterable[Iterable[Any]]) -> set[Pair]:
    """The (source, target) element pairs in task trees (tasks with task_spec, state, parent)."""
    found: set[Pair] = set()
    for tree in trees:
        for task in tree:
            target = _element(task)
            if target is None or isinstance(task.task_spec, BoundaryEvent) \
                    or _is_instance(task) or not _passed(task):
                continue
            node = task.parent
            while node is not None and _element(node) is None:
                node = node.parent
            if node is not None:
                found.add((str(_element(node)), target))
    return found


def steps(workflow: Any) -> set[Pair]:
    """The (source element, target element) pair of every step a workflow took."""
    workflows = [workflow, *getattr(workflow, "subprocesses", {}).values()]
    return _steps(list(wf.tasks.values()) for wf in workflows)


@dataclass
class _SavedTask:
    """A task as saved: enough of it for _steps."""

    task_spec: Any
    state: int
    parent: _SavedTask | None = None


def _saved_tree(tasks: dict[str, Any], spec: Any) -> list[_SavedTask]:
    found = {key: _SavedTask(spec.task_specs[t["task_spec"]], t["state"])
             for key, t in tasks.items()}
    for key, t in tasks.items():
        found[key].parent = found.get(t["parent"]) if t["parent"] else None
    return list(found.values())


def saved_steps(state: bytes, spec: Any, subprocess_specs: Mapping[str, Any]) -> set[Pair]:
    """The steps of a state saved by server.engine's dump_state, read from its JSON.

    Rebuilding the workflow costs five times as much, and some tests leave thousands of
    cases behind for the teardown to read.
    """
    dct = state_dict(state)
    # A case of a process started by a message (a corrective action) runs on another spec.
    spec = subprocess_specs.get(dct.get("process"), spec)
    trees = [(dct["tasks"], spec)] + [(sub["tasks"], subprocess_specs[sub["spec"]])
                                      for sub in dct["subprocesses"].values()]
    return _steps(_saved_tree(tasks, tree_spec) for tasks, tree_spec in trees)


# -- coverage -------------------------------------------------------------------------------

@dataclass
class DiagramFigures:
    """How much of one diagram's flows the runs took."""

    file: str
    taken: int
    total: int
    untaken: list[Flow]

    @property
    def percent(self) -> float:
        """Flows taken as a percentage (a diagram without flows counts as covered)."""
        return 100.0 if self.total == 0 else 100.0 * self.taken / self.total


@dataclass
class Coverage:
    """The flows of a FlowMap that recorded runs took."""

    flow_map: FlowMap
    taken: set[str] = field(default_factory=set)
    # Steps that match no flow: a sign the tree walk misses a construct.
    unmapped: set[Pair] = field(default_factory=set)
    runs: int = 0

    def record(self, workflow: Any) -> None:
        """Count the flows a workflow took."""
        self.add(steps(workflow))

    def add(self, pairs: Iterable[Pair]) -> None:
        """Count the flows of one run's steps."""
        for pair in pairs:
            flows = self.flow_map.by_pair.get(pair)
            if flows is None:
                self.unmapped.add(pair)
            else:
                self.taken.update(f.id for f in flows)
        self.runs += 1

    def figures(self) -> list[DiagramFigures]:
        """Taken and total flows per diagram file."""
        result = []
        for name in self.flow_map.files:
            flows = self.flow_map.in_file(name)
            untaken = [f for f in flows if f.id not in self.taken]
            result.append(DiagramFigures(name, len(flows) - len(untaken), len(flows), untaken))
        return result

    def below(self, minimum: float) -> list[DiagramFigures]:
        """The diagrams whose coverage is under the minimum percentage."""
        return [d for d in self.figures() if d.percent < minimum]


# -- collecting during a test session -------------------------------------------------------

def _hashes(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()
            if name.endswith((".bpmn", ".dmn"))}


def _digest(state: bytes) -> bytes:
    return hashlib.blake2b(state, digest_size=16).digest()


def _reference_specs(folder: Path) -> str | None:
    """The spec JSON a version deployed from `folder` (and forms/) stores, or None."""
    from server.engine import BundleError, load_bundle

    files = {p.name: p.read_bytes() for d in (folder, REPO / "forms") if d.is_dir()
             for p in d.iterdir() if p.is_file()}
    try:
        return load_bundle(files, lambda name: name).spec_json
    except BundleError:
        return None


class Collector:
    """The session's flow coverage of one diagram folder, fed by the tests as they run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.coverage = Coverage(FlowMap.from_folder(folder))
        self.file_hashes = _hashes({p.name: p.read_bytes() for p in folder.iterdir()
                                    if p.is_file()})
        self._known: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # live servers run the engine in other threads
        # Workflows already counted, and digests of the states they were saved as: a saved
        # case whose state is among them needs no loading at teardown.
        self._counted: weakref.WeakSet[Any] = weakref.WeakSet()
        self._saved: set[bytes] = set()
        self.cases_read = 0
        self.cases_known = 0
        self.cases_other_version = 0
        self.errors: list[str] = []
        self.seconds = 0.0

    def record(self, workflow: Any) -> None:
        """Count the flows a workflow of the reference diagrams took."""
        started = time.perf_counter()
        with self._lock:
            self.coverage.record(workflow)
            self._counted.add(workflow)
        self.seconds += time.perf_counter() - started

    def saved(self, workflow: Any, state: bytes) -> None:
        """Note the state a counted workflow was saved as."""
        if workflow in self._counted:
            self._saved.add(_digest(state))

    def record_run(self, runtime: Any, workflow: Any) -> None:
        """Count a run if its runtime was built from the reference diagrams; never raise."""
        try:
            started = time.perf_counter()
            reference = self._known.get(runtime)
            if reference is None:
                reference = self._is_reference(runtime)
                self._known[runtime] = reference
            self.seconds += time.perf_counter() - started
            if reference:
                self.record(workflow)
        except Exception as exc:  # the engine call being observed must not fail for us
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if len(self.errors) < 100:
            self.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:200])

    @cached_property
    def reference_specs(self) -> str | None:
        """The spec JSON of the measured diagrams, as a process version stores it."""
        specs = _reference_specs(self.folder)
        if specs is None:
            self.errors.append(f"{self.folder.name}/ does not load as a bundle: "
                               "engine runs not counted")
        return specs

    def _is_reference(self, runtime: Any) -> bool:
        from server.engine.serializer import dump_specs

        return self.reference_specs is not None and \
            dump_specs(runtime.spec, runtime.subprocess_specs) == self.reference_specs

    def collect_app(self, app: Flask) -> None:
        """Count the flows taken by every case in the app's database (reference versions only)."""
        from server.extensions import db
        from server.models import Case, ProcessFile
        from server.services.processes import runtime_for

        started = time.perf_counter()
        try:
            # A context of our own gives a session of our own, whatever the test left in its.
            with app.app_context():
                versions: dict[int, dict[str, str]] = {}
                for version_id, name, sha in db.session.execute(
                        select(ProcessFile.version_id, ProcessFile.name, ProcessFile.sha256)
                        .where(ProcessFile.kind.in_(("bpmn", "dmn")))):
                    versions.setdefault(version_id, {})[name] = sha
                same = {v for v, hashes in versions.items() if hashes == self.file_hashes}
                for version_id, state in db.session.execute(
                        select(Case.process_version_id, Case.workflow_state)):
                    if version_id not in same:
                        self.cases_other_version += 1
                        continue
                    digest = _digest(state)
                    if digest in self._saved:
                        self.cases_known += 1
                        continue
                    runtime = runtime_for(version_id)
                    pairs = saved_steps(state, runtime.spec, runtime.subprocess_specs)
                    with self._lock:
                        self.coverage.add(pairs)
                        self._saved.add(digest)
                    self.cases_read += 1
        except Exception as exc:  # never fail a test for its coverage; the gate reports it
            self._failed(exc)
        self.seconds += time.perf_counter() - started


# The collectors of the sessions running in this process, innermost last (pytester's inline
# runs nest a session inside the suite's).
_active: list[Collector] = []


def record(workflow: Any) -> None:
    """Count a run of the reference diagrams made outside ProcessRuntime (e.g. raw engine)."""
    if _active:
        _active[-1].record(workflow)


def collect_app(app: Flask) -> None:
    """Count the cases in a test's database; called at teardown of the `app` fixture."""
    if _active:
        _active[-1].collect_app(app)


# -- the pytest plugin ----------------------------------------------------------------------

@dataclass
class _Session:
    """What the plugin knows about one pytest session."""

    collector: Collector | None
    minimum: float | None
    undo: pytest.MonkeyPatch
    deselected: int = 0
    partial: str | None = None  # why only part of the suite ran
    verdict: str = "not applied: no --flow-coverage-min"
    failed: list[DiagramFigures] = field(default_factory=list)


_STATE = pytest.StashKey[_Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flow coverage")
    group.addoption("--flow-coverage-min", type=float, default=None, metavar="PERCENT",
                    help="fail a whole-suite run if any diagram in workflows/ has fewer "
                         "sequence flows taken than PERCENT")
    group.addoption("--flow-coverage-diagrams", default=str(REPO / "workflows"), metavar="DIR",
                    help="the folder of diagrams whose flows are measured (default workflows/)")


def pytest_configure(config: pytest.Config) -> None:
    from server.engine import ProcessRuntime

    try:
        collector: Collector | None = Collector(Path(config.getoption("flow_coverage_diagrams")))
    except (OSError, etree.XMLSyntaxError):
        collector = None
    undo = pytest.MonkeyPatch()
    if collector is not None:
        original = ProcessRuntime.snapshot

        # Every engine operation ends with a snapshot: the moment to look at the tree.
        def snapshot(self: Any, workflow: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, workflow, *args, **kwargs)
            collector.record_run(self, workflow)
            return result

        undo.setattr(ProcessRuntime, "snapshot", snapshot)
        original_dump = ProcessRuntime.dump

        def dump(workflow: Any) -> bytes:
            state = original_dump(workflow)
            collector.saved(workflow, state)
            return state

        undo.setattr(ProcessRuntime, "dump", staticmethod(dump))
        _active.append(collector)
    config.stash[_STATE] = _Session(collector, config.getoption("flow_coverage_min"), undo)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.undo.undo()
        if state.collector in _active:
            _active.remove(state.collector)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        state = items[0].config.stash.get(_STATE, None)
        if state is not None:
            state.deselected += len(items)


def _partial_run(config: pytest.Config, deselected: int) -> str | None:
    """Why this session did not run the whole suite, or None if it did."""
    option = config.option
    if option.collectonly:
        return "--collect-only"
    if option.keyword or option.markexpr:
        return "-k/-m selects part of the suite"
    if deselected:
        return f"{deselected} tests were deselected"
    for name, flag in (("lf", "--lf"), ("ignore", "--ignore"), ("ignore_glob", "--ignore-glob")):
        if getattr(option, name, None):
            return f"{flag} leaves part of the suite out"
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        whole = {(config.rootpath / p).resolve() for p in config.getini("testpaths")}
        given = {(config.invocation_params.dir / a).resolve() for a in config.args}
        if any("::" in a for a in config.args) or given != whole:
            return "files or tests were named on the command line"
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[_STATE]
    state.partial = _partial_run(session.config, state.deselected)
    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        state.verdict = "not applied: the run did not finish"
    elif state.minimum is None:
        pass
    elif state.partial is not None:
        state.verdict = f"not applied: {state.partial}"
    elif state.collector is None:
        state.verdict = "failed: the diagrams could not be read"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        state.failed = state.collector.coverage.below(state.minimum)
        if state.failed:
            state.verdict = f"failed: below {state.minimum:g}%"
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            state.verdict = f"passed: every diagram at {state.minimum:g}% or more"
    if state.collector is not None:
        _write_json(session.config, state, state.collector)


def _write_json(config: pytest.Config, state: _Session, collector: Collector) -> None:
    """Leave the figures in .pytest_cache/flow-coverage.json for whoever reads the CI run."""
    data = {
        "diagrams": {d.file: {"taken": d.taken, "total": d.total, "percent": round(d.percent, 2),
                              "untaken": [{"id": f.id, "name": f.name, "source": f.source,
                                           "target": f.target} for f in d.untaken]}
                     for d in collector.coverage.figures()},
        "minimum": state.minimum,
        "gate": state.verdict,
        "whole_suite": state.partial is None,
        "runs_recorded": collector.coverage.runs,
        "cases_read": collector.cases_read,
        "cases_already_counted": collector.cases_known,
        "cases_of_other_versions": collector.cases_other_version,
        "unmapped_steps": sorted(f"{s} -> {t}" for s, t in collector.coverage.unmapped),
        "errors": collector.errors,
        "collection_seconds": round(collector.seconds, 3),
    }
    try:
        cache_dir = config.getini("cache_dir")
    except ValueError:  # -p no:cacheprovider
        cache_dir = ".pytest_cache"
    try:
        folder = config.rootpath / cache_dir
        folder.mkdir(parents=True, exist_ok=True)
        (folder / REPORT_NAME).write_text(json.dumps(data, indent=1) + "\n")
    except OSError:
        pass  # a read-only checkout still gets the terminal report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    tr = terminalreporter
    tr.write_sep("-", "sequence-flow coverage")
    if state.collector is None:
        folder = config.getoption("flow_coverage_diagrams")
        tr.write_line(f"could not read the diagrams in {folder}")
    else:
        # A partial run without the gate leaves most flows untaken: list them only on request.
        detail = state.partial is None or state.minimum is not None or config.option.verbose > 0
        for line in report_lines(state.collector, detail):
            tr.write_line(line)
    failed = state.verdict.startswith("failed")
    tr.write_line(f"gate: {state.verdict}", red=failed, bold=failed)
    for figures in state.failed:
        tr.write_line(f"  {figures.file} {figures.percent:.1f}% < {state.minimum:g}%: "
                      + ", ".join(f.id for f in figures.untaken), red=True)


def report_lines(collector: Collector, detail: bool = True) -> Iterable[str]:
    """The coverage table: per diagram, flows taken of total, and each flow not taken."""
    coverage = collector.coverage
    for d in coverage.figures():
        yield f"{d.file:<32} {d.taken:>4}/{d.total:<4} {d.percent:6.1f}%"
        for flow in d.untaken if detail else ():
            yield f"    not taken: {flow.describe()}"
    for group in coverage.flow_map.ambiguous():
        yield "counted together (same source and target): " + ", ".join(f.id for f in group)
    for source, target in sorted(coverage.unmapped):
        yield f"a step matches no flow (mapping gap?): {source} -> {target}"
    yield (f"from {coverage.runs} recorded runs ({collector.cases_read} saved cases read, "
           f"{collector.cases_known} already counted, {collector.cases_other_version} "
           "of modified diagrams ignored) "
           f"in {collector.seconds:.2f}s" + ("" if detail else "; -v lists the flows not taken"))
    for error in collector.errors[:5]:
        yield f"collection error: {error}"
    if len(collector.errors) > 5:
        yield f"... and {len(collector.errors) - 5} more collection errors"
