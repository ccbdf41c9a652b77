"""Every directory version this node accepted, kept unchanged as received (history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base


class DirectorySnapshot(Base):
    __tablename__ = "directory_snapshots"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(Text, doc="The signed directory (compact JWS) as received")
    sha256: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    imported_at: Mapped[datetime] = mapped_column(default=utc_now)
    source: Mapped[str] = mapped_column(String(400), default="")
