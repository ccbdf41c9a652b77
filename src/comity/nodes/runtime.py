"""A running node: settings, database, unlocked keys. Built by `open_node`, never at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from joserfc.jwk import OKPKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from comity.kit.db import make_engine, make_session_factory
from comity.kit.errors import ConfigurationError
from comity.kit.settings import NodeSettings
from comity.nodes.keys import SealedPrivateKey, open_private_key
from comity.nodes.models import NodeKey
from comity.store.migrate import current_revision


@dataclass
class Keyring:
    """This node's unlocked keys, by key id."""

    keys: dict[str, OKPKey] = field(default_factory=dict)
    use: dict[str, str] = field(default_factory=dict)
    retired: dict[str, datetime | None] = field(default_factory=dict)

    def signing_key(self) -> OKPKey:
        current = [k for k, u in self.use.items() if u == "sig" and self.retired.get(k) is None]
        if not current:
            raise ConfigurationError("this node has no current signing key: run 'comity node init'")
        return self.keys[current[-1]]

    def current_encryption_key(self) -> OKPKey:
        current = [k for k, u in self.use.items() if u == "enc" and self.retired.get(k) is None]
        if not current:
            raise ConfigurationError("this node has no current encryption key")
        return self.keys[current[-1]]

    def decryption_key(self, kid: str) -> OKPKey | None:
        if self.use.get(kid) != "enc":
            return None
        return self.keys.get(kid)


def load_keyring(session: Session, passphrase: str) -> Keyring:
    ring = Keyring()
    rows = session.execute(
        select(NodeKey).where(NodeKey.revoked_at.is_(None)).order_by(NodeKey.created_at)
    ).scalars()
    for row in rows:
        sealed = SealedPrivateKey(ciphertext=row.private_ciphertext, salt=row.kdf_salt)
        ring.keys[row.kid] = open_private_key(row.kid, sealed, passphrase)
        ring.use[row.kid] = row.use
        ring.retired[row.kid] = row.retired_at
    return ring


@dataclass
class Node:
    settings: NodeSettings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring

    @property
    def participant_id(self) -> str:
        return self.settings.participant_id

    def reload_keys(self) -> None:
        with self.sessions() as session:
            self.keyring = load_keyring(session, passphrase_of(self.settings))

    def close(self) -> None:
        self.engine.dispose()


def passphrase_of(settings: NodeSettings) -> str:
    if settings.key_passphrase is None:
        raise ConfigurationError("set COMITY_KEY_PASSPHRASE to unlock this node's keys")
    return settings.key_passphrase.get_secret_value()


def open_node(settings: NodeSettings, engine: Engine | None = None) -> Node:
    """Open an initialised node; refuses a database whose schema is not migrated."""
    if not settings.participant_id:
        raise ConfigurationError(
            f"no node at {settings.home}: run 'comity node init' (node.yaml lacks participant_id)"
        )
    engine = engine or make_engine(settings.effective_database_url)
    try:
        if current_revision(engine) is None:
            raise ConfigurationError(
                f"database of node {settings.participant_id} is not initialised"
            )
        sessions = make_session_factory(engine)
        with sessions() as session:
            keyring = load_keyring(session, passphrase_of(settings))
    except BaseException:
        engine.dispose()
        raise
    return Node(settings=settings, engine=engine, sessions=sessions, keyring=keyring)
