"""Offers the system prepares for an officer: a preservation request to a third state,
pre-filled from disclosed traffic data (Budapest 30, UN Convention against Cybercrime 43)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from comity import law
from comity.audit import service as audit
from comity.cases.models import Case
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.nodes.runtime import Node
from comity.notifications import service as notifications
from comity.protocol.acts import Side
from comity.protocol.errors import InvalidActBody
from comity.protocol.kinds import table_for


class Disclosure(BaseModel):
    """Enough traffic data to identify a service provider in another state and the path of a
    communication (Budapest 30(1))."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    provider: str = Field(min_length=1, max_length=400)
    provider_state: str = Field(min_length=1, max_length=64)
    communication: str = Field(default="", max_length=4000)
    traffic_data: str = Field(min_length=1, max_length=20000)


def parse_disclosure(raw: dict[str, Any]) -> Disclosure:
    try:
        return Disclosure.model_validate(raw)
    except ValueError as exc:
        raise InvalidActBody(f"disclosure: {exc}", field="disclosure") from None


def offer_preservation(
    session: Session, node: Node, preserved: Case, disclosure: Disclosure
) -> Case | None:
    """A draft preservation request to the third state, for the officer to check and submit."""
    state = disclosure.provider_state
    if state in (node.participant_id, preserved.counterpart):
        return None
    directory = directory_service.current(session)
    if directory.participant(state) is None:
        return None
    instrument = ""
    try:
        found = law.applicable_instruments(
            directory, node.participant_id, state, utc_now().date(), "preservation"
        )
        usable = [i for i in found if i.usable]
        instrument = usable[0].instrument if usable else ""
    except law.LawError:
        instrument = ""
    source = preserved.request if isinstance(preserved.request, dict) else {}
    request: dict[str, Any] = {
        key: source[key]
        for key in ("requesting_authority", "offence", "facts_summary", "conduct", "intends_mla")
        if key in source
    }
    request.update(
        kind="preservation",
        requesting_party=node.participant_id,
        requested_party=state,
        instrument=instrument,
        data_to_preserve=(
            f"Traffic and subscriber data held by {disclosure.provider} relating to the"
            f" communication: {disclosure.communication or disclosure.traffic_data}"
        ),
        custodian_or_location=f"{disclosure.provider}, in {state}",
        relationship_to_offence=(
            f"The provider was identified by traffic data disclosed by {preserved.counterpart}"
            f" under preservation request {preserved.id}"
        ),
        preservation_reference=preserved.id,
    )
    offer = Case(
        kind="preservation",
        side=Side.REQUESTING.value,
        our_party=node.participant_id,
        counterpart=state,
        state=table_for("preservation").initial,
        instrument=instrument,
        request=request,
        created_by="system",
    )
    session.add(offer)
    session.flush()
    audit.record(
        session,
        "cases:request:offered",
        "system",
        offer.id,
        kind="preservation",
        to=state,
        source=preserved.id,
    )
    notifications.notify_role(
        session,
        "duty-officer",
        "preservation-offer",
        f"{preserved.counterpart} disclosed traffic data pointing to a provider in {state}:"
        f" a pre-filled preservation request {offer.id} to {state} awaits your check.",
        offer.id,
    )
    return offer
