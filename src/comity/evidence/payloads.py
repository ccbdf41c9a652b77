"""The evidence messages between nodes, one typed payload each. A sender builds its payload
through the model (so what it sends is what a receiver accepts); a receiver parses the
envelope's payload once, at the top of its handler, and refuses a malformed one
(`MalformedEnvelope`) before anything is read from it. Every string and list is bounded."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError

from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import MalformedEnvelope

OFFER_MESSAGE = "evidence-offer"
RECEIVED_MESSAGE = "evidence-received"
CONSENT_REQUEST_MESSAGE = "evidence-consent-request"
CONSENT_MESSAGE = "evidence-consent"
NOTICE_MESSAGE = "evidence-notice"
USE_REPORT_REQUEST_MESSAGE = "evidence-use-report-request"
USE_REPORT_MESSAGE = "evidence-use-report"

# Lengths the database columns and the custody details hold.
PARTY_LENGTH = 200
TEXT_LENGTH = 5000
NOTE_LENGTH = 2000
PROCEEDING_LENGTH = 500
TOKEN_LENGTH = 16 * 1024 * 1024  # a signed manifest or custody event (an envelope is smaller)
MAX_EVENTS = 100_000
MAX_FILES = 1_000_000
MAX_PROBLEMS = 10_000
MAX_USES = 100_000


Id = Annotated[str, StringConstraints(min_length=1, max_length=PARTY_LENGTH)]
Party = Annotated[str, StringConstraints(max_length=PARTY_LENGTH)]
Text = Annotated[str, StringConstraints(max_length=TEXT_LENGTH)]
Note = Annotated[str, StringConstraints(max_length=NOTE_LENGTH)]
Proceeding = Annotated[str, StringConstraints(max_length=PROCEEDING_LENGTH)]
Problem = Annotated[str, StringConstraints(max_length=8192)]
Short = Annotated[str, StringConstraints(max_length=40)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=TOKEN_LENGTH)]
Base64Url = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")
]


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True)

    def body(self) -> dict[str, Any]:
        """The payload as the envelope carries it (JSON types)."""
        return self.model_dump(mode="json")


class OfferedFile(Payload):
    path: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    key: Base64Url
    header: Base64Url


class Offer(Payload):
    """`evidence-offer`: the manifest, the sender's custody chain (ending with this sending),
    and per file its content key and stream header."""

    transfer_id: uuid.UUID
    package_id: Id
    manifest: Token
    custody: list[Token] = Field(min_length=1, max_length=MAX_EVENTS)
    chunk_size: int
    files: list[OfferedFile] = Field(max_length=MAX_FILES)


class Received(Payload):
    """`evidence-received`: whether the package verified on the receiver's side."""

    transfer_id: Id
    package_id: Id
    verified: StrictBool
    problems: list[Problem] = Field(default_factory=list, max_length=MAX_PROBLEMS)
    custody: list[Token] = Field(default_factory=list, max_length=MAX_EVENTS)


class ConsentAsked(Payload):
    """`evidence-consent-request`: the holder asks the supplier's consent to pass it on."""

    consent_id: uuid.UUID
    package_id: Id
    recipient: Party
    purpose: Text = ""
    requested_by: Party = ""


class ConsentAnswer(Payload):
    """`evidence-consent`: the supplier's answer."""

    consent_id: Id
    package_id: Id
    granted: StrictBool
    conditions: Text = ""
    decided_by: Party = ""


class Notice(Payload):
    """`evidence-notice`: notice to the supplier, e.g. of an exculpatory disclosure."""

    package_id: Id
    kind: Short
    recipient: Party = ""
    timing: Short = ""
    proceeding: Proceeding = ""
    note: Note = ""
    by: Party = ""


class UseReportAsked(Payload):
    """`evidence-use-report-request`: the supplier asks a holder for its uses."""

    report_id: Id
    package_id: Id


class ReportedUse(Payload):
    """One use as a holder reports it (the `UseView` of its node)."""

    use: Short
    user: Party
    proceeding: Proceeding = ""
    recipient: Party = ""
    note: Note = ""
    at: Short


class UseReport(Payload):
    """`evidence-use-report`: every use the holder recorded."""

    report_id: Id
    package_id: Id
    uses: list[ReportedUse] = Field(max_length=MAX_USES)


P = TypeVar("P", bound=Payload)


def parse(model: type[P], opened: OpenedEnvelope) -> P:
    """The envelope's payload as `model`, or `MalformedEnvelope` naming what is wrong (the
    field and the rule, never the value: it may be evidence)."""
    try:
        return model.model_validate(opened.payload)
    except ValidationError as exc:
        wrong = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'payload'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise MalformedEnvelope(
            f"{opened.header.message_type} payload is malformed: {wrong}"
        ) from None
