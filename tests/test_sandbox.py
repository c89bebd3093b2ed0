"""Diagram code runs in a sandbox: escapes are refused, runaway code is stopped."""

from __future__ import annotations

import time

import pytest

from server.engine.sandbox import (
    SandboxError,
    ScriptTimeout,
    ValueTooLarge,
    compile_expression,
    compile_script,
    run_limited,
    sandbox_globals,
)


def evaluate(source: str, data: dict | None = None, limit: float = 0.5):
    names = sandbox_globals()
    names.update(data or {})
    code = compile_expression(source)
    return run_limited(lambda: eval(code, names), limit)


def execute(source: str, data: dict | None = None, limit: float = 0.5) -> dict:
    names = sandbox_globals()
    names.update(data or {})
    code = compile_script(source)
    run_limited(lambda: exec(code, names), limit)
    return names


def test_ordinary_expressions_work() -> None:
    assert evaluate("priority in ('high', 'urgent') and amount > 100",
                    {"priority": "high", "amount": 150}) is True
    assert evaluate("sum(x * 2 for x in values)", {"values": [1, 2, 3]}) == 12
    assert evaluate("answer.get('accepted', False)", {"answer": {"accepted": True}}) is True
    assert evaluate("now()").endswith("+00:00")
    assert execute("total = 0\nfor n in range(10):\n    total += n\n")["total"] == 45


@pytest.mark.parametrize("source", [
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
    "(lambda: 0).__globals__",
    "getattr(int, '__subclasses__')()",
    "open('/etc/passwd').read()",
    "eval('1')",
    "exec('x = 1')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "vars()",
    "type(1)",
])
def test_escapes_are_refused(source: str) -> None:
    with pytest.raises((SandboxError, NameError, AttributeError, TypeError)):
        evaluate(source)


def test_format_string_tricks_are_refused() -> None:
    with pytest.raises(NotImplementedError):
        evaluate("'{0.__class__.__mro__}'.format(1)")


def test_import_statement_is_refused_at_compile_time() -> None:
    with pytest.raises(SandboxError, match="import"):
        compile_script("import os\n")


@pytest.mark.parametrize("source", [
    "'x' * 10**9",
    "[0] * 10**9",
    "2 ** 10**9",
    "1 << 10**9",
    "list(range(10**9))",
])
def test_huge_allocations_are_refused_before_they_happen(source: str) -> None:
    with pytest.raises(ValueTooLarge):
        evaluate(source)


def test_augmented_assignment_is_size_checked_too() -> None:
    with pytest.raises(ValueTooLarge):
        execute("s = 'x' * 1000\ns *= 10**6\n")


def test_an_endless_loop_is_stopped_at_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(ScriptTimeout):
        execute("while True:\n    pass\n", limit=0.2)
    assert time.monotonic() - started < 2


def test_a_loop_that_catches_errors_is_still_stopped() -> None:
    source = "n = 0\nwhile True:\n    try:\n        n += 1\n    except Exception:\n        pass\n"
    for _ in range(20):  # wherever in the loop the limit strikes
        with pytest.raises(ScriptTimeout):
            execute(source, limit=0.02)


@pytest.mark.parametrize("catch", [
    "    except:\n        pass\n",
    "    except BaseException:\n        pass\n",
    "    except (KeyError, BaseException):\n        pass\n",
    "    finally:\n        continue\n",
])
def test_code_that_could_swallow_the_time_limit_is_refused(catch: str) -> None:
    with pytest.raises(SandboxError):
        compile_script("while True:\n    try:\n        pass\n" + catch)


def test_a_long_comprehension_is_stopped() -> None:
    with pytest.raises(ScriptTimeout):
        evaluate("[a * b for a in range(10**6) for b in range(10**6)]", limit=0.2)


def test_the_time_limit_does_not_leak_into_later_code() -> None:
    with pytest.raises(ScriptTimeout):
        execute("while True:\n    pass\n", limit=0.1)
    time.sleep(0.15)
    assert evaluate("1 + 1") == 2
