"""A sealed package verifies offline; every kind of tampering is reported in plain words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from comity.evidence.custody import CustodyAction, read_chain
from comity.evidence.package import CUSTODY_NAME, MANIFEST_NAME, load_manifest, record
from comity.evidence.verify import verify_package
from comity.protocol.signed import read_unverified, sign_document

from .conftest import Sealed
from .factories import OFFICER, PRODUCER, RECEIVER, directory_of, participant, signing_key


def _rewrite_chain(package: Path, tokens: list[str]) -> None:
    lines = [json.dumps({"event": token}) for token in tokens]
    (package / CUSTODY_NAME).write_text("\n".join(lines) + "\n")


def _handle(sealed: Sealed, *actions: CustodyAction) -> None:
    for action in actions:
        record(sealed.package, action, PRODUCER, sealed.node_key, OFFICER, sealed.user_key)


def test_sealed_package_verifies_with_only_the_folder_and_the_directory(sealed: Sealed) -> None:
    report = verify_package(sealed.package, sealed.directory)

    assert report.ok, report.problems
    assert report.files_checked == 3
    assert report.events_checked == 2
    assert report.package_id == load_manifest(sealed.package).package_id


def test_seal_copies_the_files_unchanged(sealed: Sealed) -> None:
    copied = sealed.package / "files" / "logs" / "x.log"

    assert copied.read_bytes() == (sealed.source / "logs" / "x.log").read_bytes()


@pytest.mark.parametrize("offset", [0, 17, -1])
def test_any_single_byte_change_in_a_file_is_reported(sealed: Sealed, offset: int) -> None:
    target = sealed.package / "files" / "logs" / "x.log"
    content = bytearray(target.read_bytes())
    content[offset] ^= 0x01
    target.write_bytes(bytes(content))

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == ["file files/logs/x.log: SHA-256 differs from the manifest"]


def test_a_file_of_another_size_is_reported_with_both_sizes(sealed: Sealed) -> None:
    (sealed.package / "files" / "subscriber.csv").write_text("account\n")

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == [
        "file files/subscriber.csv: size differs from the manifest (8 bytes, the manifest says 33)"
    ]


def test_a_renamed_file_is_reported_as_missing_and_extra(sealed: Sealed) -> None:
    files = sealed.package / "files"
    (files / "subscriber.csv").rename(files / "subscribers.csv")

    report = verify_package(sealed.package, sealed.directory)

    assert sorted(report.problems) == [
        "file files/subscriber.csv is listed in the manifest but missing",
        "file files/subscribers.csv is in the package but not in the manifest",
    ]


def test_a_missing_file_is_reported(sealed: Sealed) -> None:
    (sealed.package / "files" / "empty.bin").unlink()

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == ["file files/empty.bin is listed in the manifest but missing"]


def test_an_extra_file_is_reported(sealed: Sealed) -> None:
    (sealed.package / "files" / "logs" / "planted.log").write_text("not from the producer")

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == [
        "file files/logs/planted.log is in the package but not in the manifest"
    ]


def test_a_tampered_manifest_is_reported(sealed: Sealed) -> None:
    path = sealed.package / MANIFEST_NAME
    header, _body, signature = path.read_text().strip().split(".")
    _, payload = read_unverified(path.read_text().strip())
    payload["permitted_proceedings"].append("any proceedings at all")
    forged = sign_document("x", "x", payload, signing_key("forger"))
    path.write_text(".".join([header, forged.split(".")[1], signature]))

    report = verify_package(sealed.package, sealed.directory)

    assert "manifest signature invalid: the manifest was altered after XA signed it" in (
        report.problems
    )


def test_a_manifest_whose_file_list_was_edited_is_reported(sealed: Sealed) -> None:
    path = sealed.package / MANIFEST_NAME
    _, payload = read_unverified(path.read_text().strip())
    payload["files"] = [f for f in payload["files"] if f["path"] != "empty.bin"]
    path.write_text(sign_document("comity-evidence-manifest+jws", "XA", payload, sealed.node_key))

    report = verify_package(sealed.package, sealed.directory)

    assert "the manifest's Merkle root does not match its file list" in report.problems
    assert "file files/empty.bin is in the package but not in the manifest" in report.problems


def test_a_manifest_signed_by_a_key_the_directory_does_not_list_is_reported(
    sealed: Sealed,
) -> None:
    other = directory_of(participant(PRODUCER, signing_key("XA-sig-2")))

    report = verify_package(sealed.package, other)

    assert (
        "the manifest was signed by XA with key XA-sig-1 that the directory does not list"
        in report.problems
    )


def test_a_revoked_key_is_named_as_revoked(sealed: Sealed) -> None:
    revoked = directory_of(participant(PRODUCER, sealed.node_key, revoked=True))

    report = verify_package(sealed.package, revoked)

    assert (
        "the manifest was signed by XA with key XA-sig-1, which the directory marks as revoked"
        in report.problems
    )


def test_a_reordered_custody_chain_is_reported(sealed: Sealed) -> None:
    _handle(sealed, CustodyAction.SENT, CustodyAction.RECEIVED)
    tokens = read_chain(sealed.package / CUSTODY_NAME)
    tokens[1], tokens[2] = tokens[2], tokens[1]
    _rewrite_chain(sealed.package, tokens)

    report = verify_package(sealed.package, sealed.directory)

    assert "custody event 3 is in position 2: events are missing or out of order" in (
        report.problems
    )
    assert "custody chain broken after event 1" in report.problems


def test_a_deleted_custody_event_is_reported(sealed: Sealed) -> None:
    _handle(sealed, CustodyAction.SENT, CustodyAction.RECEIVED)
    tokens = read_chain(sealed.package / CUSTODY_NAME)
    del tokens[2]
    _rewrite_chain(sealed.package, tokens)

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == [
        "custody event 4 is in position 3: events are missing or out of order",
        "custody chain broken after event 2",
    ]


def test_an_altered_custody_event_is_reported(sealed: Sealed) -> None:
    _handle(sealed, CustodyAction.SENT, CustodyAction.RECEIVED, CustodyAction.OPENED)
    tokens = read_chain(sealed.package / CUSTODY_NAME)
    header, _, signature = tokens[2].split(".")
    _, payload = read_unverified(tokens[2])
    payload["user"] = "XA:someone.else"
    body = sign_document("x", "x", payload, signing_key("forger")).split(".")[1]
    tokens[2] = ".".join([header, body, signature])
    _rewrite_chain(sealed.package, tokens)

    report = verify_package(sealed.package, sealed.directory)

    assert "custody event 3 signature invalid: it was altered after XA signed it" in (
        report.problems
    )
    assert "custody chain broken after event 3" in report.problems


def test_an_event_signed_by_a_key_not_in_the_directory_is_reported(sealed: Sealed) -> None:
    rogue = signing_key("k-rogue")
    record(sealed.package, CustodyAction.RECEIVED, RECEIVER, rogue, "XB:clerk")

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == [
        "custody event 3 was signed by XB with key k-rogue that the directory does not list"
    ]


def test_a_chain_copied_from_another_package_is_refused(sealed: Sealed, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(sealed.package, twin)
    from .factories import seal

    seal(sealed.source, tmp_path / "other", sealed.node_key)
    shutil.copy(tmp_path / "other" / CUSTODY_NAME, twin / CUSTODY_NAME)

    report = verify_package(twin, sealed.directory)

    assert "custody chain broken at its start: event 1 does not follow from the manifest" in (
        report.problems
    )


def test_a_forged_user_signature_is_reported(sealed: Sealed) -> None:
    tokens = read_chain(sealed.package / CUSTODY_NAME)
    _, payload = read_unverified(tokens[1])
    user_token = payload["user_attestation"]["token"]
    head, _, sig = user_token.split(".")
    other = dict(payload)
    del other["user_attestation"]
    other["details"] = {"merkle_root": "0" * 64}
    forged_body = sign_document("x", "x", other, signing_key("x")).split(".")[1]
    payload["user_attestation"]["token"] = ".".join([head, forged_body, sig])
    tokens[1] = sign_document("comity-custody-event+jws", PRODUCER, payload, sealed.node_key)
    _rewrite_chain(sealed.package, tokens)

    report = verify_package(sealed.package, sealed.directory)

    assert report.problems == [
        "custody event 2: the signature of user XA:officer.martin is invalid"
    ]


def test_events_without_a_user_signature_are_noted_not_refused(sealed: Sealed) -> None:
    record(sealed.package, CustodyAction.VERIFIED, PRODUCER, sealed.node_key, OFFICER)

    report = verify_package(sealed.package, sealed.directory)

    assert report.ok
    assert any("custody events 3 name their user" in note for note in report.notes)


def test_a_folder_without_manifest_is_not_a_package(tmp_path: Path, sealed: Sealed) -> None:
    report = verify_package(tmp_path, sealed.directory)

    assert not report.ok
    assert "holds no manifest.jws" in report.problems[0]


def test_a_symbolic_link_in_the_package_is_reported(sealed: Sealed) -> None:
    files = sealed.package / "files"
    (files / "logs" / "x.log").unlink()
    (files / "logs" / "x.log").symlink_to(sealed.source / "logs" / "x.log")

    report = verify_package(sealed.package, sealed.directory)

    assert "files/logs/x.log is a symbolic link, not a file" in report.problems
    assert "file files/logs/x.log is listed in the manifest but missing" in report.problems
