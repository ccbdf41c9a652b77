"""Which public key verifies a signature in a package, taken from a directory, and why not
when none does — in words a court can read."""

from __future__ import annotations

from datetime import datetime

from joserfc.jwk import OKPKey

from comity.directory.document import Directory
from comity.directory.lookup import verification_key
from comity.protocol.errors import RevokedKey, UnknownSenderKey


def signing_key(
    directory: Directory, subject: str, participant: str, kid: str, at: datetime
) -> tuple[OKPKey | None, str | None]:
    """The key `kid` of `participant` valid at `at`, or a plain sentence saying why there is
    none; `subject` names what was signed ("the manifest", "custody event 4")."""
    found = directory.participant(participant)
    if found is None:
        return None, (
            f"{subject} was signed by {participant}, which is not in directory"
            f" version {directory.version}"
        )
    try:
        return verification_key(directory, participant, kid, at), None
    except UnknownSenderKey:
        return None, (
            f"{subject} was signed by {participant} with key {kid} that the directory does not list"
        )
    except RevokedKey:
        entry = found.key(kid)
        if entry is not None and entry.revoked:
            return None, (
                f"{subject} was signed by {participant} with key {kid}, which the directory"
                " marks as revoked"
            )
        return None, (
            f"{subject} was signed by {participant} with key {kid}, which was retired before"
            " the time it claims"
        )
