"""Per-instrument corrections of the law data (issue 13), each test citing its article."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory
from comity.law import (
    RefusalGroundNotAllowed,
    check_refusal_grounds,
    check_request,
    get_law,
    required_elements,
    route,
)
from comity.law.grounds import Refusing
from comity.law.grounds_exceptions import excepted_grounds
from tests.law.conftest import scenario_directory_document

AFTER_UNCC = date(2026, 9, 1)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"


def _cited(kind: str, instrument: str) -> dict[str, str]:
    return {e.field: e.citation for e in required_elements(kind, instrument)}


# --- Second Additional Protocol (CETS 224) -------------------------------------------------


def test_p2_10_1_emergency_facts_are_cited_to_10_1_not_10_2() -> None:
    """budapest-p2 10(1): an emergency request describes the facts showing the emergency."""
    assert _cited("emergency-mla", "budapest-p2")["emergency_facts"] == "budapest-p2 10(1)"


def test_p2_10_1_emergency_mla_contents_are_not_cited_to_untoc_18_15() -> None:
    """budapest-p2 10(1) ("the other contents required"): UNTOC is not the Protocol's law."""
    citations = _cited("emergency-mla", "budapest-p2").values()
    assert citations
    assert all(c == "budapest-p2 10(1)" for c in citations)
    assert all(not e.verified for e in required_elements("emergency-mla", "budapest-p2"))


def test_p2_6_3_d_carries_special_instructions_there_is_no_6_3_e() -> None:
    """budapest-p2 6(3) has points (a) to (d); special instructions are in (d)."""
    cited = _cited("domain-registration", "budapest-p2")
    assert cited["special_instructions"] == "budapest-p2 6(3)(d)"
    assert not any("6(3)(e)" in c for c in cited.values())


def test_p2_8_periods_stay_unverified_without_the_protocol_text() -> None:
    """budapest-p2 8: the 45/20/45-day periods cannot be checked (CETS 224 not in the repo)."""
    rules = get_law().instruments["budapest-p2"].kinds["giving-effect-to-order"].time_rules
    assert [(r.days, r.verified) for r in rules] == [(45, False), (20, False), (45, False)]


def _who(directory: Directory) -> Refusing:
    """XB refusing a request of XA, on the day of these tests."""
    return Refusing(directory, "XA", "XB", date(2026, 12, 8), {})


@pytest.mark.parametrize(
    "ground", ["domestic-law-bar", "political-offence", "essential-interests", "dual-criminality"]
)
def test_p2_9_emergency_disclosure_lists_no_refusal_grounds(
    ground: str, directory: Directory
) -> None:
    """budapest-p2 9: expedited disclosure in an emergency works without a request for mutual
    assistance; it lists no refusal grounds (the requested party decides and may set
    conditions, 9(5)), so the mutual-assistance grounds of Budapest 25(4)/27(4) are not
    accepted for it."""
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        check_refusal_grounds(
            _who(directory), "emergency-disclosure", "budapest-p2", [ground], "Our reasons."
        )
    assert caught.value.details["article"] == "budapest-p2 9(5)"
    refusal = get_law().instruments["budapest-p2"].kinds["emergency-disclosure"].refusal
    assert refusal is not None
    assert refusal.grounds == []
    assert not refusal.verified


# --- Regulation (EU) 2023/1543 -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["preservation", "subscriber-information"])
def test_eu_12_1_grounds_are_not_attached_to_orders_that_are_not_notified(
    kind: str, directory: Directory
) -> None:
    """eu-eevidence 12(1) applies "where the issuing authority has notified the enforcing
    authority pursuant to Article 8": not to preservation orders or subscriber-data orders."""
    assert get_law().instruments["eu-eevidence"].kinds[kind].refusal is None
    with pytest.raises(RefusalGroundNotAllowed):
        check_refusal_grounds(
            _who(directory), kind, "eu-eevidence", ["fundamental-rights"], "Our reasons."
        )


def test_eu_12_1_b_is_fundamental_rights_and_12_1_c_ne_bis_in_idem() -> None:
    """eu-eevidence 12(1)(b): manifest breach of a fundamental right; (c): ne bis in idem;
    the grounds apply to a notified order, including in emergency cases (96 hours)."""
    refusal = get_law().instruments["eu-eevidence"].kinds["emergency-disclosure"].refusal
    assert refusal is not None
    cited = {g.ground: g.citation for g in refusal.grounds}
    assert cited["fundamental-rights"] == "eu-eevidence 12(1)(b)"
    assert cited["ne-bis-in-idem"] == "eu-eevidence 12(1)(c)"
    assert cited["immunity-or-privilege"] == "eu-eevidence 12(1)(a)"
    assert cited["dual-criminality"] == "eu-eevidence 12(1)(d)"


def test_eu_12_1_d_dual_criminality_gives_way_for_a_listed_offence(directory: Directory) -> None:
    """eu-eevidence 12(1)(d): dual criminality may be raised "unless it concerns an offence
    listed within the ca[tegories]"; the rest of (d) is not in the repository's text, so the
    exception is unverified (it may warn, never block)."""
    listed = excepted_grounds(
        "emergency-disclosure",
        "eu-eevidence",
        ["dual-criminality", "ne-bis-in-idem"],
        {"listed_offence": True},
    )
    assert [g.ground for g in listed] == ["dual-criminality"]
    exception = listed[0].unless
    assert exception is not None
    assert (exception.field, exception.citation, exception.verified) == (
        "listed_offence",
        "eu-eevidence 12(1)(d)",
        False,
    )
    assert excepted_grounds("emergency-disclosure", "eu-eevidence", ["dual-criminality"], {}) == []
    check_refusal_grounds(
        _who(directory), "emergency-disclosure", "eu-eevidence", ["dual-criminality"], "Reasons."
    )


# --- UN Convention against Cybercrime (seed 004 draft) and declarations ---------------------


def _with_declaration(party: str, declaration: dict[str, Any]) -> Directory:
    document = scenario_directory_document()
    for participant in document["participants"]:
        if participant["id"] == party:
            participant.setdefault("declarations", []).append(declaration)
    return parse_directory(document, source="scenario directory with a declaration")


def _preservation(requested: str, conduct: list[str]) -> dict[str, Any]:
    request: dict[str, Any] = json.loads(
        (EXAMPLES / "preservation.json").read_text(encoding="utf-8")
    )
    return request | {
        "requested_party": requested,
        "instrument": "uncc",
        "language": "en",
        "conduct": conduct,
    }


def test_uncc_42_4_reservation_takes_effect_under_uncc() -> None:
    """uncc 42(4) (seed 004, provisional measures 4): a party that reserved it may refuse
    preservation for offences outside the convention when dual criminality will fail; the
    effect is the convention's own (not Budapest 29(4)), unverified, so it warns."""
    directory = _with_declaration(
        "XC",
        {
            "instrument": "uncc",
            "article": "42(4)",
            "type": "reservation",
            "effect": "uncc-preservation-dual-criminality",
        },
    )
    outside = check_request(directory, _preservation("XC", ["drug-trafficking"]), AFTER_UNCC)
    conduct = [f for f in outside if f.element == "conduct"]
    assert [(f.severity, f.citation, f.verified) for f in conduct] == [
        ("warning", "uncc 42(4)", False)
    ]
    inside = check_request(directory, _preservation("XC", ["illegal-access"]), AFTER_UNCC)
    assert not [f for f in inside if f.element == "conduct"]


def test_uncc_preservation_needs_no_dual_criminality_without_the_42_4_reservation() -> None:
    """uncc 42(3): dual criminality is not a condition of preservation absent the reservation."""
    directory = parse_directory(scenario_directory_document(), source="scenario")
    findings = check_request(directory, _preservation("XC", ["drug-trafficking"]), AFTER_UNCC)
    assert not [f for f in findings if f.element == "conduct"]


def test_uncc_90_day_preservation_minimum_is_a_draft_and_unverified() -> None:
    """uncc 42(7) in seed 004 (a 2022 proposal, not the adopted text): 90 days, unverified."""
    (rule,) = get_law().instruments["uncc"].kinds["preservation"].time_rules
    assert (rule.days, rule.verified, rule.citation) == (90, False, "uncc 42(7)")


def test_uncc_40_citations_name_the_seed_paragraph() -> None:
    """uncc 40 (seed 004 MLA 20): every content of a request cites its paragraph."""
    cited = _cited("mla", "uncc")
    assert cited["requesting_authority"] == ("uncc 40; seed 004 MLA 20(a)")
    assert cited["purpose"] == "uncc 40; seed 004 MLA 20(f)"
    rule = get_law().instruments["uncc"].kinds["mla"]
    assert rule.refusal is not None
    assert {g.ground: g.citation for g in rule.refusal.grounds}["domestic-law-bar"] == (
        "uncc 40; seed 004 MLA 26(c)"
    )
    assert rule.route.citation == "uncc 40; seed 004 MLA 17"


def test_uncc_spontaneous_information_rests_on_seed_004_mla_4() -> None:
    """uncc 40 (seed 004 MLA 4): information may be transmitted without prior request."""
    rule = get_law().instruments["uncc"].kinds["spontaneous-information"]
    assert (rule.citation, rule.verified) == ("uncc 40; seed 004 MLA 4", False)
    assert rule.source_text is not None
    assert "无须事先请求" in rule.source_text
    directory = parse_directory(scenario_directory_document(), source="scenario")
    assert route(directory, "XC", "XE", "spontaneous-information", AFTER_UNCC).instrument == (
        "uncc"
    )


def test_p2_10_9_direct_emergency_request_carries_a_copy_to_the_central_authority() -> None:
    """budapest-p2 10(9): where a party accepts emergency requests directly, a copy goes at the
    same time to its central authority - the route carries that copy."""
    directory = _with_declaration(
        "XD",
        {
            "instrument": "budapest-p2",
            "article": "10(9)",
            "type": "declaration",
            "effect": "emergency-mla-direct-channels",
        },
    )
    result = route(directory, "XA", "XD", "emergency-mla", AFTER_UNCC)
    assert "24/7-contact" in result.alternatives
    assert [(c.to, c.role, c.citation) for c in result.copies] == [
        ("XD", "central-authority", "budapest-p2 10(9)")
    ]


# --- Expedited disclosure of preserved traffic data (budapest 30, uncc 43) -----------------


@pytest.mark.parametrize("instrument", ["budapest", "uncc"])
def test_budapest_30_asks_the_requester_nothing_only_the_requested_party_knows(
    instrument: str,
) -> None:
    """budapest 30(1) (uncc 43(1)): "the requested Party shall expeditiously disclose ... a
    sufficient amount of traffic data to identify that service provider and the path". The
    provider in the other state and that traffic data are what the requested party discloses
    during the preservation (the disclosure act), so no request asks the requester for them;
    it names the preservation and the communication."""
    fields = set(_cited("traffic-data-disclosure", instrument))
    assert fields == {"preservation_reference", "communication"}
    assert not fields & {"third_state_provider", "traffic_data"}


def test_budapest_30_request_without_the_disclosed_data_is_complete(directory: Directory) -> None:
    """budapest 30(1): a request that names its article 29 preservation and the communication
    has every content; nothing is missing for want of the data the requested party discloses."""
    request = json.loads((EXAMPLES / "traffic-data-disclosure.json").read_text(encoding="utf-8"))
    findings = check_request(directory, {**request, "language": "en"}, AFTER_UNCC)
    assert [f for f in findings if f.code == "missing-element"] == []
    # The refusal grounds of 30(2) still apply to it, verified against ETS 185.
    grounds = get_law().instruments["budapest"].kinds["traffic-data-disclosure"].refusal
    assert grounds is not None
    assert (grounds.citation, grounds.verified) == ("budapest 30(2)", True)


# --- Reciprocity: the diplomatic channel (untoc 18(13) as the model) ------------------------


@pytest.mark.parametrize("kind", ["mla", "stored-data-access", "spontaneous-information"])
def test_untoc_18_13_diplomatic_channels_are_an_alternative_under_reciprocity(
    directory: Directory, kind: str
) -> None:
    """untoc 18(13): requests go to the central authority "without prejudice to the right of a
    State Party to require that such requests and communications be addressed to it through
    diplomatic channels". Between parties no treaty binds, the route offers the diplomatic
    channel beside the central authority, citing 18(13) as the model it is - unverified for
    reciprocity, so it never blocks. (18(13)'s INTERPOL channel, for urgent cases where the
    parties agree, is not the diplomatic one and is not offered.)"""
    way = route(directory, "XA", "XC", kind, AFTER_UNCC, "reciprocity")
    assert way.channel == "central-authority"
    assert "diplomatic" in way.alternatives
    assert way.citation == "seed 000 A(2); untoc 18(13)"
    assert way.verified is False
    rule = get_law().instruments["reciprocity"].kinds[kind].route
    assert rule.source_text is not None
    assert "through diplomatic channels" in rule.source_text
    assert "International Criminal Police Organization" not in rule.source_text


def test_the_diplomatic_channel_has_a_label_in_the_six_languages() -> None:
    """Where a route is shown (the drafts page, the request page, the documents), the channel
    is named in the reader's language."""
    from comity.documents import LANGUAGES
    from comity.documents.catalogs import translations
    from comity.documents.messages import CHANNELS

    assert CHANNELS["diplomatic"] == "Diplomatic channels"
    for lang in LANGUAGES:
        said = translations(lang).gettext(CHANNELS["diplomatic"])
        assert said == "Diplomatic channels" if lang == "en" else said != "Diplomatic channels"
