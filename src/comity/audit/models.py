"""Audit entries. Each entry's hash covers its content and the previous entry's hash, so an
altered or deleted entry breaks the chain. Entries never hold case content: only tags, actors,
identifiers and codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
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
