"""Transition tables against a hand-written golden list: every act in every state of every kind.

The golden list below is written from the procedure as docs/guide-workflow.md documents it (the
acts, who performs them, what they lead to) and from the instruments the kinds' modules cite
(UNTOC 18, Budapest 25-35), not generated from `comity.protocol.kinds`: a wrong transition in
a table makes the comparison fail, naming the kind, state, act and side. Every combination of
state, act and side is still checked (about 8,100 of them), in one test per kind.

One line per allowed transition: `state  act  side  next-state`; a side is `requesting` (R) or
`requested` (P). Anything not listed must be refused: with `WrongParty` when the act is allowed
in that state for the other side only, with `ActNotAllowed` (naming the state) otherwise.
"""

from __future__ import annotations

import pytest

from comity.protocol.acts import Act, Side, parse_act_body
from comity.protocol.errors import ActNotAllowed, InvalidActBody, WrongParty
from comity.protocol.kinds import TABLES, UnknownKind, table_for

# A request for assistance (UNTOC 18, Budapest 25-35). The requesting party submits; the
# requested party's node delivers it, then acknowledges; it may ask for more information
# (UNTOC 18(16)), consult before refusing or postponing and propose conditions (18(25)-(26)),
# postpone (18(25)), refuse with grounds and reasons (18(21), (23)) until it has accepted,
# execute partly or fully. Either side may ask for and give status while the request is open
# (18(24)), except before delivery; the requesting party withdraws while it is open when the
# assistance is no longer needed (18(24)). After execution the requesting party notifies an
# exculpatory disclosure (18(19)) and asks for consent to pass on what it received (18(19)-(20)),
# which the requested party gives. The requesting party closes, the requested party after a
# withdrawal.
ASSISTANCE = """
draft                  submit               R  submitted

submitted              deliver              P  delivered
submitted              withdraw             R  withdrawn

delivered              acknowledge          P  acknowledged
delivered              request-information  P  information-requested
delivered              consult              P  consulting
delivered              refuse               P  refused
delivered              withdraw             R  withdrawn
delivered              status-query         R  delivered
delivered              status-report        P  delivered

acknowledged           accept               P  accepted
acknowledged           request-information  P  information-requested
acknowledged           consult              P  consulting
acknowledged           propose-conditions   P  conditions-proposed
acknowledged           postpone             P  postponed
acknowledged           refuse               P  refused
acknowledged           execute-partially    P  partially-executed
acknowledged           execute              P  executed
acknowledged           withdraw             R  withdrawn
acknowledged           status-query         R  acknowledged
acknowledged           status-report        P  acknowledged

information-requested  provide-information  R  acknowledged
information-requested  refuse               P  refused
information-requested  withdraw             R  withdrawn
information-requested  status-query         R  information-requested
information-requested  status-report        P  information-requested

consulting             provide-information  R  consulting
consulting             accept               P  accepted
consulting             propose-conditions   P  conditions-proposed
consulting             postpone             P  postponed
consulting             refuse               P  refused
consulting             execute-partially    P  partially-executed
consulting             withdraw             R  withdrawn
consulting             status-query         R  consulting
consulting             status-report        P  consulting

conditions-proposed    accept-conditions    R  accepted
conditions-proposed    decline-conditions   R  consulting
conditions-proposed    withdraw             R  withdrawn
conditions-proposed    status-query         R  conditions-proposed
conditions-proposed    status-report        P  conditions-proposed

postponed              accept               P  accepted
postponed              consult              P  consulting
postponed              refuse               P  refused
postponed              withdraw             R  withdrawn
postponed              status-query         R  postponed
postponed              status-report        P  postponed

accepted               execute-partially    P  partially-executed
accepted               execute              P  executed
accepted               withdraw             R  withdrawn
accepted               status-query         R  accepted
accepted               status-report        P  accepted

partially-executed     execute-partially    P  partially-executed
partially-executed     execute              P  executed
partially-executed     close                R  closed
partially-executed     withdraw             R  withdrawn
partially-executed     status-query         R  partially-executed
partially-executed     status-report        P  partially-executed

executed               notify-disclosure    R  executed
executed               request-consent      R  executed
executed               consent              P  executed
executed               close                R  closed

refused                close                R  closed

withdrawn              close                P  closed
"""

# Preservation (Budapest 29(7), UNCC 42(7)): the requested party may extend the period of an
# accepted preservation.
PRESERVATION = (
    ASSISTANCE
    + """
accepted               extend               P  accepted
"""
)

# Urgent kinds sent by an expedited channel: the requesting party confirms formally (Budapest
# 25(3), 27(9)) once the request has arrived, while it is open or once it was executed.
URGENT = (
    ASSISTANCE
    + """
delivered              confirm-formally     R  delivered
acknowledged           confirm-formally     R  acknowledged
information-requested  confirm-formally     R  information-requested
consulting             confirm-formally     R  consulting
conditions-proposed    confirm-formally     R  conditions-proposed
postponed              confirm-formally     R  postponed
accepted               confirm-formally     R  accepted
partially-executed     confirm-formally     R  partially-executed
executed               confirm-formally     R  executed
"""
)

# Spontaneous information (Budapest 26, UNTOC 18(4)-(5)): the sender (requesting side) sends
# without a request; the receiver (requested side) accepts the sender's conditions or says it
# cannot; then the sender decides: it withdraws the information or closes. On information
# received on conditions the receiver notifies a disclosure and asks consent to pass it on,
# which the sender gives.
SPONTANEOUS = """
draft                  submit               R  submitted

submitted              deliver              P  delivered

delivered              acknowledge          P  acknowledged
delivered              accept-conditions    P  accepted
delivered              decline-conditions   P  conditions-declined

acknowledged           accept-conditions    P  accepted
acknowledged           decline-conditions   P  conditions-declined

conditions-declined    withdraw             R  withdrawn
conditions-declined    close                R  closed

accepted               notify-disclosure    P  accepted
accepted               request-consent      P  accepted
accepted               consent              R  accepted
accepted               close                R  closed

withdrawn              close                P  closed
"""

ORDINARY_KINDS = (
    "mla",
    "traffic-data-disclosure",
    "stored-data-access",
    "real-time-traffic",
    "interception",
    "subscriber-information",
    "domain-registration",
    "giving-effect-to-order",
)
URGENT_KINDS = ("emergency-disclosure", "emergency-mla", "contact-point-assistance")

GOLDEN: dict[str, str] = {
    "preservation": PRESERVATION,
    "spontaneous-information": SPONTANEOUS,
    **dict.fromkeys(ORDINARY_KINDS, ASSISTANCE),
    **dict.fromkeys(URGENT_KINDS, URGENT),
}
SIDES = {"R": Side.REQUESTING, "P": Side.REQUESTED}
TERMINAL = {"closed"}


def golden(kind: str) -> dict[tuple[str, Act], tuple[Side, str]]:
    allowed: dict[tuple[str, Act], tuple[Side, str]] = {}
    for line in GOLDEN[kind].strip().splitlines():
        if not line.strip():
            continue
        state, act, side, target = line.split()
        assert (state, Act(act)) not in allowed, f"golden list: {state} {act} twice"
        allowed[(state, Act(act))] = (SIDES[side], target)
    return allowed


def test_every_kind_has_a_golden_list() -> None:
    assert set(GOLDEN) == set(TABLES)


@pytest.mark.parametrize("kind", sorted(GOLDEN))
def test_every_act_in_every_state_is_allowed_only_as_the_procedure_says(kind: str) -> None:
    table = table_for(kind)
    expected = golden(kind)
    states = {state for state, _ in expected} | {target for _, target in expected.values()}
    assert table.initial == "draft"
    assert table.states == states, f"{kind}: states differ"
    assert table.terminal_states == TERMINAL
    wrong = []
    checked = 0
    for state in sorted(states):
        for act in Act:
            for side in Side:
                checked += 1
                if (state, act) in expected:
                    by, target = expected[(state, act)]
                    want = target if side is by else "WrongParty"
                else:
                    want = "ActNotAllowed"
                try:
                    got = table.next_state(state, act, side)
                except WrongParty:
                    got = "WrongParty"
                except ActNotAllowed as error:
                    got = "ActNotAllowed"
                    if state not in error.message:
                        wrong.append(f"{state} {act} {side}: the refusal does not name {state}")
                if got != want:
                    wrong.append(f"{state} --{act} by {side}--> {got}, the procedure says {want}")
    assert checked == len(states) * len(Act) * len(Side)
    assert not wrong, f"{kind}: {len(wrong)} of {checked} differ:\n" + "\n".join(wrong)


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
