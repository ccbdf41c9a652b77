"""Transition tables for requests for assistance, built from one shape that every kind shares
and the few steps only some kinds have.

The shape follows UNTOC 18 and Budapest 25-35: the requested party acknowledges, may ask for
additional information (UNTOC 18(16)), consults before refusing or postponing and considers
conditions (18(25)-(26)), postpones (18(25)), refuses with grounds and reasons (18(21), (23)),
executes partially or fully; either side may ask for or give status (18(24)); the requesting
party withdraws when assistance is no longer needed (18(24)) and may have to confirm an urgent
request formally (Budapest 27(9), 25(3)); exculpatory use is notified (18(19)).
"""

from __future__ import annotations

from comity.protocol.acts import Act, Side
from comity.protocol.machine import Transition, TransitionTable

R, P = Side.REQUESTING, Side.REQUESTED

#: States in which the request is open (not yet decided, executed or ended).
OPEN = (
    "submitted",
    "delivered",
    "acknowledged",
    "information-requested",
    "consulting",
    "conditions-proposed",
    "postponed",
    "accepted",
    "partially-executed",
)


def _status_loops(states: tuple[str, ...]) -> list[Transition]:
    loops = []
    for state in states:
        if state == "submitted":
            continue
        loops.append(Transition(state, Act.STATUS_QUERY, R, state))
        loops.append(Transition(state, Act.STATUS_REPORT, P, state))
    return loops


def assistance_table(
    kind: str,
    *,
    extension: bool = False,
    formal_confirmation: bool = False,
) -> TransitionTable:
    """The table for a request for assistance of `kind`.

    `extension`: the requested party may extend the period of an accepted measure
    (preservation, Budapest 29(7)). `formal_confirmation`: the requesting party confirms an
    urgent request formally after it was sent by an expedited channel.
    """
    transitions = [
        Transition("draft", Act.SUBMIT, R, "submitted"),
        Transition("submitted", Act.DELIVER, P, "delivered"),
        Transition("delivered", Act.ACKNOWLEDGE, P, "acknowledged"),
        Transition("delivered", Act.REFUSE, P, "refused"),
        Transition("delivered", Act.REQUEST_INFORMATION, P, "information-requested"),
        Transition("delivered", Act.CONSULT, P, "consulting"),
        Transition("acknowledged", Act.ACCEPT, P, "accepted"),
        Transition("acknowledged", Act.REFUSE, P, "refused"),
        Transition("acknowledged", Act.REQUEST_INFORMATION, P, "information-requested"),
        Transition("acknowledged", Act.CONSULT, P, "consulting"),
        Transition("acknowledged", Act.PROPOSE_CONDITIONS, P, "conditions-proposed"),
        Transition("acknowledged", Act.POSTPONE, P, "postponed"),
        Transition("acknowledged", Act.EXECUTE_PARTIALLY, P, "partially-executed"),
        Transition("acknowledged", Act.EXECUTE, P, "executed"),
        Transition("information-requested", Act.PROVIDE_INFORMATION, R, "acknowledged"),
        Transition("information-requested", Act.REFUSE, P, "refused"),
        Transition("consulting", Act.PROVIDE_INFORMATION, R, "consulting"),
        Transition("consulting", Act.ACCEPT, P, "accepted"),
        Transition("consulting", Act.PROPOSE_CONDITIONS, P, "conditions-proposed"),
        Transition("consulting", Act.POSTPONE, P, "postponed"),
        Transition("consulting", Act.REFUSE, P, "refused"),
        Transition("consulting", Act.EXECUTE_PARTIALLY, P, "partially-executed"),
        Transition("conditions-proposed", Act.ACCEPT_CONDITIONS, R, "accepted"),
        Transition("conditions-proposed", Act.DECLINE_CONDITIONS, R, "consulting"),
        Transition("postponed", Act.ACCEPT, P, "accepted"),
        Transition("postponed", Act.REFUSE, P, "refused"),
        Transition("postponed", Act.CONSULT, P, "consulting"),
        Transition("accepted", Act.EXECUTE_PARTIALLY, P, "partially-executed"),
        Transition("accepted", Act.EXECUTE, P, "executed"),
        Transition("partially-executed", Act.EXECUTE_PARTIALLY, P, "partially-executed"),
        Transition("partially-executed", Act.EXECUTE, P, "executed"),
        Transition("partially-executed", Act.CLOSE, R, "closed"),
        Transition("executed", Act.NOTIFY_DISCLOSURE, R, "executed"),
        # Onward transfer of what was supplied needs the supplier's consent (UNTOC 18(19)-(20)).
        Transition("executed", Act.REQUEST_CONSENT, R, "executed"),
        Transition("executed", Act.CONSENT, P, "executed"),
        Transition("executed", Act.CLOSE, R, "closed"),
        Transition("refused", Act.CLOSE, R, "closed"),
        Transition("withdrawn", Act.CLOSE, P, "closed"),
    ]
    transitions += [Transition(state, Act.WITHDRAW, R, "withdrawn") for state in OPEN]
    transitions += _status_loops(OPEN)
    if extension:
        transitions.append(Transition("accepted", Act.EXTEND, P, "accepted"))
    if formal_confirmation:
        transitions += [
            Transition(state, Act.CONFIRM_FORMALLY, R, state) for state in (*OPEN[1:], "executed")
        ]
    return TransitionTable(kind=kind, initial="draft", transitions=transitions)


def spontaneous_information_table() -> TransitionTable:
    """Spontaneous information (Budapest 26, UNTOC 18(4)-(5)): sent without a request; the
    receiver accepts the sender's conditions or says it cannot, and the sender decides."""
    kind = "spontaneous-information"
    return TransitionTable(
        kind=kind,
        initial="draft",
        transitions=[
            Transition("draft", Act.SUBMIT, R, "submitted"),
            Transition("submitted", Act.DELIVER, P, "delivered"),
            Transition("delivered", Act.ACKNOWLEDGE, P, "acknowledged"),
            Transition("delivered", Act.ACCEPT_CONDITIONS, P, "accepted"),
            Transition("delivered", Act.DECLINE_CONDITIONS, P, "conditions-declined"),
            Transition("acknowledged", Act.ACCEPT_CONDITIONS, P, "accepted"),
            Transition("acknowledged", Act.DECLINE_CONDITIONS, P, "conditions-declined"),
            Transition("conditions-declined", Act.WITHDRAW, R, "withdrawn"),
            Transition("conditions-declined", Act.CLOSE, R, "closed"),
            Transition("accepted", Act.NOTIFY_DISCLOSURE, P, "accepted"),
            Transition("accepted", Act.REQUEST_CONSENT, P, "accepted"),
            Transition("accepted", Act.CONSENT, R, "accepted"),
            Transition("accepted", Act.CLOSE, R, "closed"),
            Transition("withdrawn", Act.CLOSE, P, "closed"),
        ],
    )
