"""Kind-specific checks on acts, from the law data (never hard-coded law)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from comity.cases.models import Case
from comity.directory import service as directory_service
from comity.kit.clock import utc_now
from comity.kit.errors import ComityError
from comity.protocol.acts import AcceptBody, Act, ActBody, RefuseBody
from comity.protocol.errors import InvalidActBody


class UnknownParty(ComityError):
    status_code = 422
    code = "unknown_party"


def check_counterpart(session: Session, us: str, counterpart: str) -> None:
    directory = directory_service.current(session)
    if counterpart == us:
        raise UnknownParty("a request cannot be addressed to this node itself", field="to")
    if directory.participant(counterpart) is None:
        raise UnknownParty(
            f"{counterpart} is not in directory version {directory.version}", field="to"
        )


def preservation_minimum_days(instrument: str) -> int:
    from comity import law

    return law.preservation_minimum_days(instrument or "budapest")


def check_act(case: Case, act: Act, body: ActBody) -> None:
    """Refuse an act whose content the applicable law does not allow."""
    if case.kind == "preservation" and act is Act.ACCEPT:
        if not isinstance(body, AcceptBody):
            raise InvalidActBody("accept needs an accept body")
        minimum = preservation_minimum_days(case.instrument)
        if body.preserved_until is None:
            raise InvalidActBody(
                "accepting a preservation request needs 'preserved_until'",
                field="preserved_until",
            )
        earliest = (utc_now() + timedelta(days=minimum)).date()
        if body.preserved_until < earliest:
            raise InvalidActBody(
                f"data must be preserved for at least {minimum} days under {case.instrument}"
                f" (until {earliest.isoformat()} or later)",
                field="preserved_until",
            )
    if act is Act.REFUSE:
        if not isinstance(body, RefuseBody):
            raise InvalidActBody("refuse needs grounds and reasons")
        from comity import law

        law.check_refusal_grounds(case.kind, case.instrument or "budapest", body.grounds)


def apply_effects(case: Case, act: Act, body: ActBody) -> None:
    if isinstance(body, AcceptBody) and body.preserved_until is not None:
        case.preserved_until = body.preserved_until
