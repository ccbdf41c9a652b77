"""The evidence API: the chunk endpoints peers push to (signed by the sending node), and the
officers' endpoints (bearer tokens with roles) to import, send, open, disclose, ask consent,
ask for use reports and export a court bundle."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field, StrictBool
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from comity.audit import service as audit
from comity.cases.permissions import OFFICIALS, READ_ROLES, require_any
from comity.edges.http import AuthCaller
from comity.evidence import service, transfer
from comity.evidence.buffers import RECEIVING
from comity.evidence.chunks import MAX_CHUNK_SIZE, TAG_SIZE
from comity.evidence.errors import EvidenceError
from comity.evidence.models import EvidenceConsent, EvidencePackage, EvidenceTransfer
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Forbidden
from comity.kit.jsonutil import sha256_hex
from comity.nodes.runtime import Node
from comity.protocol.envelope import format_time

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])

HANDLE_ROLES = OFFICIALS | {"provider-responder", "authorising-officer"}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


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
    proceeding: str = ""


class ConsentAsk(BaseModel):
    recipient: str = Field(min_length=1, max_length=200)
    purpose: str = ""


class ConsentDecision(BaseModel):
    granted: StrictBool
    conditions: str = ""


class Disclosure(BaseModel):
    recipient: str = Field(min_length=1, max_length=200)
    proceeding: str = ""
    exculpatory: StrictBool = False
    notice: str = "prior"
    note: str = ""


def package_view(package: EvidencePackage, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": package.id,
        "case_id": package.case_id,
        "producer": package.producer,
        "supplier": package.supplier,
        "status": package.status,
        "description": package.description,
        "conditions": package.conditions,
        "permitted_proceedings": package.permitted_proceedings,
        "confidential": package.confidential,
        "files": package.file_count,
        "bytes": package.total_size,
        "problems": package.problems,
        "verified_at": format_time(package.verified_at) if package.verified_at else None,
    }
    if full:
        view["manifest"] = service.manifest_of(package).to_json()
    return view


def transfer_view(row: EvidenceTransfer) -> dict[str, Any]:
    return {
        "id": row.id,
        "package_id": row.package_id,
        "direction": row.direction,
        "peer": row.peer,
        "status": row.status,
        "chunk_size": row.chunk_size,
        "conversation_id": row.conversation_id,
        "completed_at": format_time(row.completed_at) if row.completed_at else None,
    }


def consent_view(row: EvidenceConsent) -> dict[str, Any]:
    return {
        "id": row.id,
        "package_id": row.package_id,
        "holder": row.holder,
        "supplier": row.supplier,
        "recipient": row.recipient,
        "purpose": row.purpose,
        "status": row.status,
        "conditions": row.conditions,
        "decided_by": row.decided_by,
    }


# ------------------------------------------------------------------ peer (signed by the node)


@router.get("/transfers/{transfer_id}/status")
def chunk_status(
    request: Request,
    transfer_id: str,
    signature: str | None = Header(None, alias=transfer.SIGNATURE_HEADER),
) -> dict[str, Any]:
    node = _node(request)
    with transaction(node.sessions) as session:
        row = service.get_transfer(session, transfer_id)
        if row.direction != "in":
            raise EvidenceError(f"transfer {transfer_id} is not coming to this node")
        transfer.check_request(session, node, signature, row, "status")
        return service.transfer_status(session, row)


@router.put("/transfers/{transfer_id}/files/{file_no}/chunks/{index}")
async def put_chunk(
    request: Request,
    transfer_id: str,
    file_no: int,
    index: int,
    signature: str | None = Header(None, alias=transfer.SIGNATURE_HEADER),
) -> dict[str, Any]:
    node = _node(request)
    declared = request.headers.get("content-length", "")
    expected = int(declared) if declared.isdigit() else -1
    if expected > MAX_CHUNK_SIZE + TAG_SIZE:
        raise EvidenceError("chunk larger than any allowed chunk size")
    if expected < 0:  # a chunked upload: no length to borrow a buffer for
        grown = await _read_unsized(request, MAX_CHUNK_SIZE + TAG_SIZE)
        return await run_in_threadpool(_accept, node, transfer_id, file_no, index, grown, signature)
    # The body goes into a pooled buffer of exactly its declared length (no growing and
    # copying as the parts arrive, no fresh megabyte per chunk), and that view itself goes on:
    # hashlib and AES-GCM read any buffer.
    with RECEIVING.borrow(expected) as body:
        await _read_into(request, body)
        return await run_in_threadpool(_accept, node, transfer_id, file_no, index, body, signature)


async def _read_into(request: Request, body: memoryview) -> None:
    """Fill `body` with the request body, which must be exactly as long as declared."""
    filled = 0
    async for part in request.stream():
        if filled + len(part) > len(body):
            raise EvidenceError("the body is longer than its content-length")
        body[filled : filled + len(part)] = part
        filled += len(part)
    if filled != len(body):
        raise EvidenceError("the body is shorter than its content-length")


async def _read_unsized(request: Request, limit: int) -> bytearray:
    grown = bytearray()
    async for part in request.stream():
        grown.extend(part)
        if len(grown) > limit:
            raise EvidenceError("chunk larger than any allowed chunk size")
    return grown


def _accept(
    node: Node,
    transfer_id: str,
    file_no: int,
    index: int,
    body: bytes | bytearray | memoryview,
    signature: str | None,
) -> dict[str, Any]:
    """Three steps, so that several chunks of a transfer are staged at once: the checks that
    need the database (signature, position, already confirmed?) in one short transaction;
    authenticating, writing and syncing the chunk with no database held; its confirmation in
    a second short transaction (which finishes the transfer after its last chunk)."""
    try:
        digest = sha256_hex(body)  # once: the signature check, the row and the answer use it
        with transaction(node.sessions) as session:
            row = service.get_transfer(session, transfer_id)
            transfer.check_request(
                session, node, signature, row, "chunk", file_no, index, body, digest
            )
            plan = service.prepare_chunk(session, node, row, file_no, index, body, digest)
        if isinstance(plan, service.ChunkResult):
            result = plan
        else:
            service.stage_chunk(plan, body)
            with transaction(node.sessions) as session:
                result = service.confirm_chunk(session, node, plan)
    except ComityError as exc:
        with transaction(node.sessions) as session:
            audit.record(
                session,
                "evidence:chunk:refused",
                "peer",
                transfer_id,
                file=file_no,
                index=index,
                code=exc.code,
                reason=exc.message[:500],
            )
        raise
    for folder in result.discard:
        service.discard_staging(folder)
    return result.status


# ------------------------------------------------------------------ officers


@router.get("/packages")
def list_packages(
    request: Request, who: AuthCaller, case: str | None = None
) -> list[dict[str, Any]]:
    require_any(who.roles, READ_ROLES, "listing evidence")
    with transaction(_node(request).sessions) as session:
        packages = service.list_packages(session, case)
        audit.record(session, "evidence:packages:listed", who.user, case or "", count=len(packages))
        return [package_view(p) for p in packages]


@router.post("/packages/import", status_code=201)
def import_package(request: Request, who: AuthCaller, body: ImportRequest) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "importing evidence")
    node = _node(request)
    root = node.settings.effective_import_dir
    folder = (root / body.folder).resolve()
    if not folder.is_relative_to(root):
        # The API reads only from the node's import folder, never elsewhere on its disk.
        raise Forbidden(
            "packages are imported from the node's import folder only (a path relative to it)",
            field="folder",
        )
    with transaction(node.sessions) as session:
        return package_view(service.import_package(session, node, folder, who.user, link=body.link))


@router.get("/packages/{package_id}")
def show_package(request: Request, who: AuthCaller, package_id: str) -> dict[str, Any]:
    require_any(who.roles, READ_ROLES, "reading evidence")
    with transaction(_node(request).sessions) as session:
        package = service.get_package(session, package_id)
        audit.record(session, "evidence:package:read", who.user, package_id)
        view = package_view(package, full=True)
        view["transfers"] = [transfer_view(t) for t in service.transfers_of(session, package_id)]
        view["custody"] = service.chain(session, package_id)
        return view


def _push_quietly(node: Node, transfer_id: str) -> None:
    # The officer resumes with POST /transfers/{id}/resume; the receiver audits refusals.
    with contextlib.suppress(ComityError):
        transfer.push(node, transfer_id)


@router.post("/packages/{package_id}/send", status_code=202)
def send_package(
    request: Request, who: AuthCaller, package_id: str, body: SendRequest, tasks: BackgroundTasks
) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "sending evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        row = service.offer(session, node, package_id, body.to, who.user)
        view = transfer_view(row)
    tasks.add_task(_push_quietly, node, view["id"])
    return view


@router.post("/transfers/{transfer_id}/resume")
def resume_transfer(request: Request, who: AuthCaller, transfer_id: str) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "sending evidence")
    return transfer.push(_node(request), transfer_id, wait_seconds=5.0)


@router.post("/packages/{package_id}/open")
def open_package(
    request: Request, who: AuthCaller, package_id: str, body: OpenRequest
) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "opening evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        package = service.open_package(
            session, node, package_id, who.user, body.acknowledge_conditions, body.proceeding
        )
        return package_view(package, full=True)


@router.get(
    "/packages/{package_id}/files/{path:path}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file's bytes, decrypted and checked against the manifest",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
def read_file(request: Request, who: AuthCaller, package_id: str, path: str) -> StreamingResponse:
    require_any(who.roles, HANDLE_ROLES, "reading evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        stream, size = service.read_file(session, node, package_id, path, who.user)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1024 * 1024):
                yield block

    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={"content-length": str(size)},
    )


@router.get("/packages/{package_id}/consents")
def list_consents(request: Request, who: AuthCaller, package_id: str) -> list[dict[str, Any]]:
    require_any(who.roles, READ_ROLES, "reading consents")
    with _node(request).sessions() as session:
        return [consent_view(c) for c in service.consents_of(session, package_id)]


@router.post("/packages/{package_id}/consents", status_code=201)
def ask_consent(
    request: Request, who: AuthCaller, package_id: str, body: ConsentAsk
) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "asking consent")
    node = _node(request)
    with transaction(node.sessions) as session:
        return consent_view(
            service.request_consent(
                session, node, package_id, who.user, body.recipient, body.purpose
            )
        )


@router.post("/consents/{consent_id}/decision")
def decide_consent(
    request: Request, who: AuthCaller, consent_id: str, body: ConsentDecision
) -> dict[str, Any]:
    require_any(who.roles, OFFICIALS, "deciding on consent")
    node = _node(request)
    with transaction(node.sessions) as session:
        return consent_view(
            service.decide_consent(
                session, node, consent_id, who.user, body.granted, body.conditions
            )
        )


@router.post("/packages/{package_id}/disclosures", status_code=201)
def disclose(
    request: Request, who: AuthCaller, package_id: str, body: Disclosure
) -> dict[str, Any]:
    require_any(who.roles, HANDLE_ROLES, "disclosing evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        use = service.disclose(
            session,
            node,
            package_id,
            who.user,
            body.recipient,
            body.proceeding,
            body.exculpatory,
            body.notice,
            body.note,
        )
        return service.use_view(use)


@router.get("/packages/{package_id}/uses")
def uses(request: Request, who: AuthCaller, package_id: str) -> list[dict[str, Any]]:
    require_any(who.roles, READ_ROLES, "reading uses")
    with _node(request).sessions() as session:
        service.get_package(session, package_id)
        return [service.use_view(u) for u in service.uses_of(session, package_id)]


@router.post("/packages/{package_id}/use-reports", status_code=202)
def ask_use_report(request: Request, who: AuthCaller, package_id: str) -> list[dict[str, Any]]:
    require_any(who.roles, HANDLE_ROLES, "asking for a use report")
    node = _node(request)
    with transaction(node.sessions) as session:
        return [
            {"id": r.id, "holder": r.holder}
            for r in service.request_use_report(session, node, package_id, who.user)
        ]


@router.get("/packages/{package_id}/use-reports")
def use_reports(request: Request, who: AuthCaller, package_id: str) -> list[dict[str, Any]]:
    require_any(who.roles, READ_ROLES, "reading use reports")
    with _node(request).sessions() as session:
        return [
            {
                "id": r.id,
                "holder": r.holder,
                "requested_at": format_time(r.requested_at),
                "received_at": format_time(r.received_at) if r.received_at else None,
                "uses": r.uses,
            }
            for r in service.use_reports_of(session, package_id)
        ]


@router.post(
    "/bundles/{case_id}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The court bundle of the case, a zip archive",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def court_bundle(
    request: Request, who: AuthCaller, case_id: str, include_files: bool = False
) -> FileResponse:
    require_any(who.roles, HANDLE_ROLES, "exporting a court bundle")

    return bundle_download(_node(request), case_id, who.user, include_files)


def bundle_download(
    node: Node, case_id: str, actor: str, include_files: bool, work_dir: Path | None = None
) -> FileResponse:
    """Build the court bundle of `case_id` in a temporary folder (under `work_dir` if given)
    and stream it; the folder is removed once sent, or at once if building fails (a
    half-written bundle may hold decrypted evidence). Used by the API and the web page."""
    from comity.evidence.bundle import build_bundle

    folder = Path(tempfile.mkdtemp(prefix="comity-bundle-", dir=work_dir))
    target = folder / f"court-bundle-{case_id}.zip"

    def cleanup() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    try:
        with transaction(node.sessions) as session:
            build_bundle(session, node, case_id, target, actor, include_files=include_files)
    except BaseException:
        cleanup()
        raise
    return FileResponse(
        target,
        media_type="application/zip",
        filename=target.name,
        background=BackgroundTask(cleanup),
    )
