"""Task state changes without the log record nobody reads.

SpiffWorkflow 3.2's Task._set_state (task.py) builds a dict of logging extras (spec names,
ids, the state's name looked up by a loop) for every state change, before asking its
logger whether it logs at all; a fired timer changes about a dozen states. Here the
logger is asked first: when 'spiff.task' would log the record, SpiffWorkflow's own method
runs and logs exactly as before; when it would drop it, only the state and its time are
set, as that method sets them. tests/test_task_state.py fails if SpiffWorkflow's method
changes under this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from SpiffWorkflow import task as task_module
from SpiffWorkflow.task import Task

_LOG = task_module.logger  # the logger SpiffWorkflow's _set_state writes to
_INFO, _DEBUG = logging.INFO, logging.DEBUG
# SpiffWorkflow's own method, kept to log through whenever the logger is listening.
SPIFF_SET_STATE: Callable[[Task, int], None] = Task._set_state


def _set_state(self: Task, value: int) -> None:
    """Task._set_state, building its log record only when 'spiff.task' would log it."""
    if value != self._state:
        if _LOG.isEnabledFor(_INFO):
            SPIFF_SET_STATE(self, value)
            return
        self.last_state_change = time.time()
        self._state = value
    elif _LOG.isEnabledFor(_DEBUG):
        SPIFF_SET_STATE(self, value)


def install_quiet_state_changes() -> None:
    """Give Task the `_set_state` above (once per process; tasks of every workflow use it)."""
    if Task._set_state is not _set_state:
        Task._set_state = _set_state  # type: ignore[method-assign]
