"""Keys, a directory and sealed packages for the evidence tests; no database, no node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from comity.directory.document import Directory, parse_directory
from comity.evidence.manifest import Acquisition, Manifest
from comity.evidence.package import seal_folder

PRODUCER = "XA"
RECEIVER = "XB"
OFFICER = "XA:officer.martin"


def signing_key(kid: str) -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid}, private=True)


def participant(participant_id: str, *keys: OKPKey, **extra: Any) -> dict[str, Any]:
    return {
        "id": participant_id,
        "name": f"State {participant_id}",
        "type": "state",
        "keys": [
            {"kid": key.kid, "use": "sig", "jwk": dict(key.as_dict(private=False)), **extra}
            for key in keys
        ],
    }


def directory_of(*participants: dict[str, Any]) -> Directory:
    now = datetime.now(UTC)
    return parse_directory(
        {
            "version": 3,
            "issued_at": now - timedelta(days=1),
            "expires_at": now + timedelta(days=29),
            "registry": "REG",
            "participants": [
                {"id": "REG", "name": "Registry", "type": "registry"},
                *participants,
            ],
        }
    )


def evidence_folder(root: Path) -> Path:
    folder = root / "seized"
    (folder / "logs").mkdir(parents=True)
    (folder / "logs" / "x.log").write_bytes(b"2026-11-20 login from 203.0.113.7\n" * 50)
    (folder / "subscriber.csv").write_text("account,created\nalice,2024-03-01\n")
    (folder / "empty.bin").write_bytes(b"")
    return folder


def acquisition() -> Acquisition:
    return Acquisition(
        by=OFFICER,
        at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        method="export from the provider's subscriber database",
        tool="comity seal 0.1",
    )


def seal(source: Path, out: Path, node_key: OKPKey, user_key: OKPKey | None = None) -> Manifest:
    return seal_folder(
        source,
        out,
        producer=PRODUCER,
        node_key=node_key,
        user=OFFICER,
        user_key=user_key,
        description="Subscriber data and access logs for account alice",
        answers_request="c0ffee00-0000-4000-8000-000000000001",
        acquisition=acquisition(),
        conditions_on_use="Only for the proceedings named; no onward transfer without consent",
        permitted_proceedings=["XB criminal case 2026/114"],
        confidential=True,
    )
