"""All models, imported in one place for Alembic and schema checks."""

from comity.accounts.models import ApiToken, User, UserSession
from comity.audit.models import AuditCheckpoint, AuditEntry, ReceivedCheckpoint
from comity.cases.models import Case, CaseEvent
from comity.directory.models import DirectorySnapshot
from comity.duty.models import DutyAssignment, RosterEntry
from comity.evidence.models import (
    CustodyRecord,
    EvidenceChunk,
    EvidenceConsent,
    EvidencePackage,
    EvidenceTransfer,
    EvidenceUse,
    EvidenceUseReport,
)
from comity.messaging.models import InboxMessage, OutboxMessage, PlainRow, ReceiptRecord
from comity.nodes.models import NodeKey
from comity.notifications.models import Notification
from comity.requests.models import RequestDraft
from comity.store.base import Base
from comity.timers.models import Timer

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "Base",
    "Case",
    "CaseEvent",
    "CustodyRecord",
    "DirectorySnapshot",
    "DutyAssignment",
    "EvidenceChunk",
    "EvidenceConsent",
    "EvidencePackage",
    "EvidenceTransfer",
    "EvidenceUse",
    "EvidenceUseReport",
    "InboxMessage",
    "NodeKey",
    "Notification",
    "OutboxMessage",
    "PlainRow",
    "ReceiptRecord",
    "ReceivedCheckpoint",
    "RequestDraft",
    "RosterEntry",
    "Timer",
    "User",
    "UserSession",
]
