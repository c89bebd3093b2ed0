"""SpiffWorkflow's script engine, running every expression and script in the sandbox."""

from __future__ import annotations

import copy
import decimal
import functools
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .sandbox import (
    DEFAULT_DATA,
    DEFAULT_MEMORY,
    LimitExceeded,
    SandboxError,
    compile_expression,
    compile_script,
    data_size_problem,
    run_limited,
    sandbox_globals,
    trusted,
    weigh,
)
from .sandbox_modules import CONTEXT
from .sandbox_values import make_storable, storable

_FLAT = (str, int, float, bool, type(None))
_MAX_ERROR = 2000  # characters of an error message diagram code raised that we show


class SandboxedEnvironment(TaskDataEnvironment):
    """Evaluates diagram code with RestrictedPython under its limits."""

    def __init__(self, time_limit: float,
                 helpers: dict[str, Callable[..., Any]] | None = None,
                 data_helpers: dict[str, Callable[..., Any]] | None = None, *,
                 memory_limit: int = DEFAULT_MEMORY, data_limit: int = DEFAULT_DATA) -> None:
        helpers = {name: trusted(fn) for name, fn in (helpers or {}).items()}
        data_helpers = {name: trusted(fn) for name, fn in (data_helpers or {}).items()}
        super().__init__(sandbox_globals({**helpers, **data_helpers}))
        self._guards = {k: v for k, v in self.globals.items() if k.startswith("_")}
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.data_limit = data_limit
        self.data_helpers: dict[str, Callable[..., Any]] = data_helpers

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate an expression; a value that could be stored is size-checked."""
        code = compile_expression(expression)
        names = copy.copy(self.globals)
        names.update(external_context or {})
        names.update(context)
        names.update(self._guards)  # data (a message payload, say) cannot replace them
        self._bind(code.co_names, names, context)
        result = self._run(lambda: eval(code, names))  # noqa: S307 - restricted code
        if type(result) not in _FLAT or (type(result) is str and len(result) > self.data_limit):
            # A value an expression gives may be stored (DMN outputs, message payloads).
            try:
                weigh("the value", result, limit=self.data_limit)
            except LimitExceeded as exc:
                raise SandboxError(str(exc)) from None
            result = storable(result)
        return result

    def _bind(self, used: tuple[str, ...], names: dict[str, Any],
              data: dict[str, Any]) -> None:
        # Helpers such as deadline("acknowledge") read the case's priority and dates
        # from the task data; bind only the ones this code uses (most code uses none).
        """Bind the data helpers the code uses to its data."""
        for name in used:
            if name in self.data_helpers and names.get(name) is self.data_helpers[name]:
                names[name] = functools.partial(self.data_helpers[name], data)

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        """Run a script; the data it leaves is size-checked before the next task gets it."""
        code = compile_script(script)
        self.check_for_overwrite(context, external_context or {})
        context.update(copy.copy(self.globals))
        context.update(external_context or {})
        # Bound to the live namespace: a helper called late in a script sees what the
        # script set before (e.g. received_at = now(); expected_by = deadline(...)).
        self._bind(code.co_names, context, context)
        try:
            self._run(lambda: exec(code, context))  # noqa: S102 - restricted code
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        # Checked before SpiffWorkflow copies the data into the next tasks.
        problem = data_size_problem(context, self.data_limit)
        if problem:
            raise SandboxError(problem)
        make_storable(context)  # dates and Decimals as text: the serializer cannot store them
        return True

    def _run(self, fn: Callable[[], Any]) -> Any:
        """Run under the limits; hand SpiffWorkflow an ordinary error it can write out."""
        try:
            # Decimal arithmetic with 28 digits whatever the thread's context says.
            with decimal.localcontext(CONTEXT):
                return run_limited(fn, self.time_limit, self.memory_limit)
        except LimitExceeded as exc:
            # Hand SpiffWorkflow an ordinary exception so the task goes to ERROR
            # with the element named, like any other failing expression.
            raise SandboxError(str(exc)) from None
        except Exception as exc:
            # SpiffWorkflow and the log write the error out: diagram code may have
            # raised it with a value that is huge once written (shared parts).
            try:
                weigh("the error", exc.args, limit=_MAX_ERROR)
            except LimitExceeded:
                raise SandboxError(f"{type(exc).__name__} with a value too large to "
                                   "show") from None
            if len(str(exc)) > _MAX_ERROR:
                raise SandboxError(f"{type(exc).__name__}: {str(exc)[:_MAX_ERROR]}...") from None
            raise


MAX_INSTANCES = 1000  # instances of one multi-instance activity (loopCardinality)


class SandboxedScriptEngine(PythonScriptEngine):
    """A PythonScriptEngine whose validate() also applies the sandbox policy."""

    def __init__(self, time_limit: float,
                 helpers: dict[str, Callable[..., Any]] | None = None,
                 data_helpers: dict[str, Callable[..., Any]] | None = None, *,
                 memory_limit: int = DEFAULT_MEMORY, data_limit: int = DEFAULT_DATA) -> None:
        super().__init__(environment=SandboxedEnvironment(
            time_limit, helpers, data_helpers, memory_limit=memory_limit,
            data_limit=data_limit))

    def evaluate(self, task: Any, expression: str,
                 external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate for a task; a loop cardinality over MAX_INSTANCES is refused.

        SpiffWorkflow makes every instance of a parallel multi-instance activity at
        once, in its own code, where no limit of ours reaches.
        """
        result = super().evaluate(task, expression, external_context)
        if expression == getattr(task.task_spec, "cardinality", None) and \
                isinstance(result, int) and not 0 <= result <= MAX_INSTANCES:
            raise SandboxError(_(
                "the loop cardinality of '%(activity)s' is %(count)s: an activity may run "
                "between 0 and %(limit)s times",
                activity=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                count=f"{result:,}", limit=f"{MAX_INSTANCES:,}"))
        return result

    def validate(self, expression: str) -> None:
        """Compile under the sandbox policy, as SpiffWorkflow's DMN engine asks."""
        try:
            compile_expression(expression)
        except SandboxError as exc:
            raise SyntaxError(str(exc)) from None
