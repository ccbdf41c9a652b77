"""No default instrument (issue 13): the requesting node evaluates the instrument a request is
made under from the directory when the caller names none, the requested node evaluates it
again from its own directory (saying so when it differs from the requester's), and where no
instrument binds the pair the request is refused with a typed error - never Budapest by
default."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from comity.audit.service import entries
from comity.cases.messages import ActMessage
from comity.cases.models import Case
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.law import NoApplicableInstrument
from comity.messaging import inbox
from comity.protocol.acts import Act
from comity.protocol.envelope import EnvelopeHeader, seal
from comity.transport.wiring import message_handlers
from tests.cases.conversation import act, case_of, complete, create, pump
from tests.support import World, in_days

UNTOC_ONLY = {"instruments": [{"instrument": "untoc"}]}
UNCC_ONLY = {"instruments": [{"instrument": "uncc", "in_force_from": "2026-01-01"}]}
BUDAPEST_ONLY = {"instruments": [{"instrument": "budapest", "in_force_from": "2012-09-01"}]}
# The demo documents name an instrument; these name none.
UNNAMED = {
    "instrument": "",
    "facts_summary": "ransomware",
    "transnational_nature": True,
    "organized_criminal_group": True,
    "maximum_penalty_years": 10,
}
NO_TREATY: dict[str, Any] = {"instruments": []}


def _submit_raw(world: World, sender: str, to: str, kind: str, request: dict[str, Any]) -> str:
    """A submission as another implementation might send it, straight into `to`'s inbox."""
    case_id = str(uuid.uuid4())
    with world.nodes[to].sessions() as session:
        directory = directory_service.current(session)
    header = EnvelopeHeader(
        message_id=str(uuid.uuid4()),
        conversation_id=case_id,
        sender=sender,
        recipient=to,
        message_type="act",
        created_at=utc_now(),
        directory_version=directory.version,
    )
    document = complete(kind, sender, to, request)
    message = ActMessage(act=Act.SUBMIT, kind=kind, body={"kind": kind, "request": document})
    envelope = seal(
        header,
        message.payload(),
        world.nodes[sender].keyring.signing_key(),
        directory_service.encryption_key(directory, to),
    )
    inbox.accept(world.nodes[to], envelope.encode(), message_handlers())
    return case_id


def _audited(world: World, who: str, tag: str) -> list[dict[str, Any]]:
    with world.nodes[who].sessions() as session:
        return [dict(e.details) for e in entries(session, tag)]


def test_created_request_gets_the_instrument_the_directory_gives(world: World) -> None:
    """With XC bound by UNTOC only, a request naming no instrument is made under UNTOC (the
    only one binding the pair), written into the document it sends; never Budapest."""
    world.republish(XC=UNTOC_ONLY)
    case_id = create(world, "XA", "XC", "mla", UNNAMED)
    case = case_of(world, "XA", case_id)
    assert case.instrument == "untoc"
    assert case.request["instrument"] == "untoc"
    created = _audited(world, "XA", "cases:request:created")[-1]
    assert created["instrument"] == "untoc"
    assert created["evaluated"] is True
    act(world, "XA", case_id, "submit")
    pump(world)
    assert case_of(world, "XC", case_id).instrument == "untoc"
    assert _audited(world, "XC", "cases:request:instrument-evaluated") == []


def test_creating_a_request_no_instrument_allows_is_refused(world: World) -> None:
    """XC is bound by Budapest alone, which has no emergency disclosure (that is the Second
    Protocol's); reciprocity does not provide one either: the request is refused, no case."""
    world.republish(XC=BUDAPEST_ONLY)
    with pytest.raises(NoApplicableInstrument) as refused:
        create(world, "XA", "XC", "emergency-disclosure", UNNAMED)
    assert refused.value.status_code == 422
    assert refused.value.details["field"] == "instrument"
    with world.nodes["XA"].sessions() as session:
        assert session.query(Case).count() == 0


def test_receiver_records_its_own_instrument_and_says_when_it_differs(world: World) -> None:
    """The requester names UNTOC's successor UNCC, which binds neither party in XB's directory:
    XB records the instrument it finds itself (Budapest binds the pair and comes first) and
    audits the difference instead of copying the requester's value."""
    case_id = _submit_raw(world, "XA", "XB", "mla", {"instrument": "uncc"})
    assert case_of(world, "XB", case_id).instrument == "budapest"
    (said,) = _audited(world, "XB", "cases:request:instrument-evaluated")
    assert said["named"] == "uncc"
    assert said["recorded"] == "budapest"
    assert "uncc" in said["reason"]


def test_receiver_keeps_the_requesters_instrument_when_it_binds_the_pair(world: World) -> None:
    """Budapest and UNTOC both bind XA and XB: the requester's choice of UNTOC stands."""
    case_id = _submit_raw(world, "XA", "XB", "mla", {"instrument": "untoc"})
    assert case_of(world, "XB", case_id).instrument == "untoc"
    assert _audited(world, "XB", "cases:request:instrument-evaluated") == []


def test_receiver_evaluates_when_the_requester_names_none(world: World) -> None:
    world.republish(XB=UNTOC_ONLY)
    case_id = _submit_raw(world, "XA", "XB", "mla", UNNAMED)
    assert case_of(world, "XB", case_id).instrument == "untoc"
    (said,) = _audited(world, "XB", "cases:request:instrument-evaluated")
    assert said["named"] == ""
    assert said["recorded"] == "untoc"


def test_receiver_refuses_a_request_no_instrument_allows(world: World) -> None:
    """XB is bound by Budapest alone, so no instrument gives XA an emergency disclosure from
    it: the submission naming the Second Protocol is rejected with the typed error, and no
    request is recorded."""
    world.republish(XB=BUDAPEST_ONLY)
    with pytest.raises(NoApplicableInstrument):
        _submit_raw(world, "XA", "XB", "emergency-disclosure", {"instrument": "budapest-p2"})
    with transaction(world.nodes["XB"].sessions) as session:
        assert session.query(Case).count() == 0


def test_post_v1_cases_evaluates_the_instrument_or_refuses(world: World) -> None:
    """Over real HTTP: POST /v1/cases naming no instrument records the one binding the pair
    (UNTOC, XC being bound by nothing else), and answers 422 no_applicable_instrument where
    none provides the kind - never Budapest by default."""
    import httpx

    from comity.accounts import service as accounts_service
    from comity.transport.app import create_app
    from tests.support import LiveServer

    world.republish(XC=UNTOC_ONLY)
    node = world.nodes["XA"]
    with transaction(node.sessions) as session:
        secret = accounts_service.create_token(session, "olga", ["duty-officer"], actor="test")
    officer = {"authorization": f"Bearer {secret}"}
    with LiveServer(create_app(node)) as server, httpx.Client(base_url=server.url) as client:
        request = complete("mla", "XA", "XC", UNNAMED)
        created = client.post(
            "/v1/cases", headers=officer, json={"kind": "mla", "to": "XC", "request": request}
        )
        assert created.status_code == 201, created.text
        assert created.json()["instrument"] == "untoc"
        world.republish(XC=BUDAPEST_ONLY)
        document = complete("emergency-disclosure", "XA", "XC", UNNAMED)
        refused = client.post(
            "/v1/cases",
            headers=officer,
            json={"kind": "emergency-disclosure", "to": "XC", "request": document},
        )
    assert refused.status_code == 422
    assert refused.json()["error"] == "no_applicable_instrument"


def test_a_request_recorded_without_an_instrument_gets_one_before_the_law_is_applied(
    world: World,
) -> None:
    """A request stored by an earlier version with no instrument: before an act is checked
    against the law, XB evaluates the instrument from its own directory, records it and audits
    that it did — the act is then judged under that instrument, never a default."""
    world.republish(XB=UNTOC_ONLY)
    case_id = _submit_raw(world, "XA", "XB", "mla", UNNAMED)
    with transaction(world.nodes["XB"].sessions) as session:
        stored = session.get(Case, case_id)
        assert stored is not None
        stored.instrument = ""
    act(world, "XB", case_id, "acknowledge")
    assert case_of(world, "XB", case_id).instrument == "untoc"
    said = _audited(world, "XB", "cases:request:instrument-evaluated")[-1]
    assert said["recorded"] == "untoc"
    assert said["reason"] == "the request was recorded without an instrument"


def test_a_ground_only_an_unverified_rule_excludes_is_let_through_and_audited(
    world: World,
) -> None:
    """Issue 13: an unverified rule may warn but never block. XA and XC are bound by the UN
    Convention against Cybercrime, whose ground list is unverified (its text is not in the
    repository) and does not list the political offence: a refusal on that ground goes
    through, and the audit log names the rule that would have refused it — without the
    refusal's content."""
    world.republish(XA=UNCC_ONLY, XC=UNCC_ONLY)
    case_id = create(world, "XA", "XC", "mla", {"instrument": "uncc"})
    act(world, "XA", case_id, "submit")
    pump(world)
    reasons = "A political offence in our law; see the attached note."
    act(world, "XC", case_id, "consult", subject="refusal?")
    import httpx

    from comity.accounts import service as accounts_service
    from comity.transport.app import create_app
    from tests.support import LiveServer

    xc = world.nodes["XC"]
    with transaction(xc.sessions) as session:
        secret = accounts_service.create_token(
            session, "carla", ["central-authority-officer"], "test"
        )
    body = {"grounds": ["political-offence"], "reasons": reasons}
    with LiveServer(create_app(xc)) as server, httpx.Client(base_url=server.url) as client:
        answer = client.post(
            f"/v1/cases/{case_id}/acts",
            headers={"authorization": f"Bearer {secret}"},
            json={"act": "refuse", "body": body},
        )
    # The officer is told, in the act's answer, which article would have refused it.
    assert answer.status_code == 200, answer.text
    (warning,) = answer.json()["warnings"]
    assert warning["citation"].startswith("uncc")
    assert warning["verified"] is False
    assert "not verified" in warning["message"]
    assert case_of(world, "XC", case_id).state == "refused"
    (said,) = _audited(world, "XC", "cases:act:unverified-rule")
    assert said["act"] == "refuse"
    assert said["field"] == "grounds"
    assert said["citation"].startswith("uncc")
    assert reasons not in str(said)


def test_a_preservation_under_reciprocity_can_be_accepted_with_the_officers_date(
    world: World,
) -> None:
    """No treaty binds XA and XC, so the preservation is asked under reciprocity (seed 000
    A(2)), which sets no preservation period - budapest 29(7)'s sixty days are not its rule.
    XC's officer accepts with a date of their own: no minimum is invented, nothing is refused,
    and the date the officer gave is recorded on both sides."""
    world.republish(XC=NO_TREATY)
    case_id = create(world, "XA", "XC", "preservation", UNNAMED)
    assert case_of(world, "XA", case_id).instrument == "reciprocity"
    act(world, "XA", case_id, "submit")
    pump(world)
    until = in_days(20)
    act(world, "XC", case_id, "acknowledge")
    act(world, "XC", case_id, "accept", preserved_until=until)
    pump(world)
    for party in ("XC", "XA"):
        case = case_of(world, party, case_id)
        assert case.state == "accepted"
        assert case.preserved_until is not None
        assert case.preserved_until.isoformat() == until
