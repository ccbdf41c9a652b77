"""Signed audit checkpoints as documents: this node's word that its log held `count` entries
ending in `head_hash` at time `at`, and a holder's signed answer listing the checkpoints it
keeps from an issuer. Typed payloads, signing and reading; no database, no peers (exchanging
them with peers is `comity.witnesses`).

A hash chain alone cannot show that its newest entries were cut off: whoever truncates the
tail leaves a shorter chain that is still intact. A checkpoint held by a peer can: the log
must still contain entry `count` with that hash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from joserfc.jwk import OKPKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from comity.protocol.envelope import format_time
from comity.protocol.errors import MalformedEnvelope
from comity.protocol.signed import SignedDocument, sign_document, verify_document

CHECKPOINT_TYP = "comity-audit-checkpoint+jws"
CHECKPOINT_MESSAGE = "audit-checkpoint"
HELD_TYP = "comity-audit-checkpoints-held+jws"
EXPORT_FORMAT = "comity-audit-checkpoints/1"
#: At most this many checkpoints (the newest) in one answer to a peer.
HELD_LIMIT = 500
_CONVERSATIONS = uuid.UUID("6f0d8a0e-5b7c-4d1e-9a56-2f2b0c1d7a11")
_ID = 64
_TOKEN = 16_384

KeyLookup = Callable[[str, str], OKPKey]


class CheckpointPayload(BaseModel):
    """What a checkpoint vouches for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    participant: str = Field(min_length=1, max_length=_ID)
    count: int = Field(ge=0, strict=True)
    head_hash: str = Field(min_length=1, max_length=128)
    at: str = Field(min_length=1, max_length=40)


class HeldAnswer(BaseModel):
    """A holder's answer to an issuer asking which of its checkpoints the holder keeps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holder: str = Field(min_length=1, max_length=_ID)
    issuer: str = Field(min_length=1, max_length=_ID)
    nonce: str = Field(min_length=1, max_length=128)
    at: str = Field(min_length=1, max_length=40)
    checkpoints: list[str] = Field(max_length=HELD_LIMIT)


class CheckpointMessage(BaseModel):
    """The body of an `audit-checkpoint` envelope."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: str = Field(min_length=1, max_length=_TOKEN)


class VerifiedCheckpoint(BaseModel):
    """A checkpoint whose signature verified: who issued it and what it vouches for."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    payload: CheckpointPayload


def conversation_id(participant: str) -> str:
    """All checkpoints of one node share a conversation, so each peer gets them in order."""
    return str(uuid.uuid5(_CONVERSATIONS, participant))


def sign_checkpoint(participant: str, count: int, head_hash: str, at: datetime, key: OKPKey) -> str:
    payload = CheckpointPayload(
        participant=participant, count=count, head_hash=head_hash, at=format_time(at)
    )
    return sign_document(CHECKPOINT_TYP, participant, payload.model_dump(), key)


def read_checkpoint(token: str, key_lookup: KeyLookup) -> VerifiedCheckpoint:
    """Verify a checkpoint's signature and the shape of its payload."""
    document = verify_document(token, CHECKPOINT_TYP, key_lookup)
    try:
        payload = CheckpointPayload.model_validate(document.payload)
    except ValidationError:
        raise MalformedEnvelope(
            "audit checkpoint payload lacks participant, count, head or at"
        ) from None
    if payload.participant != document.issuer:
        raise MalformedEnvelope(
            f"audit checkpoint of {payload.participant} signed by {document.issuer}"
        )
    return VerifiedCheckpoint(issuer=document.issuer, payload=payload)


def read_message(body: object) -> CheckpointMessage:
    """The body of an `audit-checkpoint` envelope, or MalformedEnvelope."""
    try:
        return CheckpointMessage.model_validate(body)
    except ValidationError:
        raise MalformedEnvelope("audit-checkpoint message lacks the signed checkpoint") from None


def sign_held_answer(
    holder: str, issuer: str, nonce: str, at: datetime, tokens: list[str], key: OKPKey
) -> str:
    answer = HeldAnswer(
        holder=holder, issuer=issuer, nonce=nonce, at=format_time(at), checkpoints=tokens
    )
    return sign_document(HELD_TYP, holder, answer.model_dump(), key)


def read_held_answer(
    token: str, key_lookup: KeyLookup, holder: str, issuer: str, nonce: str
) -> list[str]:
    """The checkpoint tokens of a holder's signed answer, after checking that `holder`
    signed it, for `issuer`, in answer to `nonce`. Each token is verified later, on its own."""
    document: SignedDocument = verify_document(token, HELD_TYP, key_lookup)
    try:
        answer = HeldAnswer.model_validate(document.payload)
    except ValidationError:
        raise MalformedEnvelope(f"the answer of {holder} lacks its list of checkpoints") from None
    if (document.issuer, answer.holder, answer.issuer, answer.nonce) != (
        holder,
        holder,
        issuer,
        nonce,
    ):
        raise MalformedEnvelope(
            f"the answer of {holder} is not its answer to this question (holder, issuer or"
            " nonce differ)"
        )
    return list(answer.checkpoints)
