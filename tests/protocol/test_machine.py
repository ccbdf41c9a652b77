"""Transition tables, tested exhaustively: every allowed and every forbidden act per kind."""

from __future__ import annotations

import itertools

import pytest

from comity.protocol.acts import Act, Side, parse_act_body
from comity.protocol.errors import ActNotAllowed, InvalidActBody, WrongParty
from comity.protocol.kinds import TABLES, UnknownKind, table_for

CASES = [
    (kind, state, act, side)
    for kind, table in TABLES.items()
    for state, act, side in itertools.product(sorted(table.states), Act, Side)
]


@pytest.mark.parametrize(("kind", "state", "act", "side"), CASES)
def test_every_act_in_every_state_is_allowed_only_as_the_table_says(
    kind: str, state: str, act: Act, side: Side
) -> None:
    table = table_for(kind)
    allowed = {(t.act, t.by): t.target for t in table.allowed(state)}
    if (act, side) in allowed:
        assert table.next_state(state, act, side) == allowed[(act, side)]
    elif any(a is act for a, _ in allowed):
        with pytest.raises(WrongParty):
            table.next_state(state, act, side)
    else:
        with pytest.raises(ActNotAllowed) as error:
            table.next_state(state, act, side)
        assert state in error.value.message


def test_preservation_runs_from_draft_to_closed() -> None:
    table = table_for("preservation")
    path = [
        (Act.SUBMIT, Side.REQUESTING, "submitted"),
        (Act.DELIVER, Side.REQUESTED, "delivered"),
        (Act.ACKNOWLEDGE, Side.REQUESTED, "acknowledged"),
        (Act.ACCEPT, Side.REQUESTED, "accepted"),
        (Act.EXECUTE, Side.REQUESTED, "executed"),
        (Act.CLOSE, Side.REQUESTING, "closed"),
    ]
    state = table.initial
    for act, side, expected in path:
        state = table.next_state(state, act, side)
        assert state == expected
    assert "closed" in table.terminal_states


def test_refusal_is_possible_only_before_acceptance() -> None:
    table = table_for("preservation")
    assert table.next_state("acknowledged", Act.REFUSE, Side.REQUESTED) == "refused"
    with pytest.raises(ActNotAllowed):
        table.next_state("accepted", Act.REFUSE, Side.REQUESTED)


def test_every_state_is_reachable_from_draft() -> None:
    for table in TABLES.values():
        reached = {table.initial}
        frontier = [table.initial]
        while frontier:
            state = frontier.pop()
            for transition in table.allowed(state):
                if transition.target not in reached:
                    reached.add(transition.target)
                    frontier.append(transition.target)
        assert reached == table.states


def test_unknown_kind_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UnknownKind, match="preservation"):
        table_for("teleportation")


def test_refusal_needs_grounds_and_reasons() -> None:
    with pytest.raises(InvalidActBody, match="grounds"):
        parse_act_body(Act.REFUSE, {"grounds": [], "reasons": "x"})
    with pytest.raises(InvalidActBody, match="reasons"):
        parse_act_body(Act.REFUSE, {"grounds": ["essential-interests"]})


def test_unknown_fields_in_an_act_are_refused() -> None:
    with pytest.raises(InvalidActBody, match="surprise"):
        parse_act_body(Act.ACKNOWLEDGE, {"surprise": 1})


def test_every_request_kind_of_the_law_has_a_transition_table() -> None:
    from comity.law import get_law

    assert set(get_law().kinds) <= set(TABLES)


def test_postponement_needs_grounds_and_reasons_and_extension_needs_a_date() -> None:
    with pytest.raises(InvalidActBody, match="reasons"):
        parse_act_body(Act.POSTPONE, {"grounds": ["ongoing-investigation"]})
    with pytest.raises(InvalidActBody, match="preserved_until"):
        parse_act_body(Act.EXTEND, {"note": "another 60 days"})
    with pytest.raises(InvalidActBody, match="conditions"):
        parse_act_body(Act.PROPOSE_CONDITIONS, {"conditions": []})
