"""Evidence pages: the packages this node holds, each package's manifest, verification and
chain of custody as a court clerk needs them, opening under the supplier's conditions, file
downloads, consents, disclosures, uses and the court bundle; and sealing and sending evidence
that answers a request (upload from the browser)."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from comity.audit import service as audit
from comity.cases import service as cases
from comity.cases.models import Case
from comity.cases.permissions import OFFICIALS, READ_ROLES
from comity.evidence import consents, held, offers, queries, transfer, use
from comity.evidence.bundle import build_bundle_file
from comity.evidence.custody import CustodyAction
from comity.evidence.custody_log import record_custody
from comity.evidence.manifest import Acquisition
from comity.evidence.models import EvidencePackage
from comity.evidence.package import seal_folder
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Conflict
from comity.nodes.runtime import Node
from comity.protocol.acts import Act, Side
from comity.protocol.kinds import table_for
from comity.web.core import (
    CheckedForm,
    PageUser,
    WebUser,
    flash_query,
    flash_value,
    node_of,
    render,
    require_roles,
)
from comity.web.i18n import N_
from comity.web.pages import evidence_upload

router = APIRouter(include_in_schema=False)

# Who may seal, send, open, download, disclose and export: as the JSON API.
HANDLE_ROLES = OFFICIALS | {"provider-responder", "authorising-officer"}

STATUS_LABELS = {
    "sealed": N_("Sealed here"),
    "sending": N_("Sending"),
    "delivered": N_("Delivered and verified by the recipient"),
    "refused": N_("Refused by the recipient"),
    "receiving": N_("Receiving"),
    "verified": N_("Received and verified"),
    "failed": N_("Failed verification"),
}
STATUS_BADGES = {
    "sealed": "info",
    "sending": "expiring",
    "delivered": "ok",
    "refused": "emergency",
    "receiving": "expiring",
    "verified": "ok",
    "failed": "emergency",
}
ACTION_LABELS = {
    "created": N_("Created"),
    "sealed": N_("Sealed"),
    "sent": N_("Sent"),
    "received": N_("Received"),
    "verified": N_("Verified"),
    "opened": N_("Opened"),
    "copied": N_("Copied"),
    "disclosed": N_("Disclosed"),
    "returned": N_("Returned"),
    "destroyed": N_("Destroyed"),
}
USE_LABELS = {
    "opened": N_("Opened"),
    "disclosed": N_("Disclosed"),
    "disclosed-exculpatory": N_("Disclosed as exculpatory"),
    "onward-transfer": N_("Passed on"),
    "court-bundle": N_("Put in a court bundle"),
}
CONSENT_LABELS = {
    "requested": N_("Awaiting decision"),
    "granted": N_("Granted"),
    "refused": N_("Refused"),
}
FILE_LABELS = {
    held.FILE_OK: N_("Matches the manifest"),
    held.FILE_MISSING: N_("Missing from the store"),
    held.FILE_ALTERED: N_("Content differs from the manifest"),
    held.FILE_PENDING: N_("Not received yet"),
}
TRANSFER_LABELS = {
    "sending": N_("Sending"),
    "receiving": N_("Receiving"),
    "verified": N_("Verified"),
    "rejected": N_("Refused"),
}


def package_status(package: EvidencePackage, transfers: list[Any]) -> str:
    """One word for where a package stands, from this node's point of view."""
    if package.status == "receiving":
        return "receiving"
    if package.status == "rejected":
        return "failed"
    if package.supplier:
        return "verified"
    outgoing = [t for t in transfers if t.direction == "out"]
    if not outgoing:
        return "sealed"
    last = outgoing[-1]
    return {"sending": "sending", "verified": "delivered", "rejected": "refused"}.get(
        last.status, "sending"
    )


def conditions_list(text: str) -> list[str]:
    """The supplier's conditions one by one (by line or semicolon), for one checkbox each."""
    parts = [p.strip() for p in re.split(r"[\n;]+", text or "")]
    return [p for p in parts if p]


def _summary(session: Any, package: EvidencePackage) -> dict[str, Any]:
    transfers = queries.transfers_of(session, package.id)
    status = package_status(package, transfers)
    progress = None
    incoming = [t for t in transfers if t.direction == "in" and t.status == "receiving"]
    if incoming:
        progress = held.incoming_progress(session, incoming[-1])
    return {
        "package": package,
        "status": status,
        "progress": progress,
        "transfers": transfers,
        "peers": sorted({t.peer for t in transfers if t.direction == "out"}),
    }


# ------------------------------------------------------------------ list


@router.get("/evidence")
def evidence_list(request: Request, user: PageUser, case: str = "") -> Response:
    require_roles(user, READ_ROLES, "listing evidence")
    node = node_of(request)
    with transaction(node.sessions) as session:
        packages = queries.list_packages(session, case or None)
        packages.sort(key=lambda p: p.created_at, reverse=True)
        rows = [_summary(session, p) for p in packages]
        audit.record(session, "evidence:packages:listed", user.username, case, count=len(packages))
        return render(
            request,
            "evidence/list.html",
            user,
            rows=rows,
            case=case,
            STATUS_LABELS=STATUS_LABELS,
            STATUS_BADGES=STATUS_BADGES,
        )


# ------------------------------------------------------------------ seal and send (upload)


NO_CASE = N_("Open this page from the request the evidence answers.")
NO_FILES = N_("Choose at least one file.")
NO_DESCRIPTION = N_("Say what the evidence is (description).")
NO_METHOD = N_("Say how the evidence was acquired (method).")
TOO_MANY_PROCEEDINGS = N_("At most 50 permitted proceedings, of 500 characters each.")


class FormProblem(ComityError):
    """A field of the sealing form is missing or too long: the form is shown again with the
    message (a message id, translated where it is shown)."""

    status_code = 422
    code = "invalid_form"


#: The acts that deliver evidence: sealing is open when one of them is.
EXECUTIONS = {Act.EXECUTE, Act.EXECUTE_PARTIALLY}


def execution_open(case: Case) -> bool:
    """Whether this node (the requested party) may execute the request now, in whole or in
    part, by the kind's transition table: before that, evidence has nothing to answer."""
    return any(
        t.act in EXECUTIONS and t.by is Side.REQUESTED
        for t in table_for(case.kind).allowed(case.state)
    )


def _answerable_case(session: Session, case_id: str) -> Case:
    case = cases.get_case(session, case_id)
    if case.side != Side.REQUESTED.value:
        raise ComityError(
            f"request {case_id} is one this node made: evidence answers a request received",
            field="case",
        )
    if not execution_open(case):
        raise Conflict(
            f"request {case_id} is {case.state}: evidence is sealed and sent only once the"
            " request may be executed",
            field="case",
        )
    return case


@router.get("/evidence/new")
def new_evidence(request: Request, user: PageUser, case: str = "") -> Response:
    require_roles(user, HANDLE_ROLES, "sealing evidence")
    node = node_of(request)
    if not case:
        return render(
            request, "evidence/new.html", user, status_code=400, case=None, problem=NO_CASE
        )
    with transaction(node.sessions) as session:
        found = _answerable_case(session, case)
        audit.record(session, "web:evidence:new:read", user.username, case)
        return _form(request, user, found)


def _form(
    request: Request,
    user: WebUser,
    case: Any,
    status_code: int = 200,
    problem: str = "",
    field: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "evidence/new.html",
        user,
        status_code=status_code,
        case=case,
        limit=node_of(request).settings.evidence_upload_max_bytes,
        problem=problem,
        problem_field=field,
        values=values or {},
    )


def _upload_root(node: Node) -> Path:
    root = node.settings.home / "uploads"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


@router.post("/evidence")
async def create_evidence(request: Request, user: PageUser, tasks: BackgroundTasks) -> Response:
    """Receive the files (streamed to a temporary folder under the node's home), seal them as
    a package answering the request, take it into the store and send it to the requesting
    party; the temporary folder is removed whatever happens."""
    require_roles(user, HANDLE_ROLES, "sealing evidence")
    node = node_of(request)
    work = Path(tempfile.mkdtemp(prefix="evidence-", dir=_upload_root(node)))
    try:
        source = work / "files"
        source.mkdir()
        try:
            upload = await evidence_upload.receive(
                request, source, node.settings.evidence_upload_max_bytes, user.csrf
            )
        except evidence_upload.CsrfRefused:
            await run_in_threadpool(_csrf_refused, node, request.url.path)
            raise
        try:
            package_id, transfer_id = await run_in_threadpool(
                _seal_and_send, node, user, upload, work
            )
        except FormProblem as exc:
            # Show the form again, with what was typed (files must be chosen again).
            case = await run_in_threadpool(_case_or_none, node, upload.value("case").strip())
            if case is None:
                raise
            values = {name: upload.value(name) for name in FORM_FIELDS}
            field = str(exc.details.get("field", ""))
            return _form(request, user, case, 422, exc.message, field, values)
    finally:
        await run_in_threadpool(shutil.rmtree, work, True)
    tasks.add_task(_push_quietly, node, transfer_id)
    return RedirectResponse(f"/evidence/{package_id}?{flash_query(user, 'sent', '1')}", 303)


FORM_FIELDS = ("description", "method", "tool", "conditions", "proceedings", "confidential")


def _case_or_none(node: Node, case_id: str) -> Case | None:
    if not case_id:
        return None
    with transaction(node.sessions) as session:
        try:
            return _answerable_case(session, case_id)
        except ComityError:
            return None


def _csrf_refused(node: Node, path: str) -> None:
    with transaction(node.sessions) as session:
        audit.record(session, "web:csrf:refused", "anonymous", path)


def _seal_and_send(
    node: Node, user: WebUser, upload: evidence_upload.Upload, work: Path
) -> tuple[str, str]:
    case_id = upload.value("case").strip()
    description = upload.value("description").strip()
    method = upload.value("method").strip()
    tool = upload.value("tool").strip()
    conditions = upload.value("conditions").strip()
    proceedings = [
        line.strip() for line in upload.value("proceedings").splitlines() if line.strip()
    ]
    if not case_id:
        raise FormProblem(NO_CASE, field="case")
    if not upload.files:
        raise FormProblem(NO_FILES, field="files")
    if not description:
        raise FormProblem(NO_DESCRIPTION, field="description")
    if not method:
        raise FormProblem(NO_METHOD, field="method")
    if len(proceedings) > 50 or any(len(p) > 500 for p in proceedings):
        raise FormProblem(TOO_MANY_PROCEEDINGS, field="proceedings")
    sealer = queries.qualified(node, user.username)
    with transaction(node.sessions) as session:
        case = _answerable_case(session, case_id)
        manifest = seal_folder(
            work / "files",
            work / "package",
            producer=node.participant_id,
            node_key=node.keyring.signing_key(),
            user=sealer,
            description=description,
            answers_request=case.id,
            acquisition=Acquisition(by=sealer, at=utc_now(), method=method, tool=tool),
            conditions_on_use=conditions,
            permitted_proceedings=proceedings,
            confidential=upload.value("confidential") != "no",
        )
        package = offers.import_package(session, node, work / "package", user.username)
        row = offers.offer(session, node, manifest.package_id, case.counterpart, user.username)
        audit.record(
            session,
            "web:evidence:sealed-and-sent",
            user.username,
            package.id,
            case=case.id,
            to=case.counterpart,
            files=package.file_count,
        )
        return package.id, row.id


def _push_quietly(node: Node, transfer_id: str) -> None:
    # The worker resumes an interrupted transfer; the receiver audits refusals.
    with contextlib.suppress(ComityError):
        transfer.push(node, transfer_id)


# ------------------------------------------------------------------ one package


def _detail(
    request: Request, user: WebUser, package_id: str, status_code: int = 200, **extra: Any
) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        package = queries.get_package(session, package_id)
        audit.record(session, "evidence:package:read", user.username, package_id)
        summary = _summary(session, package)
        manifest = queries.manifest_of(package)
        tokens = queries.chain(session, package.id)
        custody = held.custody_rows(package.manifest_token, tokens)
        opened = held.opened_by(session, node, package.id, user.username)
        consents = queries.consents_of(session, package.id)
        uses = queries.uses_of(session, package.id)
        reports = queries.use_reports_of(session, package.id)
        return render(
            request,
            "evidence/detail.html",
            user,
            status_code=status_code,
            **summary,
            manifest=manifest,
            signer=held.manifest_signer(package.manifest_token),
            custody=custody,
            links_ok=all(r.link_ok for r in custody),
            opened=opened,
            conditions=conditions_list(package.conditions),
            consents=consents,
            uses=uses,
            reports=reports,
            can_handle=user.has(*HANDLE_ROLES),
            can_decide=user.has(*OFFICIALS),
            node_participant=node.participant_id,
            sent=flash_value(request, user, "sent") == "1",
            STATUS_LABELS=STATUS_LABELS,
            STATUS_BADGES=STATUS_BADGES,
            ACTION_LABELS=ACTION_LABELS,
            USE_LABELS=USE_LABELS,
            CONSENT_LABELS=CONSENT_LABELS,
            TRANSFER_LABELS=TRANSFER_LABELS,
            **extra,
        )


@router.get("/evidence/{package_id}")
def evidence_detail(request: Request, user: PageUser, package_id: str) -> Response:
    require_roles(user, READ_ROLES, "reading evidence")
    return _detail(request, user, package_id)


@router.get("/evidence/{package_id}/verify")
def verify_again(request: Request, user: PageUser, package_id: str) -> Response:
    """Run the full verification again (every file re-hashed) and show each check. A read:
    it changes nothing but the audit trail, so it is a GET."""
    require_roles(user, READ_ROLES, "verifying evidence")
    node = node_of(request)
    with transaction(node.sessions) as session:
        package = queries.get_package(session, package_id)
        report = held.verify_held(session, node, package, user.username)
        return render(
            request,
            "evidence/verify.html",
            user,
            package=package,
            report=report,
            FILE_LABELS=FILE_LABELS,
        )


@router.post("/evidence/{package_id}/open")
def open_package(request: Request, user: PageUser, form: CheckedForm, package_id: str) -> Response:
    """Acknowledge the supplier's conditions (every one ticked) and name a permitted
    proceeding; the service records the opening in the chain of custody."""
    require_roles(user, HANDLE_ROLES, "opening evidence")
    node = node_of(request)
    proceeding = str(form.get("proceeding", "")).strip()[:500]
    ticked = {str(v) for v in form.getlist("condition")}
    with transaction(node.sessions) as session:
        package = queries.get_package(session, package_id)
        wanted = {str(i) for i in range(len(conditions_list(package.conditions)))}
        acknowledged = str(form.get("acknowledge", "")) == "yes" and wanted <= ticked
    if package.supplier and not acknowledged:
        return _detail(
            request,
            user,
            package_id,
            status_code=422,
            open_error="conditions",
            chosen=proceeding,
            ticked=ticked,
        )
    with transaction(node.sessions) as session:
        use.open_package(session, node, package_id, user.username, acknowledged, proceeding)
    return RedirectResponse(f"/evidence/{package_id}#files", status_code=303)


@router.get("/evidence/{package_id}/files/{path:path}")
def download(request: Request, user: PageUser, package_id: str, path: str) -> Response:
    """A file of the package, streamed, for a user who opened it; each download is a copy
    leaving the store, recorded in the chain of custody."""
    require_roles(user, HANDLE_ROLES, "reading evidence")
    node = node_of(request)
    with transaction(node.sessions) as session:
        stream, size = use.read_file(session, node, package_id, path, user.username)
        try:
            package = queries.get_package(session, package_id)
            record_custody(
                session,
                node,
                package,
                CustodyAction.COPIED,
                user.username,
                {"file": path[:500], "to": "download from the web pages"},
            )
        except BaseException:
            stream.close()
            raise

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1024 * 1024):
                yield block

    name = path.rsplit("/", 1)[-1]
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "evidence"
    return StreamingResponse(
        chunks(),
        media_type="application/octet-stream",
        headers={
            "content-length": str(size),
            "content-disposition": f'attachment; filename="{ascii_name}"',
        },
    )


@router.post("/evidence/{package_id}/consents")
def ask_consent(request: Request, user: PageUser, form: CheckedForm, package_id: str) -> Response:
    require_roles(user, HANDLE_ROLES, "asking consent")
    recipient = str(form.get("recipient", "")).strip()
    purpose = str(form.get("purpose", "")).strip()
    if not recipient or len(recipient) > 200:
        raise ComityError(
            "name who the evidence would go to (up to 200 characters)", field="recipient"
        )
    node = node_of(request)
    with transaction(node.sessions) as session:
        consents.request_consent(
            session, node, package_id, user.username, recipient, purpose[:5000]
        )
    return RedirectResponse(f"/evidence/{package_id}#consents", status_code=303)


@router.post("/evidence/consents/{consent_id}/decision")
def decide_consent(
    request: Request, user: PageUser, form: CheckedForm, consent_id: str
) -> Response:
    require_roles(user, OFFICIALS, "deciding on consent")
    decision = str(form.get("decision", ""))
    if decision not in ("grant", "refuse"):
        raise ComityError("grant or refuse", field="decision")
    conditions = str(form.get("conditions", "")).strip()[:5000]
    node = node_of(request)
    with transaction(node.sessions) as session:
        consent = consents.decide_consent(
            session, node, consent_id, user.username, decision == "grant", conditions
        )
        package_id = consent.package_id
    return RedirectResponse(f"/evidence/{package_id}#consents", status_code=303)


@router.post("/evidence/{package_id}/disclosures")
def disclose(request: Request, user: PageUser, form: CheckedForm, package_id: str) -> Response:
    require_roles(user, HANDLE_ROLES, "disclosing evidence")
    recipient = str(form.get("recipient", "")).strip()
    if not recipient or len(recipient) > 200:
        raise ComityError(
            "name who receives the evidence (up to 200 characters)", field="recipient"
        )
    notice = str(form.get("notice", "prior"))
    if notice not in ("prior", "after"):
        raise ComityError("notice is given before or after the disclosure", field="notice")
    node = node_of(request)
    with transaction(node.sessions) as session:
        use.disclose(
            session,
            node,
            package_id,
            user.username,
            recipient,
            str(form.get("proceeding", "")).strip()[:500],
            str(form.get("exculpatory", "")) == "yes",
            notice,
            str(form.get("note", "")).strip()[:2000],
        )
    return RedirectResponse(f"/evidence/{package_id}#uses", status_code=303)


@router.post("/evidence/{package_id}/use-reports")
def ask_use_report(
    request: Request, user: PageUser, form: CheckedForm, package_id: str
) -> Response:
    require_roles(user, HANDLE_ROLES, "asking for a use report")
    node = node_of(request)
    with transaction(node.sessions) as session:
        use.request_use_report(session, node, package_id, user.username)
    return RedirectResponse(f"/evidence/{package_id}#reports", status_code=303)


@router.post("/evidence/bundles/{case_id}")
def court_bundle(request: Request, user: PageUser, form: CheckedForm, case_id: str) -> Response:
    """The court bundle of a request (ZIP) through the bundle service; with files, each is
    recorded as copied in its chain of custody."""
    require_roles(user, HANDLE_ROLES, "exporting a court bundle")
    node = node_of(request)
    include_files = str(form.get("include_files", "")) == "yes"
    built = build_bundle_file(node, case_id, user.username, include_files, _upload_root(node))
    return FileResponse(
        built.path,
        media_type="application/zip",
        filename=built.path.name,
        background=BackgroundTask(built.discard),
    )
