"""Publish (registry side), import and look up the directory (every node).

A node pins the registry's public key and accepts a directory only if it is signed by that key,
not expired, and newer than the one it has. Every accepted version is kept.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from joserfc.jwk import OKPKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from comity.audit import service as audit
from comity.directory.document import Directory, DirectoryInvalid, parse_directory
from comity.directory.lookup import encryption_key, endpoint, participant, verification_key
from comity.directory.models import DirectorySnapshot
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Unauthorized
from comity.kit.jsonutil import sha256_hex
from comity.protocol.envelope import SIGNING_ALG, parse_time
from comity.protocol.errors import BadSignature, MalformedEnvelope, RevokedKey, UnknownSenderKey
from comity.protocol.signed import (
    SignedDocument,
    read_unverified,
    sign_document,
    verify_document,
)

DIRECTORY_TYP = "comity-directory+jws"

__all__ = [
    "DIRECTORY_TYP",
    "encryption_key",
    "endpoint",
    "participant",
    "verification_key",
]


class DirectoryRefused(ComityError):
    status_code = 422
    code = "directory_refused"


class NoDirectory(ComityError):
    status_code = 503
    code = "no_directory"


_parsed: dict[tuple[int, str], Directory] = {}


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryInvalid(f"{path}: cannot read directory YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DirectoryInvalid(f"{path}: expected a mapping at the top level")
    return raw


def publish(
    session: Session,
    raw: dict[str, Any],
    registry_id: str,
    signing_key: OKPKey,
    valid_days: int = 30,
    actor: str = "administrator",
) -> str:
    """Sign `raw` (the YAML content) as the next directory version and store it."""
    now = utc_now()
    current = latest_version(session) or 0
    document = dict(raw)
    document.setdefault("version", current + 1)
    document.setdefault("issued_at", now)
    document.setdefault("expires_at", now + timedelta(days=valid_days))
    document["registry"] = registry_id
    directory = parse_directory(document, "directory.yaml")
    if directory.version <= current:
        raise DirectoryRefused(
            f"version {directory.version} is not newer than the published version {current}"
        )
    token = sign_document(DIRECTORY_TYP, registry_id, directory.to_json_dict(), signing_key)
    _store(session, token, directory, source="published")
    forget_current()
    audit.record(session, "registry:directory:published", actor, str(directory.version))
    return token


def _store(session: Session, token: str, directory: Directory, source: str) -> None:
    session.add(
        DirectorySnapshot(
            version=directory.version,
            token=token,
            sha256=sha256_hex(token),
            issued_at=ensure_utc(directory.issued_at),
            expires_at=ensure_utc(directory.expires_at),
            source=source[:400],
        )
    )
    session.flush()


def verify_token(token: str, registry_key: dict[str, Any] | None) -> Directory:
    """Check the registry's signature with the pinned key and parse the document."""
    if registry_key is None:
        raise DirectoryRefused(
            "no registry key is pinned: pass the registry's public key (--registry-key) once"
        )
    pinned = OKPKey.import_key(registry_key)
    try:
        header, _ = read_unverified(token)
    except MalformedEnvelope as exc:
        raise DirectoryRefused(f"not a signed directory: {exc.message}") from exc
    if header.get("alg") != SIGNING_ALG or "kid" not in header:
        raise DirectoryRefused("directory is unsigned or not signed with Ed25519")

    def key_for(issuer: str, kid: str) -> OKPKey:
        if kid != pinned.kid:
            raise BadSignature(f"directory signed with key {kid}, not the pinned {pinned.kid}")
        return pinned

    try:
        document = verify_document(token, DIRECTORY_TYP, key_for)
    except (BadSignature, MalformedEnvelope) as exc:
        raise DirectoryRefused(f"directory signature invalid: {exc.message}") from exc
    return parse_directory(document.payload, "signed directory")


def import_token(
    session: Session,
    token: str,
    registry_key: dict[str, Any] | None,
    source: str,
    actor: str = "system",
) -> tuple[Directory, bool]:
    """Accept a newer signed directory in the caller's transaction. Returns (directory,
    changed). Prefer `import_signed`, which also audits a refusal."""
    try:
        directory = verify_token(token, registry_key)
        now = utc_now()
        if ensure_utc(directory.expires_at) <= now:
            raise DirectoryRefused(
                f"directory version {directory.version} expired at {directory.expires_at}"
            )
        existing = session.get(DirectorySnapshot, directory.version)
        if existing is not None:
            if existing.sha256 == sha256_hex(token):
                return directory, False
            raise DirectoryRefused(
                f"a different directory with version {directory.version} is already held"
            )
        current = latest_version(session)
        if current is not None and directory.version < current:
            raise DirectoryRefused(
                f"directory version {directory.version} is older than the current version"
                f" {current}: refused as a rollback"
            )
    except DirectoryRefused:
        raise
    _store(session, token, directory, source=source)
    audit.record(session, "directory:import:accepted", actor, str(directory.version))
    forget_current()
    return directory, True


def import_signed(
    sessions: sessionmaker[Session],
    token: str,
    registry_key: dict[str, Any] | None,
    source: str,
    actor: str = "system",
) -> tuple[Directory, bool]:
    """`import_token` in its own transaction; a refusal is audited even though nothing is kept."""
    try:
        with transaction(sessions) as session:
            return import_token(session, token, registry_key, source, actor)
    except DirectoryRefused as exc:
        audit.record_refusal(sessions, "directory:import:refused", actor, source[:200], exc)
        raise


def latest_version(session: Session) -> int | None:
    return session.execute(select(func.max(DirectorySnapshot.version))).scalar_one_or_none()


def current_token(session: Session) -> str:
    version = latest_version(session)
    if version is None:
        raise NoDirectory("this node holds no directory yet: import or pull one")
    snapshot = session.get(DirectorySnapshot, version)
    if snapshot is None:
        raise NoDirectory("the current directory version vanished; import it again")
    return snapshot.token


_CACHE_SECONDS = 2.0
_current_cache: dict[str, tuple[float, Directory]] = {}


def _cache_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def forget_current() -> None:
    """Drop the per-process cache of the current directory (after an import)."""
    _current_cache.clear()


def current(session: Session, require_valid: bool = True) -> Directory:
    """The newest accepted directory; refuses an expired one unless asked not to.

    Cached per database for two seconds: every envelope needs it, a new version is rare, and
    an import in this process clears the cache at once."""
    key = _cache_key(session)
    cached = _current_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        directory = cached[1]
    else:
        row = session.execute(
            select(DirectorySnapshot.version, DirectorySnapshot.sha256)
            .order_by(DirectorySnapshot.version.desc())
            .limit(1)
        ).first()
        if row is None:
            raise NoDirectory("this node holds no directory yet: import or pull one")
        version, sha = row
        parsed = _parsed.get((version, sha))
        if parsed is None:
            snapshot = session.get(DirectorySnapshot, version)
            if snapshot is None:
                raise NoDirectory("the current directory version vanished; import it again")
            _, payload = read_unverified(snapshot.token)
            parsed = parse_directory(payload, f"stored directory v{version}")
            _parsed[(version, sha)] = parsed
        directory = parsed
        _current_cache[key] = (time.monotonic() + _CACHE_SECONDS, directory)
    if require_valid and ensure_utc(directory.expires_at) <= utc_now():
        raise NoDirectory(
            f"directory version {directory.version} expired at {directory.expires_at}:"
            " pull a fresh one"
        )
    return directory


def history(session: Session) -> list[DirectorySnapshot]:
    return list(
        session.execute(select(DirectorySnapshot).order_by(DirectorySnapshot.version)).scalars()
    )


def verify_signed_request(
    session: Session, token: str, typ: str, max_age: timedelta, skew: timedelta, what: str
) -> tuple[dict[str, Any], SignedDocument]:
    """A short-lived request a participant of the current directory signed (a chunk of an
    evidence transfer, a question to a peer): its protected header and verified document, or
    `Unauthorized` (401) naming `what` when it is not a signed document, is dated more than
    `max_age` ago or beyond `skew` ahead, or its signature does not verify by the directory's
    key for that time. What it must cover is the caller's check."""
    try:
        header, unverified = read_unverified(token)
        at = ensure_utc(parse_time(str(unverified["at"])))
    except (MalformedEnvelope, KeyError, ValueError):
        raise Unauthorized(f"the {what} is not a signed document") from None
    now = utc_now()
    if not now - max_age <= at <= now + skew:
        raise Unauthorized(f"the {what} is too old or dated in the future")
    directory = current(session)
    try:
        signed = verify_document(
            token, typ, lambda who, kid: verification_key(directory, who, kid, at)
        )
    except (BadSignature, MalformedEnvelope, UnknownSenderKey, RevokedKey) as exc:
        raise Unauthorized(f"{what} refused: {exc.message}") from None
    return header, signed
