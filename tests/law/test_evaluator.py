"""The evaluator on the scenario parties: instruments, routes, declarations, reservations,
refusal grounds and deadlines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from comity.directory.document import Directory
from comity.law import (
    InstrumentNotInForce,
    NoApplicableInstrument,
    NoSuchRule,
    UnknownInstrument,
    UnknownKind,
    UnknownParty,
    applicable_instruments,
    check_request,
    deadlines,
    party_profile,
    preservation_minimum_days,
    route,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "requests"
BEFORE_UNCC = date(2026, 1, 15)
AFTER_UNCC = date(2026, 9, 1)


def _example(kind: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{kind}.json").read_text(encoding="utf-8"))
    return loaded


def _usable(directory: Directory, a: str, b: str, on: date, kind: str) -> list[str]:
    found = applicable_instruments(directory, a, b, on, kind)
    return [i.instrument for i in found if i.usable]


def test_bilateral_treaty_governs_mla_from_xe_to_xa(directory: Directory) -> None:
    found = applicable_instruments(directory, "XE", "XA", AFTER_UNCC, "mla")
    assert found[0].instrument == "bilateral"
    assert found[0].treaty == "XA-XE-mla-2010"


def test_general_procedures_give_way_to_the_bilateral_treaty(directory: Directory) -> None:
    found = applicable_instruments(directory, "XE", "XA", AFTER_UNCC, "mla")
    displaced = {i.instrument: i.displacement_citation for i in found if not i.usable}
    assert displaced == {"uncc": "uncc 40; seed 004 MLA 7", "untoc": "untoc 18(7)"}


def test_explicit_untoc_between_treaty_partners_warns_of_displacement(
    directory: Directory,
) -> None:
    request = _example("mla") | {"requesting_party": "XE", "requested_party": "XA"}
    request |= {"instrument": "untoc", "language": "en"}
    findings = check_request(directory, request, AFTER_UNCC)
    assert [(f.element, f.citation) for f in findings if f.severity == "warning"] == [
        ("instrument", "untoc 18(7)")
    ]


def test_xa_to_xb_uses_budapest(directory: Directory) -> None:
    assert _usable(directory, "XA", "XB", AFTER_UNCC, "mla")[0] == "budapest"
    assert route(directory, "XA", "XB", "preservation", AFTER_UNCC).instrument == "budapest"


def test_xa_to_xc_uses_uncc_only_from_its_entry_into_force(directory: Directory) -> None:
    assert _usable(directory, "XA", "XC", BEFORE_UNCC, "mla") == ["untoc"]
    assert _usable(directory, "XA", "XC", AFTER_UNCC, "mla") == ["uncc", "untoc"]


def test_preservation_to_xc_falls_back_to_reciprocity_before_uncc(directory: Directory) -> None:
    assert _usable(directory, "XA", "XC", BEFORE_UNCC, "preservation") == ["reciprocity"]
    assert _usable(directory, "XA", "XC", AFTER_UNCC, "preservation") == ["uncc"]


def test_explicit_instrument_before_ratification_names_the_date(directory: Directory) -> None:
    with pytest.raises(InstrumentNotInForce, match="2026-07-01") as caught:
        applicable_instruments(directory, "XA", "XC", BEFORE_UNCC, "mla", instrument="uncc")
    assert caught.value.details["field"] == "instrument"
    assert caught.value.details["article"] == "uncc 65"


def test_unknown_party_kind_and_instrument_are_clear_errors(directory: Directory) -> None:
    with pytest.raises(UnknownParty) as party:
        applicable_instruments(directory, "XA", "ZZ", AFTER_UNCC, "mla")
    assert party.value.details["field"] == "requested_party"
    with pytest.raises(UnknownKind) as kind:
        applicable_instruments(directory, "XA", "XB", AFTER_UNCC, "extradition")
    assert kind.value.details["field"] == "kind"
    with pytest.raises(UnknownInstrument):
        applicable_instruments(directory, "XA", "XB", AFTER_UNCC, "mla", instrument="nato")


def test_order_to_own_provider_is_not_international(directory: Directory) -> None:
    with pytest.raises(NoApplicableInstrument, match="domestic"):
        applicable_instruments(directory, "XA", "PX", AFTER_UNCC, "subscriber-information")


def test_direct_order_to_px_from_protocol_party_carries_notification_to_xa(
    directory: Directory,
) -> None:
    result = route(directory, "XD", "PX", "subscriber-information", AFTER_UNCC)
    assert (result.channel, result.to, result.state) == ("provider-direct", "PX", "XA")
    assert [(c.to, c.role, c.citation) for c in result.copies] == [
        ("XA", "designated-authority", "budapest-p2 7(5)(a)")
    ]


def test_direct_order_to_px_without_notification_warns_while_unverified(
    directory: Directory,
) -> None:
    """CETS 224 7(4)(g)/7(5)(a): the Protocol text is not in the repository, so the missing
    notification warns, says the rule is unverified and would block once verified."""
    request = _example("subscriber-information") | {"simultaneous_notification_made": False}
    findings = check_request(directory, request, AFTER_UNCC)
    assert not [f for f in findings if f.severity == "blocking"]
    (finding,) = [f for f in findings if f.element == "simultaneous_notification_made"]
    assert (finding.severity, finding.verified) == ("warning", False)
    assert finding.params["blocks_when_verified"] is True
    assert "not verified" in finding.message


def test_xe_not_a_protocol_party_is_told_to_use_mla(directory: Directory) -> None:
    request = _example("subscriber-information") | {"requesting_party": "XE"}
    findings = check_request(directory, request | {"instrument": None}, AFTER_UNCC)
    assert findings[0].severity == "blocking"
    assert "mla" in findings[0].message
    with pytest.raises(NoApplicableInstrument) as caught:
        route(directory, "XE", "PX", "subscriber-information", AFTER_UNCC)
    assert caught.value.details["fallback_kind"] == "mla"


def test_direct_order_to_pd_needs_no_notification(directory: Directory) -> None:
    result = route(directory, "XA", "PD", "subscriber-information", AFTER_UNCC)
    assert result.copies == ()


def test_subscriber_only_emergency_request_to_xd_warns_while_unverified(
    directory: Directory,
) -> None:
    """CETS 224 9(1)(b) declaration: unverified, so it warns instead of blocking."""
    request = _example("emergency-disclosure") | {"data_categories": ["subscriber"]}
    findings = check_request(directory, request, AFTER_UNCC)
    assert not [f for f in findings if f.severity == "blocking"]
    flagged = [f for f in findings if f.params.get("blocks_when_verified")]
    assert [(f.element, f.citation) for f in flagged] == [
        ("data_categories", "budapest-p2 9(1)(b)")
    ]


def test_emergency_disclosure_goes_247_to_247(directory: Directory) -> None:
    result = route(directory, "XA", "XD", "emergency-disclosure", AFTER_UNCC)
    assert (result.channel, result.to) == ("24/7-contact", "XD")
    assert result.contact is not None


def test_preservation_is_routed_to_the_247_contact(directory: Directory) -> None:
    result = route(directory, "XA", "XB", "preservation", AFTER_UNCC)
    assert (result.channel, result.alternatives) == ("24/7-contact", ("central-authority",))


def test_preservation_outside_arts_2_11_warns_under_xb_reservation(directory: Directory) -> None:
    request = _example("preservation") | {"conduct": ["drug-trafficking"]}
    findings = [f for f in check_request(directory, request, AFTER_UNCC) if f.element == "conduct"]
    assert [(f.severity, f.citation) for f in findings] == [("warning", "budapest 29(4)")]


def test_preservation_needs_no_dual_criminality_without_reservation(
    directory: Directory,
) -> None:
    request = _example("preservation") | {"requested_party": "XD", "language": "en"}
    request["conduct"] = ["drug-trafficking"]
    assert not [f for f in check_request(directory, request, AFTER_UNCC) if f.element == "conduct"]


def test_preservation_for_arts_2_11_conduct_passes_despite_reservation(
    directory: Directory,
) -> None:
    request = _example("preservation") | {"conduct": ["illegal-access"]}
    assert not [f for f in check_request(directory, request, AFTER_UNCC) if f.element == "conduct"]


def test_mla_for_uncovered_conduct_warns_of_dual_criminality(directory: Directory) -> None:
    request = _example("mla") | {"conduct": ["money-laundering"]}
    findings = [f for f in check_request(directory, request, AFTER_UNCC) if f.element == "conduct"]
    assert [(f.severity, f.citation) for f in findings] == [
        ("warning", "budapest 25(4); budapest 25(5)")
    ]


def test_budapest_mla_dual_criminality_rests_on_25_4_not_25_5() -> None:
    """Budapest 25(5) only says when dual criminality "shall be deemed fulfilled"; what lets the
    requested party make assistance conditional on it is its own law or treaties, 25(4)."""
    from comity.law import get_law
    from comity.law.sources import normalise, passage

    dual = get_law().instruments["budapest"].kinds["mla"].dual_criminality
    assert dual is not None
    assert dual.citation.startswith("budapest 25(4)")
    assert dual.verified
    assert normalise(dual.source_text or "") in normalise(passage("budapest 25(4)") or "")
    assert "conditions provided for by the law of the requested Party" in (dual.source_text or "")


def test_request_in_a_language_xb_does_not_accept_warns_while_unverified(
    directory: Directory,
) -> None:
    request = _example("mla") | {"language": "en"}
    findings = [f for f in check_request(directory, request, AFTER_UNCC) if f.element == "language"]
    # The language rule applied here is not verified (issue 13): it warns and says so.
    assert (findings[0].severity, findings[0].verified) == ("warning", False)
    assert "fr" in findings[0].message


@pytest.mark.parametrize(
    ("instrument", "days"), [("budapest", 60), ("uncc", 90), ("eu-eevidence", 60)]
)
def test_preservation_minimum_days(instrument: str, days: int) -> None:
    assert preservation_minimum_days(instrument) == days


def test_no_preservation_period_under_untoc() -> None:
    with pytest.raises(NoSuchRule):
        preservation_minimum_days("untoc")


def test_eu_preservation_can_be_extended_by_30_days() -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    due = {d.code: d.due for d in deadlines("preservation", "eu-eevidence", start)}
    assert due["preservation-minimum"] == start + timedelta(days=60)
    assert due["preservation-extension"] == start + timedelta(days=90)


def test_giving_effect_deadlines_chain_from_service() -> None:
    start = datetime(2026, 9, 1, tzinfo=UTC)
    due = {d.code: d.due for d in deadlines("giving-effect-to-order", "budapest-p2", start)}
    assert due["serve-provider"] == start + timedelta(days=45)
    assert due["provider-produces-subscriber"] == start + timedelta(days=65)
    assert due["provider-produces-traffic"] == start + timedelta(days=90)


def test_eu_emergency_production_within_8_hours() -> None:
    """EU 2023/1543 10(4); unverified: paragraph 4 is not in the partial text shipped."""
    start = datetime(2026, 9, 1, 22, 0, tzinfo=UTC)
    (deadline,) = deadlines("emergency-disclosure", "eu-eevidence", start)
    assert (deadline.due, deadline.citation, deadline.verified) == (
        start + timedelta(hours=8),
        "eu-eevidence 10(4)",
        False,
    )


def test_party_profile_of_xd_for_xa(directory: Directory) -> None:
    profile = party_profile(directory, "XA", "XD", AFTER_UNCC)
    assert profile.instruments == ["budapest-p2", "budapest", "untoc"]
    assert profile.languages == ["ar", "en"]
    assert [d.effect for d in profile.declarations] == ["no-emergency-subscriber-only"]
    assert "subscriber information" in profile.declarations[0].effect_text
    assert profile.contact_24_7 is not None
    assert profile.routes["mla"].channel == "central-authority"
    assert "subscriber-information" in profile.unavailable


def test_party_profile_of_xa_for_xe_shows_the_treaty(directory: Directory) -> None:
    profile = party_profile(directory, "XE", "XA", BEFORE_UNCC)
    assert profile.instruments[0] == "bilateral"
    assert profile.routes["mla"].instrument == "bilateral"
