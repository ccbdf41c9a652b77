"""The auditor's API: read the audit log and verify it. Only the `auditor` role; every read
is itself audited, so the watchers are watched. (What a peer asks of the checkpoints this
node holds is answered in `witnesses/api.py`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from comity.audit import service, verification
from comity.cases.permissions import require_any
from comity.edges.http import AuthCaller, NodeDep
from comity.kit.db import transaction
from comity.witnesses import service as witnesses

router = APIRouter(prefix="/v1/audit", tags=["audit"])
AUDITORS = frozenset({"auditor"})


class EntryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    tag: str
    actor: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationView(BaseModel):
    intact: bool
    entries: int
    checkpoints: int
    findings: list[str]


@router.get("")
def read_log(
    node: NodeDep,
    who: AuthCaller,
    tag: str = Query("", description="Only entries whose tag starts with this"),
    after: int = Query(0, ge=0, description="Only entries after this number"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[EntryView]:
    """Entries in order, a page at a time (`after` = the last number of the previous page)."""
    require_any(who.roles, AUDITORS, "reading the audit log")
    with transaction(node.sessions) as session:
        page = service.page(session, tag, after, limit)
        service.record(session, "audit:log:read", who.user, tag, after=after, count=len(page))
        return [EntryView.model_validate(e) for e in page]


@router.get("/verify")
def verify_log(node: NodeDep, who: AuthCaller) -> VerificationView:
    """What `comity audit verify` says, without a peer's checkpoint file."""
    require_any(who.roles, AUDITORS, "verifying the audit log")
    with transaction(node.sessions) as session:
        report = verification.verify(session, node.participant_id, witnesses.key_for(session))
        service.record(session, "audit:log:verified", who.user, intact=report.intact)
    return VerificationView(
        intact=report.intact,
        entries=report.entries,
        checkpoints=report.checkpoints,
        findings=[str(f) for f in report.findings],
    )
