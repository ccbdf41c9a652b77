"""Per-instrument corrections of the law data (issue 13), each test citing its article."""

from __future__ import annotations

import pytest

from comity.law import RefusalGroundNotAllowed, check_refusal_grounds, get_law, required_elements
from comity.law.grounds_exceptions import excepted_grounds


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


@pytest.mark.parametrize(
    "ground", ["domestic-law-bar", "political-offence", "essential-interests", "dual-criminality"]
)
def test_p2_9_emergency_disclosure_lists_no_refusal_grounds(ground: str) -> None:
    """budapest-p2 9: expedited disclosure in an emergency works without a request for mutual
    assistance; it lists no refusal grounds (the requested party decides and may set
    conditions, 9(5)), so the mutual-assistance grounds of Budapest 25(4)/27(4) are not
    accepted for it."""
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        check_refusal_grounds("emergency-disclosure", "budapest-p2", [ground])
    assert caught.value.details["article"] == "budapest-p2 9(5)"
    refusal = get_law().instruments["budapest-p2"].kinds["emergency-disclosure"].refusal
    assert refusal is not None
    assert refusal.grounds == []
    assert not refusal.verified


# --- Regulation (EU) 2023/1543 -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["preservation", "subscriber-information"])
def test_eu_12_1_grounds_are_not_attached_to_orders_that_are_not_notified(kind: str) -> None:
    """eu-eevidence 12(1) applies "where the issuing authority has notified the enforcing
    authority pursuant to Article 8": not to preservation orders or subscriber-data orders."""
    assert get_law().instruments["eu-eevidence"].kinds[kind].refusal is None
    with pytest.raises(RefusalGroundNotAllowed):
        check_refusal_grounds(kind, "eu-eevidence", ["fundamental-rights"])


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


def test_eu_12_1_d_dual_criminality_gives_way_for_a_listed_offence() -> None:
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
    check_refusal_grounds("emergency-disclosure", "eu-eevidence", ["dual-criminality"])
