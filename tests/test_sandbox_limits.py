"""Diagram code cannot outrun its limits: not by catching them, not in one C call.

Every payload here was (or is like one that was) reproduced by the security review:
each is either refused when the diagram is deployed, with a message that says why, or
stopped within its time limit (plus a margin for a loaded machine) without making the
process grow by more than a bounded amount. A missing attribute is an error, and case
data over the size limit is refused before it is saved.
"""

from __future__ import annotations

import re
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

import pytest

from server.engine import BundleError, EngineError
from server.engine.sandbox import (
    LimitExceeded,
    SandboxError,
    ScriptTimeout,
    ValueTooLarge,
    compile_expression,
    compile_script,
    run_limited,
    sandbox_globals,
    trusted,
)
from server.errors import ProcessFailed
from server.services import cases
from server.services.actors import Actor
from server.services.processes import deploy

from .support.data import ACK, ASSESS, HANDLER, INTAKE, INVESTIGATE
from .support.process import (
    ROUND_THE_CLOCK,
    bundle,
    reference_bpmn,
    reference_files,
    runtime,
    with_bpmn,
)

LIMIT = 0.5
MARGIN = 5.0  # a loaded machine may be slow to notice; what matters is that it does
MAX_GROWTH_KB = 200 * 1024  # peak resident memory any payload may add


def peak_kb() -> int:
    """The process's peak resident memory so far (Linux: kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@contextmanager
def bounded(limit: float = LIMIT) -> Iterator[None]:
    """The block returns within limit + MARGIN and raises the peak memory by < 200 MB."""
    before, started = peak_kb(), time.monotonic()
    yield
    assert time.monotonic() - started < limit + MARGIN
    assert peak_kb() - before < MAX_GROWTH_KB


def execute(source: str, data: dict[str, Any] | None = None, limit: float = LIMIT) -> None:
    names = sandbox_globals()
    names.update(data or {})
    code = compile_script(source)
    run_limited(lambda: exec(code, names), limit)


def evaluate(source: str, data: dict[str, Any] | None = None, limit: float = LIMIT) -> Any:
    names = sandbox_globals()
    names.update(data or {})
    code = compile_expression(source)
    return run_limited(lambda: eval(code, names), limit)


# --- code that could catch the limit ------------------------------------------------

@pytest.mark.parametrize(("source", "message"), [
    ("while True:\n    try:\n        pass\n    except:\n        pass\n", "bare except"),
    ("try:\n    pass\nexcept BaseException:\n    pass\n", "catch named errors only"),
    ("try:\n    pass\nexcept (KeyError, BaseException):\n    pass\n", "catch named errors only"),
    ("while True:\n    try:\n        pass\n    except ArithmeticError.mro()[2]:\n        pass\n",
     "except names the errors it catches"),
    ("def f():\n    while True:\n        pass\ntry:\n    pass\nexcept f():\n    pass\n",
     "except names the errors it catches"),
    ("while True:\n    try:\n        pass\n    finally:\n        continue\n",
     "cannot leave a finally"),
    ("class A:\n    pass\n", "classes are not available"),
    ("def g():\n    yield 1\n", "yield is not available"),
    ("with x:\n    pass\n", "with is not available"),
    ("print(1)\n", "print is not available"),
    ("x = [0] * 10\ny = [*x, *x]\n", "unpacking inside"),
    ("import os\n", "import is not allowed"),
])
def test_code_that_could_hide_from_the_limit_is_refused_at_deploy(source: str,
                                                                  message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        compile_script(source)


def test_the_deploy_names_the_element_and_says_why() -> None:
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "try:\n    acknowledgement_escalated = False\nexcept ArithmeticError.mro()[2]:\n"
        "    pass")
    with pytest.raises(BundleError) as refused:
        bundle(with_bpmn(text))
    assert any(issue.element_id == "register" and "except names the errors" in issue.message
               for issue in refused.value.issues), refused.value.issues


ENDLESS = "while True:\n    pass\n"


def indent(code: str, spaces: int = 4) -> str:
    return "".join(" " * spaces + line + "\n" for line in code.splitlines())


@pytest.mark.parametrize("source", [
    "while True:\n    try:\n" + indent(ENDLESS, 8) + "    except Exception:\n        pass\n",
    "try:\n" + indent(ENDLESS) + "finally:\n" + indent(ENDLESS),
    "while True:\n    try:\n        try:\n" + indent(ENDLESS, 12) + "        finally:\n"
    "            n = 1\n    finally:\n" + indent(ENDLESS, 8),
    "n = 0\nwhile True:\n    try:\n        n = {}['missing']\n    except KeyError:\n"
    "        n += 1\n",
    "def f():\n    return f()\ntry:\n    f()\nexcept RecursionError:\n" + indent(ENDLESS),
    "def f(n):\n    try:\n        return f(n + 1)\n    except RecursionError:\n"
    + indent(ENDLESS, 8) + "f(0)\n",
    "x = [1]\nfor i in x:\n    x.append(i)\n",
], ids=["except-Exception", "looping-finally", "nested-finally", "handler-in-loop",
        "caught-recursion", "recursion-in-handler", "list-grows-under-loop"])
def test_code_that_catches_everything_it_can_is_still_stopped(source: str) -> None:
    with bounded(), pytest.raises(ScriptTimeout):
        execute(source)


@pytest.mark.parametrize("leaked", [BaseException, ScriptTimeout, LimitExceeded],
                         ids=lambda c: c.__name__)
def test_even_a_limit_class_that_reaches_the_code_catches_nothing(leaked: type) -> None:
    # BaseException is not a builtin of diagram code; were it handed in (by a helper,
    # say), an except clause naming it still could not keep the code running.
    source = "while True:\n    try:\n" + indent(ENDLESS, 8) + "    except B:\n        pass\n"
    with bounded(), pytest.raises(ScriptTimeout):
        execute(source, {"B": leaked})
    with pytest.raises(NameError):
        execute("B = BaseException\n")


# --- single calls that would run long or build huge values --------------------------

EXPRESSIONS = [
    ("pow(7, 10**8)", ValueTooLarge),
    ("7 ** 10**8", ValueTooLarge),
    ("pow(3, 2**9000, 2**9000 + 1)", ValueTooLarge),
    ("math.comb(4*10**6, 2*10**6)", ValueTooLarge),
    ("math.factorial(2*10**6)", ValueTooLarge),
    ("math.perm(10**6, 5*10**5)", ValueTooLarge),
    ("math.prod([2**60] * 10**5)", ValueTooLarge),
    ("len(sum([[0]*1000]*100000, []))", ValueTooLarge),
    ("len(sum([[0]] * 10**6, []))", LimitExceeded),
    ('len("".join(["a"*999999]*1000))', ValueTooLarge),
    ("len('a'.ljust(2*10**8))", ValueTooLarge),
    ("len('a'.center(10**9))", ValueTooLarge),
    ("len('1'.zfill(10**9))", ValueTooLarge),
    ("len(('a' * 10**5).replace('', 'b' * 100))", ValueTooLarge),
    ("len(('\\t' * 1000).expandtabs(10**6))", ValueTooLarge),
    ("len([0] * 10**9)", ValueTooLarge),
    ("len('x' * 10**9)", ValueTooLarge),
    ("len('a'.encode() * 10**9)", ValueTooLarge),
    ('len(f"{1:{10**9}}")', ValueTooLarge),
    ('len(f"{1.5:.999999999f}")', ValueTooLarge),
    ("len('%*d' % (10**9, 1))", ValueTooLarge),
    ("len('%1000000000d' % 1)", ValueTooLarge),
    ("len('%.1000000000f' % 1.0)", ValueTooLarge),
    ("1 << 10**9", ValueTooLarge),
    ("round(5, -10**9)", ValueTooLarge),
    ("int('f' * 10**6, 16)", ValueTooLarge),
    ("len(list(range(10**9)))", ValueTooLarge),
    ("str(10**100000)", ValueTooLarge),
    ("str(2**99999)", ValueError),  # Python's own limit on int-to-str conversion
    ("len([a * b for a in range(10**6) for b in range(10**6)])", ScriptTimeout),
    ("sum(a * b for a in range(10**6) for b in range(10**6))", ScriptTimeout),
    ("max(*map(('a' * 10**6).count, ['b'] * 10**6))", ScriptTimeout),
    ("sorted(['b'] * 10**6, key=('a' * 10**6).count)", ScriptTimeout),
    ("len(list(map('a'.ljust, [10**6] * 1000)))", LimitExceeded),
    ("max(*zip(*[list(range(10**6))] * 1000))", LimitExceeded),
    ("len({i: 'a' * 10**6 for i in range(10**6)})", LimitExceeded),
    ("len([[0] * 10**6 for i in range(10**4)])", LimitExceeded),
    ("len(set([i * (2**61 - 1) for i in range(10**5)]))", LimitExceeded),
]


@pytest.mark.parametrize(("source", "stopped_by"), EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_no_single_call_in_a_condition_outruns_the_limit(source: str, stopped_by: type) -> None:
    with bounded(), pytest.raises(stopped_by):
        evaluate(source)


@pytest.mark.parametrize(("source", "stopped_by"), EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_no_single_call_in_a_script_outruns_the_limit(source: str, stopped_by: type) -> None:
    with bounded(), pytest.raises(stopped_by):
        execute(f"x = {source}\n")


GROWING = {
    "replace-doubling": "s = 'a'\nwhile True:\n    s = s.replace('a', 'aa')\n",
    "extend-doubling": "l = [0]\nwhile True:\n    l.extend(l)\n",
    "add-doubling": "s = 'ab'\nwhile True:\n    s = s + s\n",
    "iadd-doubling": "s = [1]\nwhile True:\n    s += s\n",
    "fstring-doubling": 's = "ab"\nwhile True:\n    s = f"{s}{s}"\n',
    "slice-doubling": "l = [0]\nwhile True:\n    l[0:0] = l\n",
    "int-squaring": "x = 3**60000\nwhile True:\n    x = x * x\n",
    "shift-growing": "x = 1\nwhile True:\n    x = x << 90000\n",
    "percent-many": "s = 'a' * 10**6\nx = ('%s' * 1000) % ((s,) * 1000)\n",
    "dict-of-strings": "d = {}\nwhile True:\n    d[len(d)] = 'a' * 10**6\n",
}


@pytest.mark.parametrize("source", GROWING.values(), ids=GROWING.keys())
def test_values_that_grow_step_by_step_are_stopped(source: str) -> None:
    with bounded(), pytest.raises(LimitExceeded):
        execute(source)


# Shared parts make small values huge once walked: a list of a thousand references to a
# list of a thousand strings is written out (or compared) a million strings long.
DAG = "a = ['x' * 1000] * 1000\nb = [a] * 1000\n"
PAIRS = "t = (1,)\nfor i in range(90):\n    t = (t, t)\n"


@pytest.mark.parametrize("source", [
    DAG + "x = str(b)\n",
    DAG + "x = repr(b)\n",
    DAG + "x = f'{b}'\n",
    DAG + "x = '%s' % (b,)\n",
    DAG + "c = [[y * 1 for y in a]] * 1000\nx = b == c\n",
    DAG + "x = sorted([b, [a * 1] * 1000])\n",
    PAIRS + "d = {t: 1}\n",
    PAIRS + "x = t in {1}\n",
    PAIRS + "s = set([t])\n",
    PAIRS + "d = {}\nd[t] = 1\n",
    "s = 'a' * 10**6\nl = [s * 1] * 10**6\nx = ('a' * 10**6) in l\n",
], ids=["str", "repr", "f-string", "percent", "equality", "sorted", "dict-key",
        "in-set-literal", "set", "item-assignment", "in-list"])
def test_walking_shared_parts_is_refused(source: str) -> None:
    with bounded(), pytest.raises(ValueTooLarge):
        execute(source)


def test_hashing_a_deeply_nested_tuple_is_refused_instead_of_crashing_the_process() -> None:
    # Hashing 200,000 nested tuples overflows CPython's C stack: a segmentation fault.
    source = "t = ()\nfor i in range(200000):\n    t = (t,)\nd = {t: 1}\n"
    with bounded(3.0), pytest.raises(ValueTooLarge, match="nests deeper"):
        execute(source, limit=3.0)


def test_an_error_raised_with_a_huge_value_is_not_written_out() -> None:
    text = reference_bpmn().replace("acknowledgement_escalated = False",
                                    DAG + "raise ValueError(b)")
    rt = runtime(with_bpmn(text), time_limit=LIMIT)
    with bounded(), pytest.raises(EngineError, match="too large to show"):
        rt.start(dict(INTAKE))


# --- attributes ----------------------------------------------------------------------

@pytest.mark.parametrize(("source", "message"), [
    ("'abc'.uppr()", "'str' object has no attribute 'uppr'"),
    ("answer.accepted", "'dict' object has no attribute 'accepted'"),
    ("math.tau2", "math has no 'tau2'"),
    ("'abc'.translate({})", "'str.translate' is not available"),
    ("(1).to_bytes(10**9, 'big')", "'int.to_bytes' is not available"),
    ("KeyError.mro()", "'KeyError.mro' is not available"),
    ("str.lower('A')", "'str.lower' is not available"),
])
def test_a_missing_attribute_is_an_error_not_none(source: str, message: str) -> None:
    with pytest.raises(AttributeError, match=message):
        evaluate(source, {"answer": {"accepted": True}})


def test_a_typo_in_a_condition_stops_the_step_instead_of_taking_the_other_branch() -> None:
    text = reference_bpmn().replace(">not in_scope<", ">not complainant_name.uppr()<")
    rt = runtime(with_bpmn(text))
    wf, snap = rt.start(dict(INTAKE))
    snap = rt.complete(wf, snap.ready[0].task_id, ACK)
    with pytest.raises(EngineError, match="has no attribute 'uppr'"):
        rt.complete(wf, snap.ready[0].task_id, ASSESS)


# --- the same payloads where diagrams put code ---------------------------------------

IN_DIAGRAMS = [
    ("pow(7, 10**8)", "integer of more than"),
    ("math.factorial(2*10**6)", "integer of more than"),
    ('len("".join(["a"*999999]*1000))', "more than 1,000,000"),
    ("len('a'.ljust(2*10**8))", "more than 1,000,000"),
    ('len(f"{1:{10**9}}")', "width or precision"),
    ("len('%*d' % (10**9, 1))", "more than 1,000,000"),
    ("len([x for x in range(10**6) for y in range(10**6)])", "longer than 0.5 s"),
]


def _reach_triage(rt: Any) -> None:
    wf, snap = rt.start(dict(INTAKE))
    snap = rt.complete(wf, snap.ready[0].task_id, ACK)
    rt.complete(wf, snap.ready[0].task_id, ASSESS)


def _in_script(expr: str) -> Any:
    text = reference_bpmn().replace("acknowledgement_escalated = False",
                                    f"acknowledgement_escalated = {escape(expr)}")
    return lambda: runtime(with_bpmn(text), time_limit=LIMIT).start(dict(INTAKE))


def _in_timer(expr: str) -> Any:
    text = reference_bpmn().replace('reminder("acknowledge")', escape(expr), 1)
    return lambda: runtime(with_bpmn(text), time_limit=LIMIT).start(dict(INTAKE))


def _in_condition(expr: str) -> Any:
    text = reference_bpmn().replace(">not in_scope<", f">not ({escape(expr)})<")
    return lambda: _reach_triage(runtime(with_bpmn(text), time_limit=LIMIT))


def _in_dmn(old: str) -> Callable[[str], Any]:
    def place(expr: str) -> Any:
        files = reference_files()
        files["triage.dmn"] = files["triage.dmn"].replace(
            f"<text>{old}</text>".encode(), f"<text>{escape(expr)}</text>".encode(), 1)
        return lambda: _reach_triage(runtime(files, time_limit=LIMIT))
    return place


PLACES = {"script": _in_script, "timer": _in_timer, "condition": _in_condition,
          "dmn-input": _in_dmn('"critical"'), "dmn-output": _in_dmn('"serious severity"')}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(("expr", "message"), IN_DIAGRAMS, ids=[e for e, _ in IN_DIAGRAMS])
def test_a_payload_in_any_diagram_code_fails_the_step_within_its_limit(
        place: str, expr: str, message: str) -> None:
    run = PLACES[place](expr)
    with bounded(), pytest.raises(EngineError) as failed:
        run()
    assert message in str(failed.value)
    assert "failed" in str(failed.value)


def test_a_helper_that_diagram_code_sends_into_a_loop_is_stopped() -> None:
    def step(day: int) -> int:
        return day + 1

    def working_days(n: int) -> str:  # a calendar walk that never finds its day
        day = 0
        while day != -1:
            day = step(day)
        return str(day)

    env = sandbox_globals({"working_days": trusted(working_days)})
    code = compile_expression("working_days(10**9)")
    with bounded(3.0 + LIMIT), pytest.raises(ScriptTimeout, match="helper"):
        run_limited(lambda: eval(code, env), LIMIT)


# --- case data before it is saved ----------------------------------------------------

def test_a_script_that_leaves_too_much_data_fails_naming_the_variable() -> None:
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "acknowledgement_escalated = False\nnotes_copy = 'n' * 700000\n"
        "bulky = 'b' * 900000")
    rt = runtime(with_bpmn(text))
    with pytest.raises(EngineError) as failed:
        rt.start(dict(INTAKE))
    assert failed.value.element_id == "register"
    assert "more than the 1 MB limit" in str(failed.value)
    assert "'bulky'" in str(failed.value)


def test_data_that_is_small_in_memory_but_huge_when_saved_is_refused() -> None:
    # A million-item list of references is 8 MB in memory and 5 GB written out.
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "acknowledgement_escalated = False\nrow = ['complaint'] * 1000\n"
        "table = [row] * 1000")
    rt = runtime(with_bpmn(text))
    with bounded(), pytest.raises(EngineError, match="'table'"):
        rt.start(dict(INTAKE))


def test_form_data_over_the_limit_is_refused_before_it_is_saved() -> None:
    rt = runtime()
    wf, snap = rt.start(dict(INTAKE))
    with pytest.raises(EngineError) as failed:
        rt.complete(wf, snap.ready[0].task_id, {**ACK, "ack_note": "x" * 1_200_000})
    assert "'ack_note'" in str(failed.value)


def test_the_data_limit_is_a_setting() -> None:
    rt = runtime()
    small = type(rt)(rt.spec, rt.subprocess_specs, rt.role_map, LIMIT, ROUND_THE_CLOCK,
                     data_limit=20_000)
    with pytest.raises(EngineError, match="20 KB limit"):
        small.start({**INTAKE, "description": "d" * 30_000})


def test_a_complaint_whose_diagram_builds_too_much_data_is_not_registered(app_ctx: None) -> None:
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "acknowledgement_escalated = False\nbulky = 'b' * 800000\nmore = 'm' * 800000")
    deploy(with_bpmn(text), Actor.system("test"))
    with pytest.raises(ProcessFailed) as failed:
        cases.start_case(dict(INTAKE), "web", HANDLER)
    assert "more than the 1 MB limit" in str(failed.value)
    assert "'bulky'" in str(failed.value) or "'more'" in str(failed.value)


def test_service_task_parameters_are_checked_when_deployed() -> None:
    operator = ('<spiffworkflow:serviceTaskOperator id="lookup"><spiffworkflow:parameters>'
                '<spiffworkflow:parameter id="amount" type="int" value="print(1)" />'
                '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>')
    text = reference_bpmn().replace(
        '<spiffworkflow:property name="notify" value="acknowledgement" />\n'
        '        </spiffworkflow:properties>',
        '<spiffworkflow:property name="notify" value="acknowledgement" />\n'
        '        </spiffworkflow:properties>' + operator, 1)
    with pytest.raises(BundleError) as refused:
        bundle(with_bpmn(text))
    assert any("parameter 'amount'" in issue.message and "print is not available"
               in issue.message for issue in refused.value.issues), refused.value.issues


def test_a_value_that_is_not_data_is_refused_before_the_save_fails() -> None:
    text = reference_bpmn().replace(
        "acknowledgement_escalated = False",
        "acknowledgement_escalated = False\npending = (n for n in range(3))")
    rt = runtime(with_bpmn(text))
    with pytest.raises(EngineError, match="'pending' cannot be saved: it is or holds a generator"):
        rt.start(dict(INTAKE))


@pytest.mark.parametrize("source", [
    "bytearray(10**9)", "bytes(10**9)", "iter(int, 1)", "hash((1,))", "type(1)",
    "getattr(1, 'real')", "BaseException", "__import__('os')",
])
def test_builtins_that_could_escape_the_checks_are_not_there(source: str) -> None:
    with pytest.raises((NameError, SandboxError)):
        evaluate(source)


def test_a_loop_cardinality_beyond_the_limit_stops_the_step_before_making_instances() -> None:
    loop = re.search(r'<bpmn:multiInstanceLoopCharacteristics id="consult_loop">.*?'
                     r"</bpmn:multiInstanceLoopCharacteristics>", reference_bpmn(), re.S)
    assert loop is not None
    text = reference_bpmn().replace(loop.group(0), (
        '<bpmn:multiInstanceLoopCharacteristics id="consult_loop">'
        "<bpmn:loopCardinality>10**7</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics>"))
    rt = runtime(with_bpmn(text), time_limit=LIMIT)
    wf, snap = rt.start(dict(INTAKE))
    snap = rt.complete(wf, snap.ready[0].task_id, ACK)
    snap = rt.complete(wf, snap.ready[0].task_id, ASSESS)
    with bounded(), pytest.raises(EngineError, match="loop cardinality of 'consult' is "
                                  "10,000,000: an activity may run between 0 and 1,000"):
        rt.complete(wf, snap.ready[0].task_id, {
            **INVESTIGATE, "consult_roles": ["specialist"],
            "consultation_question": "Which tariff?", "consultation_days": 2})
