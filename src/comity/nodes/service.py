"""Create a node, rotate and export its keys, issue API tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.kit.clock import utc_now
from comity.kit.db import make_engine, make_session_factory, transaction
from comity.kit.errors import ComityError
from comity.kit.settings import CONFIG_FILE, NodeSettings, write_config_file
from comity.nodes.keys import (
    KeyUse,
    SealedPrivateKey,
    generate_key,
    new_salt,
    open_private_key,
    public_jwk,
    seal_private_key,
)
from comity.nodes.models import NodeKey
from comity.store.migrate import upgrade


class NodeExists(ComityError):
    status_code = 409
    code = "node_exists"


def init_node(settings: NodeSettings, passphrase: str) -> dict[str, Any]:
    """Create the node's folder, config file, database schema and first key pairs."""
    home = settings.home
    if (home / CONFIG_FILE).exists():
        raise NodeExists(f"a node already exists at {home} (found {CONFIG_FILE})")
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            salt = new_salt()
            kids = [
                _add_key(session, use, settings.participant_id, passphrase, salt).kid
                for use in ("sig", "enc")
            ]
            audit.record(session, "node:keys:created", "system", settings.participant_id, kids=kids)
    finally:
        engine.dispose()
    config = {
        "participant_id": settings.participant_id,
        "host": settings.host,
        "port": settings.port,
    }
    for name in ("database_url", "public_url", "registry_url"):
        value = getattr(settings, name)
        if value:
            config[name] = value
    if settings.registry_key:
        config["registry_key"] = settings.registry_key
    write_config_file(home, config)
    return {"home": str(home), "participant_id": settings.participant_id, "kids": kids}


def _add_key(
    session: Session, use: KeyUse, participant_id: str, passphrase: str, salt: bytes | None = None
) -> NodeKey:
    key = generate_key(use, participant_id)
    sealed = seal_private_key(key, passphrase, salt)
    row = NodeKey(
        kid=str(key.kid),
        use=use,
        public_jwk=public_jwk(key),
        private_ciphertext=sealed.ciphertext,
        kdf_salt=sealed.salt,
    )
    session.add(row)
    session.flush()
    return row


def rotate_key(
    session: Session, participant_id: str, use: KeyUse, passphrase: str, actor: str
) -> NodeKey:
    """Retire the current key of `use` and make a new one, audited as done by `actor` (the
    signed-in administrator, or the operating-system user of the command line). The retired
    key stays in the keyring (to open and verify old messages) and should stay in the
    directory with `valid_until` set to its retirement time."""
    now = utc_now()
    current = session.execute(
        select(NodeKey).where(
            NodeKey.use == use, NodeKey.retired_at.is_(None), NodeKey.revoked_at.is_(None)
        )
    ).scalars()
    retired = []
    for row in current:
        row.retired_at = now
        retired.append(row.kid)
    new = _add_key(session, use, participant_id, passphrase)
    audit.record(session, "node:keys:rotated", actor, new.kid, retired=retired, use=use)
    return new


def public_keys(session: Session) -> list[dict[str, Any]]:
    """The node's public keys in directory form (paste into the registry's YAML)."""
    rows = session.execute(select(NodeKey).order_by(NodeKey.created_at)).scalars()
    keys = []
    for row in rows:
        entry: dict[str, Any] = {"kid": row.kid, "use": row.use, "jwk": row.public_jwk}
        entry["valid_from"] = row.created_at.isoformat()
        if row.retired_at:
            entry["valid_until"] = row.retired_at.isoformat()
        if row.revoked_at:
            entry["revoked"] = True
        keys.append(entry)
    return keys


def export_keys(
    session: Session, passphrase: str, include_private: bool, actor: str
) -> dict[str, Any]:
    """A JWK set for the administrator's backup; private parts only when asked for."""
    rows = list(session.execute(select(NodeKey).order_by(NodeKey.created_at)).scalars())
    keys = []
    for row in rows:
        if include_private:
            sealed = SealedPrivateKey(ciphertext=row.private_ciphertext, salt=row.kdf_salt)
            jwk = dict(open_private_key(row.kid, sealed, passphrase).as_dict(private=True))
        else:
            jwk = dict(row.public_jwk)
        jwk["use"] = row.use
        keys.append(jwk)
    audit.record(session, "node:keys:exported", actor, "", private=include_private, count=len(keys))
    return {"keys": keys}
