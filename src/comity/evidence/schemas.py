"""What the evidence API, CLI and pages answer (Pydantic views), and what the API accepts.
Views that mirror a row are built from it with `from_attributes`; times are RFC 3339 in UTC
with milliseconds, as everywhere else in comity."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StrictBool

from comity.evidence.models import (
    EvidencePackage,
)
from comity.evidence.payloads import NOTE_LENGTH, PARTY_LENGTH, PROCEEDING_LENGTH, TEXT_LENGTH
from comity.protocol.envelope import format_time

Time = Annotated[datetime, PlainSerializer(format_time, return_type=str)]


class RowView(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.model_validate(row, from_attributes=True)


# ------------------------------------------------------------------ answers


class PackageView(RowView):
    id: str
    case_id: str = Field(description="Conversation (request) the package answers")
    producer: str
    supplier: str = Field(description="Party that gave it to this node; empty for its own")
    status: str = Field(description="receiving, verified or rejected")
    description: str
    conditions: str
    permitted_proceedings: list[str]
    confidential: bool
    files: int = Field(validation_alias="file_count")
    bytes: int = Field(validation_alias="total_size")
    problems: list[str]
    verified_at: Time | None


class PackageWithManifest(PackageView):
    manifest: dict[str, Any] = Field(description="The manifest's payload (README §3)")

    @classmethod
    def of_package(cls, package: EvidencePackage, manifest: dict[str, Any], **extra: Any) -> Self:
        base = PackageView.of(package)
        return cls.model_validate({**dict(base), "manifest": manifest, **extra})


class TransferView(RowView):
    id: str
    package_id: str
    direction: str = Field(description="out or in")
    peer: str
    status: str = Field(description="sending, receiving, verified or rejected")
    chunk_size: int
    conversation_id: str
    completed_at: Time | None


class PackageDetail(PackageWithManifest):
    transfers: list[TransferView]
    custody: list[str] = Field(description="This node's custody chain, event tokens in order")


class ConsentView(RowView):
    id: str
    package_id: str
    holder: str
    supplier: str
    recipient: str
    purpose: str
    status: str = Field(description="requested, granted or refused")
    conditions: str
    decided_by: str


class UseView(RowView):
    use: str
    user: str
    proceeding: str
    recipient: str
    note: str
    at: Time


class UseReportAskedView(RowView):
    id: str
    holder: str


class UseReportView(RowView):
    id: str
    holder: str
    requested_at: Time
    received_at: Time | None
    uses: list[Any] | None = Field(description="The uses the holder reported, once received")


class FileProgress(BaseModel):
    file: int
    chunks: int
    confirmed: int = Field(description="Chunks confirmed without a gap from chunk 0")
    ahead: list[int] = Field(description="Chunks confirmed beyond the first gap")


class TransferProgress(BaseModel):
    """What the receiver has confirmed of a transfer, per file (where a sender resumes)."""

    transfer_id: str
    package_id: str
    status: str
    problems: list[str]
    files: list[FileProgress]


class ChunkPosition(BaseModel):
    file: int
    index: int


class Progress(BaseModel):
    confirmed: int
    chunks: int


class ChunkAck(BaseModel):
    """The short answer to a chunk that did not finish the transfer."""

    transfer_id: str
    package_id: str
    status: str
    problems: list[str]
    chunk: ChunkPosition
    progress: Progress


ChunkAnswer = TransferProgress | ChunkAck


# ------------------------------------------------------------------ requests


class ImportRequest(BaseModel):
    folder: str = Field(
        description="Package folder (from comity evidence seal), inside the node's import folder"
    )
    link: StrictBool = Field(
        default=False,
        description="Take the files into the store by hard link where the import folder is on"
        " the store's filesystem (no second copy; the files become read-only); else copy",
    )


class SendRequest(BaseModel):
    to: str = Field(min_length=1, max_length=64)


class OpenRequest(BaseModel):
    acknowledge_conditions: StrictBool = False
    proceeding: str = Field(default="", max_length=PROCEEDING_LENGTH)


class ConsentAsk(BaseModel):
    recipient: str = Field(min_length=1, max_length=PARTY_LENGTH)
    purpose: str = Field(default="", description=f"Kept to {TEXT_LENGTH} characters")


class ConsentDecision(BaseModel):
    granted: StrictBool
    conditions: str = Field(default="", description=f"Kept to {TEXT_LENGTH} characters")


class Disclosure(BaseModel):
    recipient: str = Field(min_length=1, max_length=PARTY_LENGTH)
    proceeding: str = Field(default="", max_length=PROCEEDING_LENGTH)
    exculpatory: StrictBool = False
    notice: str = "prior"
    note: str = Field(default="", description=f"Kept to {NOTE_LENGTH} characters")
