"""Audit entries. Each entry's hash covers its content and the previous entry's hash, so an
altered or deleted entry breaks the chain. Entries never hold case content: only tags, actors,
identifiers and codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    tag: Mapped[str] = mapped_column(String(120), index=True, doc="source:subject:action")
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A checkpoint this node signed: the chain had `count` entries ending in `head_hash`.
    `token` is the JWS sent to peers. If the log is later cut back below `count`, or entry
    `count` no longer has `head_hash`, `comity audit verify` reports it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    count: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    token: Mapped[str] = mapped_column(Text)
    sent_to: Mapped[list[str]] = mapped_column(JSON)


class ReceivedCheckpoint(Base):
    """A checkpoint a peer node signed and sent us. We keep it so that the peer (or a court)
    can later prove that the peer's log once held `count` entries ending in `head_hash`."""

    __tablename__ = "audit_checkpoints_received"
    __table_args__ = (Index("ix_audit_checkpoints_received_issuer", "issuer", "count"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    token: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
