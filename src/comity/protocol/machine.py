"""The state-machine framework: one transition table per request kind, pure and database-free.

Both nodes of a conversation hold the same table and apply every act to it: the sender before
it sends, the recipient when the envelope arrives. An act not in the table for the current
state, or performed by the wrong party, is refused with the same error on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from comity.protocol.acts import Act, Side
from comity.protocol.errors import ActNotAllowed, WrongParty


@dataclass(frozen=True)
class Transition:
    source: str
    act: Act
    by: Side
    target: str


class TransitionTable:
    """Allowed transitions of one request kind."""

    def __init__(self, kind: str, initial: str, transitions: Iterable[Transition]) -> None:
        self.kind = kind
        self.initial = initial
        self._by_key: dict[tuple[str, Act], Transition] = {}
        for transition in transitions:
            key = (transition.source, transition.act)
            if key in self._by_key:
                raise ValueError(
                    f"{kind}: two transitions for {transition.act} in {transition.source}"
                )
            self._by_key[key] = transition

    @property
    def transitions(self) -> list[Transition]:
        return list(self._by_key.values())

    @property
    def states(self) -> set[str]:
        found = {self.initial}
        for transition in self._by_key.values():
            found.update((transition.source, transition.target))
        return found

    @property
    def terminal_states(self) -> set[str]:
        sources = {transition.source for transition in self._by_key.values()}
        return self.states - sources

    def allowed(self, state: str) -> list[Transition]:
        """Acts that may be performed next, by whom."""
        return [t for (source, _), t in self._by_key.items() if source == state]

    def next_state(self, state: str, act: Act, by: Side) -> str:
        """The state after `act` by `by`; raises if the table does not allow it."""
        transition = self._by_key.get((state, act))
        if transition is None:
            allowed = ", ".join(sorted(t.act.value for t in self.allowed(state))) or "none"
            raise ActNotAllowed(
                f"{self.kind}: '{act.value}' is not allowed when the request is '{state}'"
                f" (allowed: {allowed})",
                state=state,
                act=act.value,
            )
        if transition.by is not by:
            raise WrongParty(
                f"{self.kind}: '{act.value}' in state '{state}' is for the {transition.by.value}"
                f" party, not the {by.value} party",
                state=state,
                act=act.value,
            )
        return transition.target
