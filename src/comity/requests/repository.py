"""Queries on request drafts; the only module that talks SQL about them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from comity.requests.errors import DraftNotFound, StaleDraft
from comity.requests.models import RequestDraft


def get(session: Session, draft_id: str) -> RequestDraft:
    draft = session.get(RequestDraft, draft_id)
    if draft is None:
        raise DraftNotFound(f"no request draft {draft_id} on this node", field="draft_id")
    return draft


def add(session: Session, draft: RequestDraft) -> RequestDraft:
    session.add(draft)
    session.flush()
    return draft


def save(session: Session, draft: RequestDraft) -> None:
    """Flush a change; the UPDATE carries `WHERE version = :read`, so a concurrent writer that
    went first makes this one fail instead of being silently overwritten."""
    draft_id = draft.id  # read now: after a failed flush the session refuses to load it
    try:
        session.flush()
    except StaleDataError:
        raise StaleDraft(
            f"request draft {draft_id} was changed by someone else meanwhile; reload it",
            field="version",
        ) from None


def list_drafts(session: Session, status: str | None = None) -> list[RequestDraft]:
    query = select(RequestDraft).order_by(RequestDraft.created_at.desc())
    if status:
        query = query.where(RequestDraft.status == status)
    return list(session.execute(query).scalars())
