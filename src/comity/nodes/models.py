"""Key pairs of this node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base, status_check


class NodeKey(Base):
    """One key pair. `use` is `sig` (Ed25519) or `enc` (X25519). The private part is encrypted
    with a key derived from the node passphrase (scrypt) and AES-256-GCM. A retired key still
    verifies (or decrypts) what was made with it before `retired_at`; a revoked key does not."""

    __tablename__ = "node_keys"
    __table_args__ = (CheckConstraint(status_check("use", ["sig", "enc"]), name="use"),)

    kid: Mapped[str] = mapped_column(String(80), primary_key=True)
    use: Mapped[str] = mapped_column(String(8))
    public_jwk: Mapped[dict[str, Any]]
    private_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
