"""The officer's notifications: list (own and role-wide), mark read."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from comity.edges.http import AuthCaller
from comity.kit.db import transaction
from comity.nodes.runtime import Node
from comity.notifications import service
from comity.notifications.models import Notification

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


class NotificationView(BaseModel):
    id: int
    audience: str
    topic: str
    case_id: str | None
    text: str
    created_at: datetime
    read_at: datetime | None
    email_status: str

    @classmethod
    def of(cls, note: Notification) -> NotificationView:
        return cls(
            id=note.id,
            audience=note.audience,
            topic=note.topic,
            case_id=note.case_id,
            text=note.text,
            created_at=note.created_at,
            read_at=note.read_at,
            email_status=note.email_status,
        )


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.get("")
def list_notifications(
    request: Request, who: AuthCaller, unread: bool = False
) -> list[NotificationView]:
    """Notifications addressed to the caller or to one of the caller's roles, newest first."""
    with _node(request).sessions() as session:
        return [
            NotificationView.of(n) for n in service.for_caller(session, who.user, who.roles, unread)
        ]


@router.post("/{notification_id}/read")
def read(request: Request, who: AuthCaller, notification_id: int) -> NotificationView:
    with transaction(_node(request).sessions) as session:
        return NotificationView.of(service.mark_read(session, notification_id, who.user, who.roles))
