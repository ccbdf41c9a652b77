"""All models, imported in one place for Alembic and schema checks."""

from comity.audit.models import AuditEntry
from comity.cases.models import Case, CaseEvent
from comity.directory.models import DirectorySnapshot
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
from comity.nodes.models import ApiToken, NodeKey
from comity.requests.models import RequestDraft
from comity.store.base import Base
from comity.timers.models import Timer

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "CaseEvent",
    "CustodyRecord",
    "DirectorySnapshot",
    "EvidenceChunk",
    "EvidenceConsent",
    "EvidencePackage",
    "EvidenceTransfer",
    "EvidenceUse",
    "EvidenceUseReport",
    "InboxMessage",
    "NodeKey",
    "OutboxMessage",
    "PlainRow",
    "ReceiptRecord",
    "RequestDraft",
    "Timer",
]
