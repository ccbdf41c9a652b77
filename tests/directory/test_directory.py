"""The directory: accepted only if signed by the pinned registry, unexpired and newer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from comity.directory import service
from comity.directory.document import DirectoryInvalid
from comity.directory.service import DirectoryRefused
from comity.kit.clock import FrozenClock, use_clock, utc_now
from comity.kit.db import transaction
from comity.nodes.keys import public_jwk
from comity.protocol.signed import sign_document
from tests.support import make_node, participant_entry, publish


@pytest.fixture
def pair(tmp_path: Path, database_factory):
    registry = make_node(tmp_path / "reg", "REGISTRY", database_factory())
    node = make_node(tmp_path / "xa", "XA", database_factory())
    yield registry, node
    registry.close()
    node.close()


def do_import(node, token: str, registry) -> tuple:
    return service.import_signed(
        node.sessions, token, public_jwk(registry.keyring.signing_key()), "test"
    )


def refused_count(node) -> int:
    from comity.audit.service import entries

    with node.sessions() as session:
        return len(entries(session, "directory:import:refused"))


def test_signed_directory_is_imported_and_kept_in_history(pair) -> None:
    registry, node = pair
    first = publish(registry, [participant_entry(node)])
    second = publish(registry, [participant_entry(node, languages=["en", "fr"])])
    assert do_import(node, first, registry)[1] is True
    assert do_import(node, second, registry)[1] is True
    assert do_import(node, second, registry)[1] is False
    with node.sessions() as session:
        assert [s.version for s in service.history(session)] == [1, 2]
        assert service.current(session).participant("XA").languages == ["en", "fr"]


def test_older_directory_is_refused_as_a_rollback(pair) -> None:
    registry, node = pair
    first = publish(registry, [participant_entry(node)])
    second = publish(registry, [participant_entry(node)])
    do_import(node, second, registry)
    with pytest.raises(DirectoryRefused, match="rollback"):
        do_import(node, first, registry)
    assert refused_count(node) == 1


def test_tampered_directory_is_refused(pair) -> None:
    registry, node = pair
    token = publish(registry, [participant_entry(node)])
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    with pytest.raises(DirectoryRefused):
        do_import(node, tampered, registry)


def test_directory_signed_by_another_key_is_refused(pair) -> None:
    registry, node = pair
    impostor = OKPKey.generate_key("Ed25519", parameters={"kid": "impostor"}, private=True)
    document = {
        "version": 9,
        "issued_at": utc_now().isoformat(),
        "registry": "REGISTRY",
        "expires_at": (utc_now() + timedelta(days=5)).isoformat(),
        "participants": [participant_entry(node)],
    }
    token = sign_document("comity-directory+jws", "REGISTRY", document, impostor)
    with pytest.raises(DirectoryRefused, match="pinned"):
        do_import(node, token, registry)


def test_unsigned_directory_is_refused(pair) -> None:
    registry, node = pair
    with pytest.raises(DirectoryRefused, match="not a signed directory"):
        do_import(node, '{"version": 1, "participants": []}', registry)


def test_expired_directory_is_refused(pair) -> None:
    registry, node = pair
    token = publish(registry, [participant_entry(node)])
    previous = use_clock(FrozenClock(utc_now() + timedelta(days=31)))
    try:
        with pytest.raises(DirectoryRefused, match="expired"):
            do_import(node, token, registry)
    finally:
        use_clock(previous)


def test_directory_without_pinned_registry_key_is_refused(pair) -> None:
    registry, node = pair
    token = publish(registry, [participant_entry(node)])
    with transaction(node.sessions) as session, pytest.raises(DirectoryRefused, match="pinned"):
        service.import_token(session, token, None, "test")


def test_invalid_directory_yaml_names_the_field(pair, tmp_path: Path) -> None:
    registry, _ = pair
    with pytest.raises(DirectoryInvalid, match=r"participants\.0\.type"):
        publish(registry, [{"id": "XA", "name": "Xanadu", "type": "planet"}])
    bad = tmp_path / "bad.yaml"
    bad.write_text("participants: [unclosed")
    with pytest.raises(DirectoryInvalid, match=r"bad\.yaml"):
        service.load_yaml(bad)


def test_directory_key_with_private_part_is_refused(pair) -> None:
    registry, node = pair
    entry = participant_entry(node)
    entry["keys"][0]["jwk"] = dict(node.keyring.signing_key().as_dict(private=True))
    with pytest.raises(DirectoryInvalid, match="private"):
        publish(registry, [entry])


def test_parties_law_declared_grounds_and_penalties_are_read_and_checked() -> None:
    """A party's own law in the directory (issue 13): refusal grounds with the provision they
    rest on, and maximum penalties - only for conduct its offence coverage lists."""
    from comity.directory.document import parse_directory
    from tests.law.conftest import scenario_directory_document

    document = scenario_directory_document()
    xb = next(p for p in document["participants"] if p["id"] == "XB")
    xb["grounds"] = [{"ground": "dual-criminality", "basis": "MLA Act art. 3"}]
    xb["penalties"] = [{"conduct": "extortion", "maximum_years": 10, "basis": "Penal Code 210"}]
    party = parse_directory(document).participant("XB")
    assert party is not None
    assert party.grounds[0].basis == "MLA Act art. 3"
    assert party.penalties[0].maximum_years == 10
    xb["penalties"] = [{"conduct": "money-laundering", "maximum_years": 8, "basis": "PC 300"}]
    with pytest.raises(DirectoryInvalid, match="money-laundering"):
        parse_directory(document)
