"""SQLAlchemy models, one module per aggregate."""

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
from .outbox import OutboxAttachment, OutboxMessage
from .pack_schedule import PackRecipient, PackRun
from .policy import EscalationTarget
from .process import ProcessFile, ProcessVersion
from .report import CaseReport
from .service_call import ServiceCall
from .system_event import AuditChainHead, AuditCheckpoint, AuditTombstone, SystemEvent
from .types import UTCDateTime, utcnow
from .user import ROLES, LaneMapping, Role, SignInThrottle, User
from .webhook import WebhookDelivery, WebhookSubscription

__all__ = [
    "ROLES",
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
    "BusinessCalendar",
    "CalendarDate",
    "Case",
    "CaseEvent",
    "CaseReport",
    "CodeEntry",
    "CorrectiveAction",
    "DataRequest",
    "DraftFile",
    "EscalationTarget",
    "HumanTask",
    "InboundMail",
    "Incident",
    "LaneMapping",
    "MailboxLease",
    "OutboxAttachment",
    "OutboxMessage",
    "PackRecipient",
    "PackRun",
    "ProcessDraft",
    "ProcessFile",
    "ProcessVersion",
    "ReferenceCounter",
    "Role",
    "ServiceCall",
    "SignInThrottle",
    "SystemEvent",
    "SystemicAlert",
    "Timer",
    "UTCDateTime",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkingHours",
    "utcnow",
]
