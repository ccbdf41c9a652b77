"""Node identity: keys created, encrypted at rest, rotated, exported."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import select

from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.settings import load_settings
from comity.nodes import service
from comity.nodes.keys import WrongPassphrase
from comity.nodes.models import NodeKey
from comity.nodes.runtime import open_node
from comity.protocol.envelope import EnvelopeHeader, open_envelope, seal
from comity.protocol.errors import RevokedKey
from tests.support import PASSPHRASE, make_node


def test_init_creates_schema_config_and_both_key_pairs(
    tmp_path: Path, empty_database_url: str
) -> None:
    node = make_node(tmp_path / "xa", "XA", empty_database_url)
    assert (tmp_path / "xa" / "node.yaml").exists()
    assert node.keyring.signing_key().as_dict()["crv"] == "Ed25519"
    assert node.keyring.current_encryption_key().as_dict()["crv"] == "X25519"
    node.close()


def test_private_keys_are_encrypted_at_rest(tmp_path: Path, database_url: str) -> None:
    node = make_node(tmp_path / "xa", "XA", database_url)
    private_d = node.keyring.signing_key().as_dict(private=True)["d"]
    with node.sessions() as session:
        rows = list(session.execute(select(NodeKey)).scalars())
    assert rows
    for row in rows:
        assert "d" not in row.public_jwk
        assert private_d.encode() not in row.private_ciphertext
    node.close()


def test_wrong_passphrase_cannot_unlock_the_node(tmp_path: Path, database_url: str) -> None:
    make_node(tmp_path / "xa", "XA", database_url).close()
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        open_node(load_settings(tmp_path / "xa", key_passphrase="not the passphrase"))


def test_init_refuses_to_overwrite_an_existing_node(tmp_path: Path, database_url: str) -> None:
    make_node(tmp_path / "xa", "XA", database_url).close()
    with pytest.raises(service.NodeExists):
        service.init_node(load_settings(tmp_path / "xa", participant_id="XA"), PASSPHRASE)


def test_rotated_key_still_verifies_messages_signed_before_rotation(
    tmp_path: Path, database_url: str
) -> None:
    node = make_node(tmp_path / "xa", "XA", database_url)
    old_key = node.keyring.signing_key()
    recipient = OKPKey.generate_key("X25519", parameters={"kid": "xb-enc"}, private=True)
    before = utc_now() - timedelta(seconds=5)
    header = EnvelopeHeader("m-1", "c-1", "XA", "XB", "act", before, 1)
    old_message = seal(header, {"a": 1}, old_key, recipient)

    with transaction(node.sessions) as session:
        service.rotate_key(session, "XA", "sig", PASSPHRASE, "olga")
    node.reload_keys()
    assert node.keyring.signing_key().kid != old_key.kid
    with node.sessions() as session:
        keys = service.public_keys(session)
    from comity.directory.document import parse_directory

    directory = parse_directory(
        {
            "version": 1,
            "issued_at": utc_now(),
            "expires_at": utc_now() + timedelta(days=1),
            "registry": "R",
            "participants": [{"id": "XA", "name": "Xanadu", "type": "state", "keys": keys}],
        }
    )

    def lookup(sender: str, kid: str, at=before) -> OKPKey:
        return directory_service.verification_key(directory, sender, kid, at)

    assert open_envelope(old_message, recipient, lookup).payload == {"a": 1}
    after = EnvelopeHeader("m-2", "c-1", "XA", "XB", "act", utc_now() + timedelta(minutes=1), 1)
    late = seal(after, {"a": 2}, old_key, recipient)
    with pytest.raises(RevokedKey, match="retired"):
        open_envelope(late, recipient, lambda s, k: lookup(s, k, after.created_at))
    node.close()


def test_key_export_gives_public_jwks_or_a_private_backup(
    tmp_path: Path, database_url: str
) -> None:
    node = make_node(tmp_path / "xa", "XA", database_url)
    with transaction(node.sessions) as session:
        public = service.export_keys(session, PASSPHRASE, include_private=False, actor="admin")
        backup = service.export_keys(session, PASSPHRASE, include_private=True, actor="admin")
    assert all("d" not in key for key in public["keys"])
    assert all("d" in key for key in backup["keys"])
    restored = OKPKey.import_key(next(k for k in backup["keys"] if k["use"] == "sig"))
    assert restored.thumbprint() == node.keyring.signing_key().thumbprint()
    node.close()
