"""What requests send each other: the payloads of the `act` and `receipt` messages, parsed
once when an envelope is opened and read through typed fields afterwards."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from comity.cases.offers import Disclosure
from comity.kit.validation import first_problem
from comity.protocol.acts import Act
from comity.protocol.errors import MalformedEnvelope

ACT_MESSAGE = "act"
RECEIPT_MESSAGE = "receipt"


class _Payload(BaseModel):
    # Fields a later version adds are ignored, as they always were.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ActMessage(_Payload):
    """An act performed on a request: the act, the request's kind and the act's body (checked
    against the act's own model when the act is applied). An answer carries the conditions
    both sides accepted; a partial execution of a preservation may carry traffic data naming a
    provider in a third state (Budapest 30)."""

    act: Act
    kind: str = Field(min_length=1, max_length=64)
    from_state: str = Field(default="", max_length=40)
    body: dict[str, Any]
    conditions: dict[str, Any] | None = None
    disclosure: Disclosure | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON sent: the optional parts only when present."""
        return self.model_dump(mode="json", exclude_none=True)


class ReceiptMessage(_Payload):
    """A signed `retrieved` receipt: the requested party opened the request."""

    receipt: str = Field(min_length=1, max_length=20000)


M = TypeVar("M", bound=_Payload)


def parse(model: type[M], payload: dict[str, Any]) -> M:
    """`payload` as `model`, or `MalformedEnvelope` naming the first field at fault."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        field, why = first_problem(exc, "(payload)")
        raise MalformedEnvelope(f"{model.__name__}: field {field!r}: {why}", field=field) from None
