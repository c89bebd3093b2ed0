"""Parsed specs per process version, kept in this process so each is parsed once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

from .clocks import WorkingTime
from .limits import RunLimits
from .runtime import ProcessRuntime
from .sandbox import DEFAULT_DATA, DEFAULT_MEMORY
from .serializer import load_specs


class SpecCache:
    """A small LRU of ProcessRuntime objects keyed by process version id."""

    def __init__(self, time_limit: float, size: int = 32,
                 working_time: WorkingTime | None = None, limits: RunLimits | None = None, *,
                 memory_limit: int = DEFAULT_MEMORY, data_limit: int = DEFAULT_DATA) -> None:
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.data_limit = data_limit
        self.working_time = working_time
        self.limits = limits
        self.size = size
        self._items: OrderedDict[int, ProcessRuntime] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # how many times a spec was rebuilt (a test holds it to once)

    def get(self, version_id: int,
            load: Callable[[], tuple[str, dict[str, str]]]) -> ProcessRuntime:
        """Return the runtime of a version, rebuilding it from `load()` on a miss.

        `load` returns the stored spec JSON and the version's lane-to-role map.
        """
        with self._lock:
            runtime = self._items.get(version_id)
            if runtime is not None:
                self._items.move_to_end(version_id)
                return runtime
        spec_json, role_map = load()
        runtime = self.build(*load_specs(spec_json), role_map)
        with self._lock:
            self.loads += 1
            self._items[version_id] = runtime
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return runtime

    def build(self, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
              role_map: dict[str, str]) -> ProcessRuntime:
        """A runtime for these specs with the cache's limits and helpers (not kept)."""
        return ProcessRuntime(spec, subprocess_specs, role_map, self.time_limit,
                              self.working_time, limits=self.limits,
                              memory_limit=self.memory_limit, data_limit=self.data_limit)

    def clear(self) -> None:
        """Forget every cached spec."""
        with self._lock:
            self._items.clear()
