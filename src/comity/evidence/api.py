"""The evidence API: the chunk endpoints peers push to (signed by the sending node), and the
officers' endpoints (bearer tokens with roles) to import, send, open, disclose, ask consent,
ask for use reports and export a court bundle."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import TypeAdapter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from comity.audit import service as audit
from comity.cases.permissions import OFFICIALS, READ_ROLES, require_any
from comity.edges.http import AuthCaller
from comity.evidence import consents, offers, queries, receiving, transfer, use
from comity.evidence.buffers import RECEIVING
from comity.evidence.bundle import build_bundle_file
from comity.evidence.chunks import MAX_CHUNK_SIZE, TAG_SIZE
from comity.evidence.errors import EvidenceError
from comity.evidence.schemas import (
    ChunkAnswer,
    ConsentAsk,
    ConsentDecision,
    ConsentView,
    Disclosure,
    ImportRequest,
    OpenRequest,
    PackageDetail,
    PackageView,
    PackageWithManifest,
    SendRequest,
    TransferProgress,
    TransferView,
    UseReportAskedView,
    UseReportView,
    UseView,
)
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Forbidden
from comity.kit.jsonutil import sha256_hex
from comity.nodes.runtime import Node

router = APIRouter(prefix="/v1/evidence", tags=["evidence"])

HANDLE_ROLES = OFFICIALS | {"provider-responder", "authorising-officer"}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


# ------------------------------------------------------------------ peer (signed by the node)


@router.get("/transfers/{transfer_id}/status")
def chunk_status(
    request: Request,
    transfer_id: str,
    signature: str | None = Header(None, alias=transfer.SIGNATURE_HEADER),
) -> TransferProgress:
    node = _node(request)
    with transaction(node.sessions) as session:
        row = queries.get_transfer(session, transfer_id)
        if row.direction != "in":
            raise EvidenceError(f"transfer {transfer_id} is not coming to this node")
        transfer.check_request(session, node, signature, row, "status")
        return receiving.transfer_status(session, row)


@router.put("/transfers/{transfer_id}/files/{file_no}/chunks/{index}")
async def put_chunk(
    request: Request,
    transfer_id: str,
    file_no: int,
    index: int,
    signature: str | None = Header(None, alias=transfer.SIGNATURE_HEADER),
) -> ChunkAnswer:
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
) -> ChunkAnswer:
    """Three steps, so that several chunks of a transfer are staged at once: the checks that
    need the database (signature, position, already confirmed?) in one short transaction;
    authenticating, writing and syncing the chunk with no database held; its confirmation in
    a second short transaction (which finishes the transfer after its last chunk)."""
    try:
        digest = sha256_hex(body)  # once: the signature check, the row and the answer use it
        with transaction(node.sessions) as session:
            row = queries.get_transfer(session, transfer_id)
            transfer.check_request(
                session, node, signature, row, "chunk", file_no, index, body, digest
            )
            plan = receiving.prepare_chunk(session, node, row, file_no, index, body, digest)
        if isinstance(plan, receiving.ChunkResult):
            result = plan
        else:
            receiving.stage_chunk(plan, body)
            with transaction(node.sessions) as session:
                result = receiving.confirm_chunk(session, node, plan)
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
        receiving.discard_staging(folder)
    return result.status


# ------------------------------------------------------------------ officers


@router.get("/packages")
def list_packages(request: Request, who: AuthCaller, case: str | None = None) -> list[PackageView]:
    require_any(who.roles, READ_ROLES, "listing evidence")
    with transaction(_node(request).sessions) as session:
        packages = queries.list_packages(session, case)
        audit.record(session, "evidence:packages:listed", who.user, case or "", count=len(packages))
        return [PackageView.of(p) for p in packages]


@router.post("/packages/import", status_code=201)
def import_package(request: Request, who: AuthCaller, body: ImportRequest) -> PackageView:
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
        return PackageView.of(
            offers.import_package(session, node, folder, who.user, link=body.link)
        )


@router.get("/packages/{package_id}")
def show_package(request: Request, who: AuthCaller, package_id: str) -> PackageDetail:
    require_any(who.roles, READ_ROLES, "reading evidence")
    with transaction(_node(request).sessions) as session:
        package = queries.get_package(session, package_id)
        audit.record(session, "evidence:package:read", who.user, package_id)
        return PackageDetail.of_package(
            package,
            queries.manifest_of(package).to_json(),
            transfers=[TransferView.of(t) for t in queries.transfers_of(session, package_id)],
            custody=queries.chain(session, package_id),
        )


def _push_quietly(node: Node, transfer_id: str) -> None:
    # The officer resumes with POST /transfers/{id}/resume; the receiver audits refusals.
    with contextlib.suppress(ComityError):
        transfer.push(node, transfer_id)


@router.post("/packages/{package_id}/send", status_code=202)
def send_package(
    request: Request, who: AuthCaller, package_id: str, body: SendRequest, tasks: BackgroundTasks
) -> TransferView:
    require_any(who.roles, HANDLE_ROLES, "sending evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        view = TransferView.of(offers.offer(session, node, package_id, body.to, who.user))
    tasks.add_task(_push_quietly, node, view.id)
    return view


_CHUNK_ANSWER: TypeAdapter[ChunkAnswer] = TypeAdapter(ChunkAnswer)


@router.post("/transfers/{transfer_id}/resume")
def resume_transfer(request: Request, who: AuthCaller, transfer_id: str) -> ChunkAnswer:
    require_any(who.roles, HANDLE_ROLES, "sending evidence")
    return _CHUNK_ANSWER.validate_python(
        transfer.push(_node(request), transfer_id, wait_seconds=5.0)
    )


@router.post("/packages/{package_id}/open")
def open_package(
    request: Request, who: AuthCaller, package_id: str, body: OpenRequest
) -> PackageWithManifest:
    require_any(who.roles, HANDLE_ROLES, "opening evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        package = use.open_package(
            session, node, package_id, who.user, body.acknowledge_conditions, body.proceeding
        )
        return PackageWithManifest.of_package(package, queries.manifest_of(package).to_json())


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
        stream, size = use.read_file(session, node, package_id, path, who.user)

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
def list_consents(request: Request, who: AuthCaller, package_id: str) -> list[ConsentView]:
    require_any(who.roles, READ_ROLES, "reading consents")
    with _node(request).sessions() as session:
        return [ConsentView.of(c) for c in queries.consents_of(session, package_id)]


@router.post("/packages/{package_id}/consents", status_code=201)
def ask_consent(
    request: Request, who: AuthCaller, package_id: str, body: ConsentAsk
) -> ConsentView:
    require_any(who.roles, HANDLE_ROLES, "asking consent")
    node = _node(request)
    with transaction(node.sessions) as session:
        return ConsentView.of(
            consents.request_consent(
                session, node, package_id, who.user, body.recipient, body.purpose
            )
        )


@router.post("/consents/{consent_id}/decision")
def decide_consent(
    request: Request, who: AuthCaller, consent_id: str, body: ConsentDecision
) -> ConsentView:
    require_any(who.roles, OFFICIALS, "deciding on consent")
    node = _node(request)
    with transaction(node.sessions) as session:
        return ConsentView.of(
            consents.decide_consent(
                session, node, consent_id, who.user, body.granted, body.conditions
            )
        )


@router.post("/packages/{package_id}/disclosures", status_code=201)
def disclose(request: Request, who: AuthCaller, package_id: str, body: Disclosure) -> UseView:
    require_any(who.roles, HANDLE_ROLES, "disclosing evidence")
    node = _node(request)
    with transaction(node.sessions) as session:
        disclosed = use.disclose(
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
        return UseView.of(disclosed)


@router.get("/packages/{package_id}/uses")
def uses(request: Request, who: AuthCaller, package_id: str) -> list[UseView]:
    require_any(who.roles, READ_ROLES, "reading uses")
    with _node(request).sessions() as session:
        queries.get_package(session, package_id)
        return [UseView.of(u) for u in queries.uses_of(session, package_id)]


@router.post("/packages/{package_id}/use-reports", status_code=202)
def ask_use_report(request: Request, who: AuthCaller, package_id: str) -> list[UseReportAskedView]:
    require_any(who.roles, HANDLE_ROLES, "asking for a use report")
    node = _node(request)
    with transaction(node.sessions) as session:
        return [
            UseReportAskedView.of(r)
            for r in use.request_use_report(session, node, package_id, who.user)
        ]


@router.get("/packages/{package_id}/use-reports")
def use_reports(request: Request, who: AuthCaller, package_id: str) -> list[UseReportView]:
    require_any(who.roles, READ_ROLES, "reading use reports")
    with _node(request).sessions() as session:
        return [UseReportView.of(r) for r in queries.use_reports_of(session, package_id)]


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
    built = build_bundle_file(_node(request), case_id, who.user, include_files)
    return FileResponse(
        built.path,
        media_type="application/zip",
        filename=built.path.name,
        background=BackgroundTask(built.discard),
    )
