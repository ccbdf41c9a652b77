"""The officer's notifications: list (own and role-wide), mark read."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from comity.edges.http import AuthCaller, NodeDep
from comity.kit.db import transaction
from comity.notifications import service

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


class NotificationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    audience: str
    topic: str
    case_id: str | None
    text: str
    created_at: datetime
    read_at: datetime | None
    email_status: str


@router.get("")
def list_notifications(
    node: NodeDep, who: AuthCaller, unread: bool = False
) -> list[NotificationView]:
    """Notifications addressed to the caller or to one of the caller's roles, newest first."""
    with node.sessions() as session:
        found = service.for_caller(session, who.user, who.roles, unread)
        return [NotificationView.model_validate(n) for n in found]


@router.post("/{notification_id}/read")
def read(node: NodeDep, who: AuthCaller, notification_id: int) -> NotificationView:
    with transaction(node.sessions) as session:
        note = service.mark_read(session, notification_id, who.user, who.roles)
        return NotificationView.model_validate(note)
