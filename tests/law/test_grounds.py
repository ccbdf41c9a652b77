"""Refusal and postponement grounds checked with the parties (issue 13): grounds that exist
only through a reservation, the requested party's own declared grounds (Budapest 25(4)), the
bars on bank secrecy and fiscal matters per instrument, and the reasons a refusal or
postponement must carry (Budapest 27(7), UNTOC 18(23))."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory
from comity.law import (
    ReasonsRequired,
    RefusalGroundNotAllowed,
    Refusing,
    allowed_grounds,
    check_postponement_grounds,
    check_refusal_grounds,
)
from tests.law.conftest import scenario_directory_document

ON = date(2026, 3, 1)


def _who(directory: Directory, requesting: str, requested: str, **request: Any) -> Refusing:
    return Refusing(directory, requesting, requested, ON, request)


def _refused(who: Refusing, kind: str, instrument: str, ground: str) -> RefusalGroundNotAllowed:
    with pytest.raises(RefusalGroundNotAllowed) as caught:
        check_refusal_grounds(who, kind, instrument, [ground], "Our reasons.")
    assert caught.value.status_code == 422
    assert caught.value.details["ground"] == ground
    return caught.value


@pytest.fixture(scope="module")
def declaring() -> Directory:
    """The scenario, where XB declared grounds of its own law (Budapest 25(4))."""
    document = scenario_directory_document()
    xb = next(p for p in document["participants"] if p["id"] == "XB")
    xb["grounds"] = [
        {"ground": "bank-secrecy", "basis": "XB Banking Act s. 9"},
        {"ground": "fiscal-matters", "basis": "XB Mutual Assistance Act s. 4(2)"},
        {"ground": "dual-criminality", "basis": "XB Mutual Assistance Act s. 3"},
        {"ground": "ne-bis-in-idem", "basis": "XA-XB treaty art 5", "instruments": ["untoc"]},
    ]
    return parse_directory(document, source="scenario with declared grounds")


# --- UNTOC 18(8), 18(22), 18(7) ---------------------------------------------------------


def test_untoc_18_8_bars_bank_secrecy(directory: Directory) -> None:
    """UNTOC 18(8): "States Parties shall not decline to render mutual legal assistance
    pursuant to this article on the ground of bank secrecy." """
    refused = _refused(_who(directory, "XB", "XC"), "mla", "untoc", "bank-secrecy")
    assert refused.details["article"] == "untoc 18(8)"


def test_untoc_18_8_holds_even_where_an_mla_treaty_binds_the_pair(directory: Directory) -> None:
    """UNTOC 18(7) displaces paragraphs 9 to 29 only; paragraph 8 binds XA and XE although
    their bilateral MLA treaty binds them too."""
    refused = _refused(_who(directory, "XE", "XA"), "mla", "untoc", "bank-secrecy")
    assert refused.details["article"] == "untoc 18(8)"


def test_untoc_18_22_bars_fiscal_matters_without_an_mla_treaty(directory: Directory) -> None:
    """UNTOC 18(22): "States Parties may not refuse a request for mutual legal assistance on
    the sole ground that the offence is also considered to involve fiscal matters." """
    refused = _refused(_who(directory, "XB", "XC"), "mla", "untoc", "fiscal-matters")
    assert refused.details["article"] == "untoc 18(22)"


def test_untoc_18_7_a_binding_mla_treaty_displaces_the_18_22_bar(directory: Directory) -> None:
    """UNTOC 18(7): where the parties are bound by an MLA treaty, "the corresponding
    provisions of that treaty shall apply" instead of paragraphs 9-29, 18(22) among them: the
    refusal is then judged by the grounds listed, not barred by 18(22)."""
    refused = _refused(_who(directory, "XE", "XA"), "mla", "untoc", "fiscal-matters")
    assert refused.details["article"] == "untoc 18(21)"
    assert "18(22)" not in refused.message


# --- Budapest 25(4), 25(5) --------------------------------------------------------------


def test_budapest_25_4_bars_fiscal_refusal_for_offences_of_arts_2_to_11(
    declaring: Directory,
) -> None:
    """Budapest 25(4): "The requested Party shall not exercise the right to refuse mutual
    assistance in relation to the offences referred to in Articles 2 through 11 solely on the
    ground that the request concerns an offence which it considers a fiscal offence." - even
    where its own law has the ground."""
    who = _who(declaring, "XA", "XB", conduct=["computer-fraud"])
    refused = _refused(who, "mla", "budapest", "fiscal-matters")
    assert refused.details["article"] == "budapest 25(4)"


def test_budapest_25_4_fiscal_refusal_outside_arts_2_to_11_rests_on_the_partys_law(
    directory: Directory, declaring: Directory
) -> None:
    """Budapest 25(4): outside arts 2-11 the fiscal bar does not hold; the ground is the
    requested party's, under its law - allowed when XB declared it, refused otherwise."""
    check_refusal_grounds(
        _who(declaring, "XA", "XB", conduct=["money-laundering"]),
        "mla",
        "budapest",
        ["fiscal-matters"],
        "A tax offence under our law.",
    )
    refused = _refused(
        _who(directory, "XA", "XB", conduct=["money-laundering"]),
        "mla",
        "budapest",
        "fiscal-matters",
    )
    assert refused.details["article"] == "budapest 27(4); budapest 25(4)"


def test_ets_185_has_no_bank_secrecy_rule(directory: Directory, declaring: Directory) -> None:
    """ETS 185 has no bank-secrecy bar (that is UNTOC 18(8)): under Budapest bank secrecy is a
    ground where the requested party's law has it (25(4)), and never refused citing UNTOC."""
    check_refusal_grounds(
        _who(declaring, "XA", "XB"), "mla", "budapest", ["bank-secrecy"], "Banking Act s. 9."
    )
    refused = _refused(_who(directory, "XA", "XB"), "mla", "budapest", "bank-secrecy")
    assert "untoc" not in refused.details["article"]
    assert "untoc" not in refused.message


def test_budapest_25_5_lists_no_dual_criminality_ground(
    directory: Directory, declaring: Directory
) -> None:
    """Budapest 25(5) only says when dual criminality "shall be deemed fulfilled"; a refusal
    for its absence rests on the requested party's law (25(4)), declared in the directory."""
    refused = _refused(_who(directory, "XA", "XB"), "mla", "budapest", "dual-criminality")
    assert "25(5)" not in refused.message
    check_refusal_grounds(
        _who(declaring, "XA", "XB"), "mla", "budapest", ["dual-criminality"], "Not an offence."
    )


def test_declared_grounds_apply_only_under_the_instruments_named(declaring: Directory) -> None:
    """XB declared ne bis in idem for UNTOC requests only: Budapest 25(4) does not bring it in."""
    _refused(_who(declaring, "XA", "XB"), "mla", "budapest", "ne-bis-in-idem")


def test_bilateral_treaty_and_reciprocity_bar_neither_ground(directory: Directory) -> None:
    """No text in the repository bars bank secrecy or fiscal matters under a bilateral treaty
    or reciprocity: a refusal there is judged by the grounds listed, never by UNTOC 18(8) or
    18(22)."""
    for ground in ("bank-secrecy", "fiscal-matters"):
        refused = _refused(_who(directory, "XE", "XA"), "mla", "bilateral", ground)
        assert "untoc" not in refused.details.get("article", "")


# --- Budapest 29(4) reservation ---------------------------------------------------------


def test_budapest_29_4_ground_only_from_a_party_that_made_the_reservation(
    directory: Directory,
) -> None:
    """Budapest 29(4): only "a Party that requires dual criminality as a condition" (by
    reservation) may refuse preservation for its absence. XB made the reservation; XD did not."""
    check_refusal_grounds(
        _who(directory, "XA", "XB"),
        "preservation",
        "budapest",
        ["dual-criminality-reservation"],
        "Not an offence here.",
    )
    refused = _refused(
        _who(directory, "XA", "XD"), "preservation", "budapest", "dual-criminality-reservation"
    )
    assert refused.details["article"] == "budapest 29(4)"
    assert "XD" in refused.message


@pytest.mark.parametrize(
    ("kind", "instrument", "ground", "article"),
    [
        ("preservation", "budapest", "domestic-law-bar", "budapest 29(5)"),
        ("mla", "untoc", "political-offence", "untoc 18(21)"),
        ("mla", "untoc", "ongoing-investigation", "untoc 18(21)"),
    ],
)
def test_grounds_not_listed_name_ground_and_article(
    directory: Directory, kind: str, instrument: str, ground: str, article: str
) -> None:
    refused = _refused(_who(directory, "XA", "XB"), kind, instrument, ground)
    assert refused.details["article"] == article


@pytest.mark.parametrize(
    ("kind", "instrument", "grounds"),
    [
        ("interception", "untoc", ["essential-interests"]),
        ("mla", "budapest", ["political-offence"]),
        ("preservation", "budapest", ["political-offence", "dual-criminality-reservation"]),
    ],
)
def test_permitted_refusal_grounds_pass(
    directory: Directory, kind: str, instrument: str, grounds: list[str]
) -> None:
    check_refusal_grounds(_who(directory, "XA", "XB"), kind, instrument, grounds, "Reasons.")


def test_refusal_without_a_ground_is_refused(directory: Directory) -> None:
    with pytest.raises(RefusalGroundNotAllowed):
        check_refusal_grounds(_who(directory, "XA", "XB"), "mla", "untoc", [], "Reasons.")


# --- Reasons: Budapest 27(7), UNTOC 18(23) ----------------------------------------------


@pytest.mark.parametrize("reasons", ["", "   ", "\n\t "])
def test_budapest_27_7_refusal_and_postponement_need_reasons(
    directory: Directory, reasons: str
) -> None:
    """Budapest 27(7): "Reasons shall be given for any refusal or postponement of the
    request." Whitespace is not a reason."""
    who = _who(directory, "XA", "XB")
    with pytest.raises(ReasonsRequired) as refused:
        check_refusal_grounds(who, "mla", "budapest", ["political-offence"], reasons)
    assert refused.value.details["article"] == "budapest 27(7)"
    assert "budapest 27(7)" in refused.value.message
    with pytest.raises(ReasonsRequired) as postponed:
        check_postponement_grounds(who, "mla", "budapest", ["ongoing-investigation"], reasons)
    assert postponed.value.details["article"] == "budapest 27(7)"


def test_untoc_18_23_refusal_needs_reasons(directory: Directory) -> None:
    """UNTOC 18(23): "Reasons shall be given for any refusal of mutual legal assistance." It
    speaks of refusal only: a blank postponement is still refused, citing no article."""
    who = _who(directory, "XB", "XC")
    with pytest.raises(ReasonsRequired) as refused:
        check_refusal_grounds(who, "mla", "untoc", ["essential-interests"], "  ")
    assert refused.value.details["article"] == "untoc 18(23)"
    with pytest.raises(ReasonsRequired) as postponed:
        check_postponement_grounds(who, "mla", "untoc", ["ongoing-investigation"], " ")
    assert "article" not in postponed.value.details or not postponed.value.details["article"]


def test_grounds_offered_are_the_parties_own(directory: Directory, declaring: Directory) -> None:
    """What a refusing officer is offered follows the same law as the check: the Budapest
    29(4) ground only to a party that made the reservation, and a party's declared grounds
    under Budapest 25(4) with the provision of its law."""
    with_reservation = allowed_grounds(
        _who(directory, "XA", "XB"), "preservation", "budapest", "refusal"
    )
    without = allowed_grounds(_who(directory, "XA", "XD"), "preservation", "budapest", "refusal")
    assert "dual-criminality-reservation" in with_reservation
    assert "dual-criminality-reservation" not in without
    offered = allowed_grounds(_who(declaring, "XA", "XB"), "mla", "budapest", "refusal")
    assert offered["bank-secrecy"].citation == "budapest 25(4)"
    assert offered["bank-secrecy"].basis == "XB Banking Act s. 9"
    assert "ne-bis-in-idem" not in offered


def test_budapest_29_4_reservation_reaches_only_offences_outside_arts_2_to_11(
    directory: Directory,
) -> None:
    """Budapest 29(4): the reservation reaches only "offences other than those established in
    accordance with Articles 2 through 11": XB, which made it, may not invoke it for a
    preservation that concerns computer fraud alone, and may where money laundering is in it."""
    only_2_to_11 = _who(directory, "XA", "XB", conduct=["computer-fraud"])
    refused = _refused(only_2_to_11, "preservation", "budapest", "dual-criminality-reservation")
    assert refused.details["article"] == "budapest 29(4)"
    check_refusal_grounds(
        _who(directory, "XA", "XB", conduct=["computer-fraud", "money-laundering"]),
        "preservation",
        "budapest",
        ["dual-criminality-reservation"],
        "Money laundering is not an offence here.",
    )
