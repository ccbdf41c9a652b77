"""The scenario directory (shared/design/scenarios.md): parties XA-XE and providers PB, PD, PX."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory

BUDAPEST_2_11 = [
    "illegal-access",
    "illegal-interception",
    "data-interference",
    "system-interference",
    "misuse-of-devices",
    "computer-forgery",
    "computer-fraud",
    "child-sexual-abuse-material",
    "copyright",
    "attempt-aiding-abetting",
]


def _contacts(party: str, *roles: str) -> list[dict[str, Any]]:
    return [
        {"role": role, "name": f"{party} {role}", "email": f"{role[:2]}@{party.lower()}.example"}
        for role in roles
    ]


STATE_ROLES = ("central-authority", "24/7-contact", "designated-authority")


def scenario_directory_document() -> dict[str, Any]:
    """The scenario parties as a directory document."""
    return {
        "version": 1,
        "issued_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "expires_at": datetime(2030, 1, 1, tzinfo=UTC).isoformat(),
        "registry": "test-registry",
        "participants": [
            {
                "id": "XA",
                "name": "Xanadu",
                "type": "state",
                "languages": ["en", "fr"],
                "contacts": _contacts("XA", *STATE_ROLES),
                "instruments": [
                    {"instrument": "budapest", "in_force_from": "2015-03-01"},
                    {"instrument": "budapest-p2", "in_force_from": "2024-06-01"},
                    {"instrument": "uncc", "in_force_from": "2026-07-01"},
                    {"instrument": "untoc"},
                ],
                "declarations": [
                    {
                        "instrument": "budapest-p2",
                        "article": "7(5)(a)",
                        "type": "declaration",
                        "effect": "simultaneous-notification",
                        "from": "2024-06-01",
                    }
                ],
                "offence_coverage": [*BUDAPEST_2_11, "extortion", "money-laundering"],
            },
            {
                "id": "XB",
                "name": "Borduria",
                "type": "state",
                "languages": ["fr"],
                "contacts": _contacts("XB", "central-authority", "24/7-contact"),
                "instruments": [
                    {"instrument": "budapest", "in_force_from": "2012-09-01"},
                    {"instrument": "untoc"},
                ],
                "declarations": [
                    {
                        "instrument": "budapest",
                        "article": "29(4)",
                        "type": "reservation",
                        "effect": "preservation-dual-criminality",
                    }
                ],
                "offence_coverage": [*BUDAPEST_2_11, "extortion"],
            },
            {
                "id": "XC",
                "name": "Carpania",
                "type": "state",
                "languages": ["es", "en"],
                "contacts": _contacts("XC", "central-authority", "24/7-contact"),
                "instruments": [
                    {"instrument": "uncc", "in_force_from": "2026-07-01"},
                    {"instrument": "untoc"},
                ],
                "offence_coverage": [*BUDAPEST_2_11, "extortion", "money-laundering"],
            },
            {
                "id": "XD",
                "name": "Dorado",
                "type": "state",
                "languages": ["ar", "en"],
                "contacts": _contacts("XD", *STATE_ROLES),
                "instruments": [
                    {"instrument": "budapest", "in_force_from": "2018-01-01"},
                    {"instrument": "budapest-p2", "in_force_from": "2025-01-01"},
                    {"instrument": "untoc"},
                ],
                "declarations": [
                    {
                        "instrument": "budapest-p2",
                        "article": "9(1)(b)",
                        "type": "declaration",
                        "effect": "no-emergency-subscriber-only",
                    }
                ],
                "offence_coverage": [*BUDAPEST_2_11, "extortion"],
            },
            {
                "id": "XE",
                "name": "Erewhon",
                "type": "state",
                "languages": ["zh", "en"],
                "contacts": _contacts("XE", "central-authority", "24/7-contact"),
                "instruments": [
                    {"instrument": "uncc", "in_force_from": "2026-07-01"},
                    {"instrument": "untoc"},
                ],
                "offence_coverage": [*BUDAPEST_2_11, "extortion", "money-laundering"],
            },
            {
                "id": "PB",
                "name": "Borduria Hosting",
                "type": "provider",
                "established_in": "XB",
                "languages": ["fr", "en"],
                "contacts": _contacts("PB", "legal-representative"),
            },
            {
                "id": "PD",
                "name": "Dorado Messaging",
                "type": "provider",
                "established_in": "XD",
                "languages": ["ar", "en"],
                "contacts": _contacts("PD", "legal-representative"),
            },
            {
                "id": "PX",
                "name": "Xanadu Cloud",
                "type": "provider",
                "established_in": "XA",
                "languages": ["en"],
                "contacts": _contacts("PX", "legal-representative"),
            },
        ],
        "treaties": [
            {
                "id": "XA-XE-mla-2010",
                "instrument": "bilateral",
                "parties": ["XA", "XE"],
                "title": "Treaty on mutual legal assistance in criminal matters (XA-XE)",
                "in_force_from": "2010-01-01",
            }
        ],
    }


@pytest.fixture(scope="session")
def directory() -> Directory:
    return parse_directory(scenario_directory_document(), source="scenario directory")
