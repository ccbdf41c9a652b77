"""Users, their login sessions, and API tokens for systems.

Secrets are never stored in the clear: a password as an argon2id hash, a session or API token
as its SHA-256 (the token itself is shown once), the TOTP secret encrypted with AES-256-GCM
under a key derived from the node passphrase (as private keys are, `nodes/keys.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comity.kit.clock import utc_now
from comity.store.base import Base, new_id


class User(Base):
    """A person who works on this node. `roles` decide what they may do; every user logs in
    with password and TOTP code (see docs/guide-accounts-audit.md). After
    `login_max_failures` consecutive failures the account is locked until `locked_until`.
    `totp_last_step` is the last 30-second step whose code was accepted: a code is never
    accepted twice."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    totp_salt: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    password_changed_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    language: Mapped[str] = mapped_column(
        String(8), default="", server_default="", doc="Web interface language; empty: the browser's"
    )
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")


class UserSession(Base):
    """A login session. Its bearer token (`cms_...`) is shown once; only the SHA-256 is kept.
    A session ends at `expires_at`, after `session_idle_seconds` without use, at logout
    (`revoked_at`), or when its user is disabled or changes password."""

    __tablename__ = "user_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    """A bearer token (`cmt_...`) for a system calling the node's local API; only its SHA-256
    is stored. It carries its own roles and needs no second factor: it is a long random
    secret held by a machine, revoked with `comity user token-revoke`, and refused after
    `expires_at` (90 days by default, at most 366: a leaked token does not last for ever)."""

    __tablename__ = "api_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(120))
    roles: Mapped[str] = mapped_column(Text, doc="Comma-separated role names")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
