"""Reading the directory for the law: who is bound by what on a date, where a provider is
established, which declarations are in force. Pure functions over `Directory`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from comity.directory.document import Contact, Declaration, Directory, Participant, Role, Treaty
from comity.law.errors import UnknownParty


@dataclass(frozen=True, slots=True)
class Target:
    """The addressee of a request and the state whose law governs it (the host of a provider)."""

    addressee: Participant
    state: Participant

    @property
    def is_provider(self) -> bool:
        return self.addressee.type != "state"


def participant(directory: Directory, participant_id: str, field: str) -> Participant:
    """The participant `participant_id`, or `UnknownParty` naming the request field."""
    found = directory.participant(participant_id)
    if found is None:
        raise UnknownParty(
            f"{field}: {participant_id!r} is not in the directory (version {directory.version})",
            field=field,
            party=participant_id,
        )
    return found


def target(directory: Directory, requested_id: str) -> Target:
    """Resolve the requested participant; a provider or registry is governed by its host state."""
    addressee = participant(directory, requested_id, "requested_party")
    if addressee.type == "state" or not addressee.established_in:
        return Target(addressee, addressee)
    return Target(addressee, participant(directory, addressee.established_in, "requested_party"))


def _within(start: date | None, until: date | None, on: date) -> bool:
    return (start is None or start <= on) and (until is None or on < until)


def ratified(party: Participant, instrument: str, on: date) -> bool:
    """Whether `party` is bound by `instrument` on `on`."""
    return any(
        r.instrument == instrument and _within(r.in_force_from, r.until, on)
        for r in party.instruments
    )


def ratified_later(party: Participant, instrument: str, on: date) -> date | None:
    """The date from which `party` will be bound, when that is after `on`."""
    later = [
        r.in_force_from
        for r in party.instruments
        if r.instrument == instrument and r.in_force_from is not None and r.in_force_from > on
    ]
    return min(later) if later else None


def treaties_between(
    directory: Directory, first: str, second: str, on: date, instrument: str | None = None
) -> list[Treaty]:
    """Treaties binding both parties on the date (optionally of one instrument type)."""
    return [
        t
        for t in directory.treaties
        if first in t.parties
        and second in t.parties
        and (instrument is None or t.instrument == instrument)
        and _within(t.in_force_from, t.until, on)
    ]


def declarations_in_force(party: Participant, on: date) -> list[Declaration]:
    """The party's declarations and reservations in force on the date."""
    return [d for d in party.declarations if _within(d.from_date, d.until, on)]


def contact(party: Participant, role: Role) -> Contact | None:
    """The party's first contact with `role`."""
    return next((c for c in party.contacts if c.role == role), None)
