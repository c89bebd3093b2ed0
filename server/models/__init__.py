"""SQLAlchemy models, one module per aggregate."""

from .attachment import Attachment
from .case import Case, CaseEvent, HumanTask, ReferenceCounter, Timer
from .process import ProcessFile, ProcessVersion
from .types import UTCDateTime, utcnow
from .user import ROLES, LaneMapping, LoginAttempt, Role, User

__all__ = [
    "ROLES",
    "Attachment",
    "Case",
    "CaseEvent",
    "HumanTask",
    "LaneMapping",
    "LoginAttempt",
    "ProcessFile",
    "ProcessVersion",
    "ReferenceCounter",
    "Role",
    "Timer",
    "UTCDateTime",
    "User",
    "utcnow",
]
