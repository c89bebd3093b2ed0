"""SQLAlchemy models, one module per aggregate."""

from .access_log import AccessLogEntry, BulkAccessAlert
from .action import ActionComplaint, CorrectiveAction
from .api_client import ApiClient, ApiIdempotency, ApiRateWindow
from .attachment import Attachment
from .audit_sample import AuditCheck, AuditSample, AuditSampleCase
from .calendar import BusinessCalendar, CalendarDate, WorkingHours
from .case import Case, CaseEvent, HumanTask, ReferenceCounter, Timer
from .code_list import CodeEntry, SystemicAlert
from .data_request import DataRequest
from .draft import DraftFile, ProcessDraft
from .inbound_mail import InboundMail, MailboxLease
from .incident import Incident
from .oidc import GroupRole, OidcIdentity
from .outbox import OutboxAttachment, OutboxMessage
from .pack_schedule import PackRecipient, PackRun
from .policy import EscalationTarget
from .process import ProcessFile, ProcessVersion
from .replay import ReplayJob
from .report import CaseReport
from .retention import CaseErasure, CaseEventRedaction, LegalHold, RetentionRule
from .service_call import ServiceCall
from .system_event import AuditChainHead, AuditCheckpoint, AuditTombstone, SystemEvent
from .team import CaseViewer, Team, TeamRoute
from .types import UTCDateTime, utcnow
from .user import ROLES, LaneMapping, RecoveryCode, Role, SignInThrottle, User
from .webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "ROLES",
    "AccessLogEntry",
    "ActionComplaint",
    "ApiClient",
    "ApiIdempotency",
    "ApiRateWindow",
    "Attachment",
    "AuditChainHead",
    "AuditCheck",
    "AuditCheckpoint",
    "AuditSample",
    "AuditSampleCase",
    "AuditTombstone",
    "BulkAccessAlert",
    "BusinessCalendar",
    "CalendarDate",
    "Case",
    "CaseErasure",
    "CaseEvent",
    "CaseEventRedaction",
    "CaseReport",
    "CaseViewer",
    "CodeEntry",
    "CorrectiveAction",
    "DataRequest",
    "DraftFile",
    "EscalationTarget",
    "GroupRole",
    "HumanTask",
    "InboundMail",
    "Incident",
    "LaneMapping",
    "LegalHold",
    "MailboxLease",
    "OidcIdentity",
    "OutboxAttachment",
    "OutboxMessage",
    "PackRecipient",
    "PackRun",
    "ProcessDraft",
    "ProcessFile",
    "ProcessVersion",
    "RecoveryCode",
    "ReferenceCounter",
    "ReplayJob",
    "RetentionRule",
    "Role",
    "ServiceCall",
    "SignInThrottle",
    "SystemEvent",
    "SystemicAlert",
    "Team",
    "TeamRoute",
    "Timer",
    "UTCDateTime",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkingHours",
    "utcnow",
]
