"""Expedited preservation of stored computer data (Budapest art. 29; UN Convention against
Cybercrime art. 42).

draft → submitted → delivered → acknowledged → accepted (preserved until a date) → executed →
closed; or refused with grounds and reasons (Budapest 29(5)); or withdrawn by the requesting
party when no longer needed (UNTOC 18(24)).
"""

from __future__ import annotations

from comity.protocol.acts import Act, Side
from comity.protocol.machine import Transition, TransitionTable

R, P = Side.REQUESTING, Side.REQUESTED

PRESERVATION = TransitionTable(
    kind="preservation",
    initial="draft",
    transitions=[
        Transition("draft", Act.SUBMIT, R, "submitted"),
        Transition("submitted", Act.DELIVER, P, "delivered"),
        Transition("submitted", Act.WITHDRAW, R, "withdrawn"),
        Transition("delivered", Act.ACKNOWLEDGE, P, "acknowledged"),
        Transition("delivered", Act.REFUSE, P, "refused"),
        Transition("delivered", Act.WITHDRAW, R, "withdrawn"),
        Transition("acknowledged", Act.ACCEPT, P, "accepted"),
        Transition("acknowledged", Act.REFUSE, P, "refused"),
        Transition("acknowledged", Act.WITHDRAW, R, "withdrawn"),
        Transition("accepted", Act.EXECUTE, P, "executed"),
        Transition("accepted", Act.WITHDRAW, R, "withdrawn"),
        Transition("executed", Act.CLOSE, R, "closed"),
        Transition("refused", Act.CLOSE, R, "closed"),
        Transition("withdrawn", Act.CLOSE, P, "closed"),
    ],
)
