"""Everything that imports SpiffWorkflow lives in this package and nowhere else."""

from .bundle import Bundle, BundleError, DeployIssue, load_bundle
from .cache import SpecCache
from .clocks import WorkingTime
from .runtime import (
    EngineError,
    MessageNotExpected,
    Notice,
    ProcessRuntime,
    ReadyTask,
    Snapshot,
    TaskNotReady,
    WaitingTimer,
)
from .sandbox import SandboxError
from .serializer import STATE_FORMAT

__all__ = [
    "STATE_FORMAT",
    "Bundle",
    "BundleError",
    "DeployIssue",
    "EngineError",
    "MessageNotExpected",
    "Notice",
    "ProcessRuntime",
    "ReadyTask",
    "SandboxError",
    "Snapshot",
    "SpecCache",
    "TaskNotReady",
    "WaitingTimer",
    "WorkingTime",
    "load_bundle",
]
