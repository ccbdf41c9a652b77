"""Procedural acts: the typed steps of a cooperation request, each carried by one envelope.

The names are those of the instruments (UNTOC 18, Budapest 25-35, the UN Convention against
Cybercrime chapter V): a requested party *acknowledges*, *accepts*, *refuses* with grounds and
reasons (UNTOC 18(23)), *executes*; a requesting party *submits*, *withdraws* when assistance is
no longer needed (UNTOC 18(24)), and either may *close*.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from comity.kit.validation import first_problem
from comity.protocol.errors import InvalidActBody


class Side(StrEnum):
    """Which party of a conversation performs an act."""

    REQUESTING = "requesting"
    REQUESTED = "requested"


class Act(StrEnum):
    SUBMIT = "submit"
    DELIVER = "deliver"
    ACKNOWLEDGE = "acknowledge"
    REQUEST_INFORMATION = "request-information"
    PROVIDE_INFORMATION = "provide-information"
    ACCEPT = "accept"
    PROPOSE_CONDITIONS = "propose-conditions"
    ACCEPT_CONDITIONS = "accept-conditions"
    DECLINE_CONDITIONS = "decline-conditions"
    CONSULT = "consult"
    POSTPONE = "postpone"
    REFUSE = "refuse"
    EXECUTE_PARTIALLY = "execute-partially"
    EXECUTE = "execute"
    STATUS_QUERY = "status-query"
    STATUS_REPORT = "status-report"
    EXTEND = "extend"
    CONFIRM_FORMALLY = "confirm-formally"
    WITHDRAW = "withdraw"
    NOTIFY_DISCLOSURE = "notify-disclosure"
    REQUEST_CONSENT = "request-consent"
    CONSENT = "consent"
    CLOSE = "close"


class ActBody(BaseModel):
    """Base of the content of an act; unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EmptyBody(ActBody):
    note: str = Field(default="", max_length=4000)


class SubmitBody(ActBody):
    kind: str = Field(min_length=1, max_length=64)
    request: dict[str, Any]


class AcceptBody(ActBody):
    preserved_until: date | None = None
    note: str = Field(default="", max_length=4000)


class RefuseBody(ActBody):
    grounds: list[str] = Field(min_length=1, description="Ground codes from the law data")
    reasons: str = Field(min_length=1, max_length=20000, description="Reasons (UNTOC 18(23))")


class ExecuteBody(ActBody):
    summary: str = Field(default="", max_length=20000)


class WithdrawBody(ActBody):
    reasons: str = Field(min_length=1, max_length=20000)


class InformationRequestBody(ActBody):
    questions: str = Field(min_length=1, max_length=20000, description="UNTOC 18(16)")


class InformationBody(ActBody):
    information: str = Field(min_length=1, max_length=100000)


class ConditionsBody(ActBody):
    conditions: list[str] = Field(min_length=1, description="Conditions on use (UNTOC 18(19))")
    permitted_proceedings: list[str] = Field(default_factory=list)
    confidential: bool = False


class ReasonsBody(ActBody):
    reasons: str = Field(min_length=1, max_length=20000)


class ConsultBody(ActBody):
    subject: str = Field(min_length=1, max_length=20000, description="UNTOC 18(26)")
    considering: list[str] = Field(default_factory=list, description="e.g. partial, conditional")


class PostponeBody(ActBody):
    grounds: list[str] = Field(min_length=1)
    reasons: str = Field(min_length=1, max_length=20000)
    until: date | None = None


class StatusBody(ActBody):
    status: str = Field(default="", max_length=20000)


class ExtendBody(ActBody):
    preserved_until: date
    note: str = Field(default="", max_length=4000)


class ConfirmationBody(ActBody):
    reference: str = Field(min_length=1, max_length=400)
    note: str = Field(default="", max_length=4000)


class DisclosureNoticeBody(ActBody):
    description: str = Field(min_length=1, max_length=20000)
    prior: bool = True


class ConsentRequestBody(ActBody):
    to: str = Field(min_length=1, max_length=64, description="Party to pass the material to")
    purpose: str = Field(min_length=1, max_length=20000)


class ConsentBody(ActBody):
    to: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=4000)


ACT_BODIES: dict[Act, type[ActBody]] = {
    Act.REQUEST_CONSENT: ConsentRequestBody,
    Act.CONSENT: ConsentBody,
    Act.REQUEST_INFORMATION: InformationRequestBody,
    Act.PROVIDE_INFORMATION: InformationBody,
    Act.PROPOSE_CONDITIONS: ConditionsBody,
    Act.ACCEPT_CONDITIONS: EmptyBody,
    Act.DECLINE_CONDITIONS: ReasonsBody,
    Act.CONSULT: ConsultBody,
    Act.POSTPONE: PostponeBody,
    Act.EXECUTE_PARTIALLY: ExecuteBody,
    Act.STATUS_QUERY: EmptyBody,
    Act.STATUS_REPORT: StatusBody,
    Act.EXTEND: ExtendBody,
    Act.CONFIRM_FORMALLY: ConfirmationBody,
    Act.NOTIFY_DISCLOSURE: DisclosureNoticeBody,
    Act.SUBMIT: SubmitBody,
    Act.DELIVER: EmptyBody,
    Act.ACKNOWLEDGE: EmptyBody,
    Act.ACCEPT: AcceptBody,
    Act.REFUSE: RefuseBody,
    Act.EXECUTE: ExecuteBody,
    Act.WITHDRAW: WithdrawBody,
    Act.CLOSE: EmptyBody,
}


def parse_act_body(act: Act, raw: dict[str, Any]) -> ActBody:
    """Validate the content of `act`; the error names the field at fault."""
    model = ACT_BODIES.get(act, EmptyBody)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        field, why = first_problem(exc, "(body)")
        raise InvalidActBody(f"act {act.value}: field {field!r}: {why}", field=field) from exc
