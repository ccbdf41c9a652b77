"""The custody chain links as the README says, so an expert can recompute it by hand."""

from __future__ import annotations

import hashlib
import json

import pytest

from comity.evidence.custody import CustodyAction, append_event, read_chain
from comity.evidence.package import CUSTODY_NAME, MANIFEST_NAME, manifest_token
from comity.protocol.signed import read_unverified

from .conftest import Sealed
from .factories import OFFICER, PRODUCER


def test_the_first_event_links_to_the_manifest_and_each_next_to_the_previous(
    sealed: Sealed,
) -> None:
    manifest_bytes = (sealed.package / MANIFEST_NAME).read_bytes().rstrip(b"\n")
    lines = (sealed.package / CUSTODY_NAME).read_text().splitlines()
    tokens = [json.loads(line)["event"] for line in lines]

    first, second = (read_unverified(token)[1] for token in tokens)

    assert first["prev_hash"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert second["prev_hash"] == hashlib.sha256(tokens[0].encode()).hexdigest()
    assert [first["action"], second["action"]] == ["created", "sealed"]
    assert [first["seq"], second["seq"]] == [1, 2]


def test_the_user_signs_the_event_without_the_attestation(sealed: Sealed) -> None:
    _, event = read_unverified(read_chain(sealed.package / CUSTODY_NAME)[1])
    _, signed_by_user = read_unverified(event["user_attestation"]["token"])

    assert signed_by_user == {k: v for k, v in event.items() if k != "user_attestation"}


def test_details_must_be_short_plain_values(sealed: Sealed) -> None:
    with pytest.raises(ValueError, match="must be text, a number or a flag"):
        append_event(
            [],
            manifest_token(sealed.package),
            CustodyAction.DISCLOSED,
            PRODUCER,
            sealed.node_key,
            OFFICER,
            details={"content": {"nested": "rows"}},  # type: ignore[dict-item]
        )
