"""The drafting wizard's rules without a page: whom a drafter may write to, the legal basis and
route the law gives and the fields it requires, the languages offered, the request document a
submitted form describes, and the status a draft shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from comity.directory.document import Directory, parse_directory
from comity.kit.errors import ComityError
from comity.requests import wizard
from comity.requests.models import DraftStatus, RequestDraft
from tests.law.conftest import scenario_directory_document
from tests.requests.conftest import ON, example
from tests.support import World

DAY = date.fromisoformat(ON)


@pytest.fixture
def directory() -> Directory:
    return parse_directory(scenario_directory_document(), "the scenario parties")


def posted(values: dict[str, Any]) -> Callable[[str], list[str]]:
    """`getlist` of a form posting `values` (a list for a multiple input, else one text)."""

    def getlist(name: str) -> list[str]:
        value = values.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    return getlist


def test_a_drafter_writes_to_states_and_providers_but_not_to_itself_or_the_registry(
    directory: Directory,
) -> None:
    ids = [p[0] for p in wizard.addressees(directory, "XA")]
    assert "XA" not in ids
    assert {"XB", "XC", "PB"} <= set(ids)
    assert all(t in ("state", "provider") for _, _, t in wizard.addressees(directory, "XA"))
    assert wizard.step_errors(ids, "", "") == {}, "an unfinished step is no error"
    assert wizard.step_errors(ids, "XZ", "preservation") == {"party": "unknown"}
    assert wizard.step_errors(ids, "XB", "bribery") == {"kind": "unknown"}


def test_the_plan_gives_the_route_the_bases_and_only_the_fields_of_the_kind(
    directory: Directory,
) -> None:
    plan = wizard.plan(directory, "XA", "XB", "preservation", None, DAY)
    assert plan.route is not None
    assert plan.route.channel == "24/7-contact"
    assert (plan.instrument, plan.explicit, plan.instruments) == ("budapest", False, ["budapest"])
    names = [f.name for f in plan.fields]
    assert {"language", "data_to_preserve", "necessity", "intends_mla"} <= set(names)
    assert "assistance_sought" not in names
    assert plan.accepted == ["fr"], "XB accepts French only"
    assert plan.unavailable is None
    assert wizard.initial_values(plan)["language"] == "fr", "the one accepted language"
    order = ["request", "authorities", "facts", "sought", "undertakings"]
    groups = [g for g, _ in wizard.grouped(plan.fields)]
    assert groups == [g for g in order if g in groups]
    assert sum(len(fs) for _, fs in wizard.grouped(plan.fields)) == len(plan.fields)


def test_a_usable_basis_may_be_chosen_and_an_unusable_one_is_ignored(
    directory: Directory,
) -> None:
    untoc = wizard.plan(directory, "XA", "XB", "mla", "untoc", DAY)
    assert (untoc.instrument, untoc.explicit) == ("untoc", True)
    assert untoc.instruments == ["budapest", "untoc"]
    ignored = wizard.plan(directory, "XA", "XB", "preservation", "untoc", DAY)
    assert (ignored.instrument, ignored.explicit) == ("budapest", False)


def test_a_kind_no_instrument_allows_says_why_and_what_to_send_instead(
    directory: Directory,
) -> None:
    plan = wizard.plan(directory, "XA", "XB", "emergency-disclosure", None, DAY)
    assert plan.route is None
    assert plan.fields == []
    assert plan.instruments == []
    assert plan.unavailable is not None
    assert plan.unavailable.severity == "blocking"
    assert plan.unavailable.params["fallback_kind"] == "emergency-mla"
    with pytest.raises(ComityError) as refused:
        wizard.plan(directory, "XA", "XB", "bribery", None, DAY)
    assert refused.value.details["field"] == "kind"


def test_the_languages_offered_are_the_accepted_ones_else_the_six_un_languages() -> None:
    assert wizard.offered_languages(["fr"]) == ["fr"]
    assert wizard.offered_languages([]) == ["ar", "zh", "en", "fr", "ru", "es"]
    assert wizard.document_languages(["fr", "de"]) == ["fr"], "only languages we can render"
    assert wizard.document_languages([]) == ["ar", "zh", "en", "fr", "ru", "es"]


def test_a_form_becomes_the_request_document_and_too_long_a_text_is_refused(
    directory: Directory,
) -> None:
    plan = wizard.plan(directory, "XA", "XB", "preservation", None, DAY)
    document = example("preservation")
    form = {f.name: document[f.name] for f in plan.fields if f.name in document}
    form["intends_mla"] = "true"
    read, errors = wizard.document_of_form(plan, "XA", posted(form))
    assert errors == {}
    assert read["requesting_party"] == "XA"
    assert read["requested_party"] == "XB"
    assert "instrument" not in read, "the route's basis is not written down"
    assert read["necessity"] == document["necessity"]
    assert read["intends_mla"] is True
    long = {**form, "facts_summary": "x" * (wizard.MAX_TEXT + 1)}
    assert wizard.document_of_form(plan, "XA", posted(long))[1] == {"facts_summary": "too-long"}
    chosen = wizard.plan(directory, "XA", "XB", "mla", "untoc", DAY)
    assert wizard.document_of_form(chosen, "XA", posted({}))[0]["instrument"] == "untoc"


def test_editing_keeps_what_the_form_does_not_show_and_drops_what_was_emptied(
    directory: Directory,
) -> None:
    plan = wizard.plan(directory, "XA", "XB", "preservation", None, DAY)
    saved = {
        **example("preservation"),
        "case_reference": "XA-2026-77",  # written through the API; not a field of the form
        "instrument": "budapest",
    }
    form = {"necessity": "Still needed", "facts_summary": ""}
    read, _ = wizard.document_of_form(plan, "XA", posted(form), base=saved)
    assert read["case_reference"] == "XA-2026-77"
    assert read["necessity"] == "Still needed"
    assert "facts_summary" not in read, "emptied by the drafter"
    assert "instrument" not in read, "the form shows the basis: not chosen, not kept"


def test_findings_sit_beside_their_fields_and_a_draft_without_blocking_awaits_approval(
    directory: Directory,
) -> None:
    plan = wizard.plan(directory, "XA", "XB", "preservation", None, DAY)

    class Found:
        def __init__(self, element: str, severity: str) -> None:
            self.element, self.severity = element, severity

    found = [Found("necessity", "blocking"), Found("request", "note"), Found("language", "warning")]
    per, general = wizard.by_field(found, plan.fields)
    assert [f.element for f in per["necessity"]] == ["necessity"]
    assert per["data_to_preserve"] == []
    assert [f.element for f in general] == ["request"]
    assert wizard.blocking(found) == 1
    draft = RequestDraft(status=DraftStatus.DRAFT.value)
    assert wizard.display_status(draft, 0) == "awaiting"
    assert wizard.display_status(draft, 1) == "draft"
    approved = RequestDraft(status=DraftStatus.APPROVED.value)
    assert wizard.display_status(approved, 0) == "approved"


def test_on_a_node_a_form_naming_a_party_outside_the_directory_is_refused(
    scenario: World,
) -> None:
    node = scenario.nodes["XA"]
    with node.sessions() as session:
        plan = wizard.for_form(session, "XA", "XB", "preservation", None)
        assert plan.route is not None
        assert plan.accepted == ["fr"]
        with pytest.raises(ComityError) as refused:
            wizard.for_form(session, "XA", "XZ", "preservation", None)
        assert refused.value.details["field"] == "requested_party"
        with pytest.raises(ComityError):
            wizard.for_form(session, "XA", "XA", "preservation", None)
        unknown = {"kind": "preservation", "requesting_party": "XA", "requested_party": "XZ"}
        found = wizard.check(session, unknown)
    assert [(f.severity, f.element) for f in found] == [("blocking", "requested_party")], (
        "a document the law cannot take is one blocking finding, not an error page"
    )
