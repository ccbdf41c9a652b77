"""Evidence statuses change only through their transition tables, and a peer's message that
would change a status already final is refused (and audited without its content), while the
same message delivered again is accepted without change. Messages travel between live nodes;
the odd ones are queued in the real outbox of the sending node."""

from __future__ import annotations

import json

import pytest

from comity.audit.service import entries
from comity.evidence import consents, queries, transfer
from comity.evidence.errors import StatusNotAllowed
from comity.evidence.models import (
    ConsentStatus,
    EvidenceConsent,
    EvidencePackage,
    EvidenceTransfer,
    PackageStatus,
    TransferStatus,
    move_consent,
    move_package,
    move_transfer,
)
from comity.evidence.payloads import CONSENT_MESSAGE, RECEIVED_MESSAGE, ConsentAnswer, Received
from comity.kit.db import transaction
from comity.messaging import outbox
from comity.nodes.runtime import Node
from comity.transport.app import create_app

from .test_transfer import CHUNK, Pair, pair, seal, send, service_manifest_id

__all__ = ["pair"]


def test_final_statuses_do_not_change_and_the_refusal_is_a_typed_409() -> None:
    package = EvidencePackage(id="p", status=PackageStatus.VERIFIED.value)
    with pytest.raises(StatusNotAllowed) as refused:
        move_package(package, PackageStatus.RECEIVING)
    assert refused.value.status_code == 409
    assert refused.value.code == "evidence_status_not_allowed"
    assert package.status == "verified"
    moving = EvidenceTransfer(id="t", status=TransferStatus.SENDING.value)
    move_transfer(moving, TransferStatus.VERIFIED)
    assert moving.status == "verified"
    with pytest.raises(StatusNotAllowed):
        move_transfer(moving, TransferStatus.REJECTED)
    consent = EvidenceConsent(id="c", status=ConsentStatus.REFUSED.value)
    with pytest.raises(StatusNotAllowed):
        move_consent(consent, ConsentStatus.GRANTED)


def _consent_asked_and_granted(pair: Pair) -> tuple[str, str]:
    folder = seal(pair, pair.xa, {"a.bin": CHUNK + 1})
    package_id = service_manifest_id(folder)
    transfer.push(pair.xa, send(pair, pair.xa, folder, "XB"))
    with transaction(pair.xb.sessions) as session:
        consent_id = consents.request_consent(
            session, pair.xb, package_id, "bruno", "XC", "joint investigation"
        ).id
    pair.deliver(pair.xb)
    with transaction(pair.xa.sessions) as session:
        consents.decide_consent(session, pair.xa, consent_id, "olga", True, "same conditions")
    pair.deliver(pair.xa)
    return package_id, consent_id


def _answer_again(pair: Pair, package_id: str, consent_id: str, payload: dict[str, object]) -> None:
    """XA sends XB another `evidence-consent` for the same consent, over the real outbox."""
    with transaction(pair.xa.sessions) as session:
        case_id = queries.get_package(session, package_id).case_id
        outbox.enqueue(session, pair.xa, "XB", case_id, CONSENT_MESSAGE, payload)
    pair.deliver(pair.xa)


def _consent_on_xb(pair: Pair, consent_id: str) -> tuple[str, str]:
    with pair.xb.sessions() as session:
        row = session.get(EvidenceConsent, consent_id)
        assert row is not None
        return row.status, row.conditions


def _rejections(node: Node) -> list[dict[str, object]]:
    with node.sessions() as session:
        return [e.details for e in entries(session, "inbox:envelope:rejected")]


def test_a_consent_answer_redelivered_is_accepted_and_a_different_one_refused(
    pair: Pair,
) -> None:
    package_id, consent_id = _consent_asked_and_granted(pair)
    assert _consent_on_xb(pair, consent_id) == ("granted", "same conditions")
    same = ConsentAnswer(
        consent_id=consent_id,
        package_id=package_id,
        granted=True,
        conditions="same conditions",
        decided_by="XA:olga",
    )
    _answer_again(pair, package_id, consent_id, same.body())
    assert _consent_on_xb(pair, consent_id) == ("granted", "same conditions")
    assert _rejections(pair.xb) == []
    with pair.xb.sessions() as session:
        answers = [e.tag for e in entries(session, "evidence:consent:answer")]
    assert answers == ["evidence:consent:answer-granted"]  # once: the repeat changed nothing

    secret = "only for the secret operation Nightjar"
    refused = same.model_copy(update={"granted": False, "conditions": secret})
    _answer_again(pair, package_id, consent_id, refused.body())
    assert _consent_on_xb(pair, consent_id) == ("granted", "same conditions")
    (rejection,) = _rejections(pair.xb)
    assert rejection["code"] == "evidence_consent_decided"
    assert secret not in json.dumps(rejection)

    other_conditions = same.model_copy(update={"conditions": secret})
    _answer_again(pair, package_id, consent_id, other_conditions.body())
    assert _consent_on_xb(pair, consent_id) == ("granted", "same conditions")
    assert [r["code"] for r in _rejections(pair.xb)] == ["evidence_consent_decided"] * 2


def test_deciding_a_consent_twice_is_refused(pair: Pair) -> None:
    _package_id, consent_id = _consent_asked_and_granted(pair)
    with (
        transaction(pair.xa.sessions) as session,
        pytest.raises(StatusNotAllowed) as refused,
    ):
        consents.decide_consent(session, pair.xa, consent_id, "olga", False)
    assert refused.value.code == "evidence_consent_decided"


def test_a_malformed_consent_answer_is_refused_as_malformed(pair: Pair) -> None:
    package_id, consent_id = _consent_asked_and_granted(pair)
    _answer_again(
        pair,
        package_id,
        consent_id,
        {"consent_id": consent_id, "package_id": package_id, "granted": "no"},
    )
    assert _consent_on_xb(pair, consent_id) == ("granted", "same conditions")
    (rejection,) = _rejections(pair.xb)
    assert rejection["code"] == "envelope_malformed"
    assert "granted" in str(rejection["reason"])


def test_the_receivers_word_on_a_transfer_cannot_be_taken_back(pair: Pair) -> None:
    folder = seal(pair, pair.xa, {"a.bin": CHUNK + 1})
    package_id = service_manifest_id(folder)
    transfer_id = send(pair, pair.xa, folder, "XB")
    assert transfer.push(pair.xa, transfer_id)["status"] == "verified"
    pair.deliver(pair.xb)  # XB's `evidence-received`
    with pair.xa.sessions() as session:
        assert queries.get_transfer(session, transfer_id).status == "verified"
    taken_back = Received(transfer_id=transfer_id, package_id=package_id, verified=False)
    with transaction(pair.xb.sessions) as session:
        case_id = queries.get_package(session, package_id).case_id
        outbox.enqueue(session, pair.xb, "XA", case_id, RECEIVED_MESSAGE, taken_back.body())
    pair.deliver(pair.xb)
    with pair.xa.sessions() as session:
        assert queries.get_transfer(session, transfer_id).status == "verified"
    assert [r["code"] for r in _rejections(pair.xa)] == ["evidence_status_not_allowed"]


def test_the_evidence_answers_are_typed_in_the_openapi_schema(pair: Pair) -> None:
    schema = create_app(pair.xa).openapi()
    paths = schema["paths"]

    def answer(path: str, method: str, status: str = "200") -> dict[str, object]:
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        return dict(content["schema"])

    assert answer("/v1/evidence/packages", "get")["items"] == {
        "$ref": "#/components/schemas/PackageView"
    }
    assert answer("/v1/evidence/packages/{package_id}", "get") == {
        "$ref": "#/components/schemas/PackageDetail"
    }
    assert answer("/v1/evidence/consents/{consent_id}/decision", "post") == {
        "$ref": "#/components/schemas/ConsentView"
    }
    put = "/v1/evidence/transfers/{transfer_id}/files/{file_no}/chunks/{index}"
    assert {"$ref": "#/components/schemas/ChunkAck"} in list(answer(put, "put")["anyOf"])  # type: ignore[call-overload]
    view = schema["components"]["schemas"]["PackageView"]["properties"]
    assert {"files", "bytes", "verified_at"} <= set(view)
