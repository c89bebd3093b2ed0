"""Everything that imports SpiffWorkflow lives in this package and nowhere else."""

from .bundle import Bundle, BundleError, load_bundle
from .bundle_checks import OUTSIDE_LANES, DeployIssue
from .cache import SpecCache
from .clocks import WorkingTime
from .erasure import erase_state, erase_text
from .errors import EngineError, MessageNotExpected, TaskNotReady
from .limits import RunawayRun, RunLimits
from .runtime import ProcessRuntime
from .sandbox import SandboxError
from .serializer import STATE_FORMAT
from .service_tasks import ServiceCall, operators_of
from .snapshot import Notice, ReadyTask, Snapshot, WaitingTimer

__all__ = [
    "OUTSIDE_LANES",
    "STATE_FORMAT",
    "Bundle",
    "BundleError",
    "DeployIssue",
    "EngineError",
    "MessageNotExpected",
    "Notice",
    "ProcessRuntime",
    "ReadyTask",
    "RunLimits",
    "RunawayRun",
    "SandboxError",
    "ServiceCall",
    "Snapshot",
    "SpecCache",
    "TaskNotReady",
    "WaitingTimer",
    "WorkingTime",
    "erase_state",
    "erase_text",
    "load_bundle",
    "operators_of",
]
