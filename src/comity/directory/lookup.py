"""Key and endpoint look-ups in a directory: pure functions, usable offline (evidence
verification) as well as by the node's services."""

from __future__ import annotations

from datetime import datetime

from joserfc.jwk import OKPKey

from comity.directory.document import Directory, DirectoryInvalid, Participant
from comity.kit.clock import ensure_utc
from comity.protocol.errors import RevokedKey, UnknownSenderKey


def participant(directory: Directory, participant_id: str) -> Participant:
    found = directory.participant(participant_id)
    if found is None:
        raise UnknownSenderKey(
            f"{participant_id} is not in directory version {directory.version}",
            field="participant",
        )
    return found


def verification_key(directory: Directory, sender: str, kid: str, at: datetime) -> OKPKey:
    """The sender's public signing key `kid`, if it was valid for a message made at `at`."""
    entry = participant(directory, sender).key(kid)
    if entry is None or entry.use != "sig":
        raise UnknownSenderKey(
            f"{sender} has no signing key {kid} in directory v{directory.version}"
        )
    if entry.revoked:
        raise RevokedKey(f"signing key {kid} of {sender} is revoked")
    if entry.valid_until is not None and ensure_utc(entry.valid_until) < ensure_utc(at):
        raise RevokedKey(f"signing key {kid} of {sender} was retired before the message was made")
    return OKPKey.import_key(entry.jwk)


def encryption_key(directory: Directory, recipient: str) -> OKPKey:
    entry = participant(directory, recipient).current_key("enc")
    if entry is None:
        raise UnknownSenderKey(f"{recipient} has no current encryption key in the directory")
    return OKPKey.import_key(entry.jwk)


def endpoint(directory: Directory, recipient: str) -> str:
    url = participant(directory, recipient).endpoint
    if not url:
        raise DirectoryInvalid(f"{recipient} has no endpoint in directory v{directory.version}")
    return url.rstrip("/")
