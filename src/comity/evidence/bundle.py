"""The court bundle of a request: one ZIP archive with the request documents, every evidence
package's manifest and custody chain (and, if asked, its files), the signed receipts, an audit
extract (tags and ids only), a PDF index of every file with its SHA-256, and `bundle.jws`: the
list of every file with size and SHA-256, signed by the node.

Layout (bundle.jws, index.pdf, then the rest by name; every entry dated 1980-01-01):

    bundle.jws                          signed list of every other entry (comity-court-bundle+jws)
    index.pdf                           human-readable index: every file and its SHA-256
    request/request.json                the request as drafted/received
    request/events.json                 the acts of the conversation
    request/request.pdf                 the formal document, when it can be rendered
    evidence/<package>/manifest.jws     the signed manifest
    evidence/<package>/custody.jsonl    this node's custody chain for the package
    evidence/<package>/files/...        the files, with --include-files
    receipts/receipts.jsonl             signed receipts of every message of the conversation
    audit/extract.jsonl                 audit entries about the request and its evidence

`verify_bundle` checks the signature (with a directory), every hash and size, that nothing was
added or removed, and every included package's manifest and custody chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.audit.models import AuditEntry
from comity.cases import service as cases
from comity.directory import service as directory_service
from comity.directory.document import Directory
from comity.evidence import queries
from comity.evidence.custody import CustodyAction, custody_line, verify_chain
from comity.evidence.custody_log import record_custody, record_use
from comity.evidence.errors import EvidenceError
from comity.evidence.keys import signing_key
from comity.evidence.manifest import READ_SIZE, ByteProgress
from comity.evidence.models import PackageStatus
from comity.evidence.verify import check_manifest
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.kit.jsonutil import canonical_json
from comity.messaging.models import InboxMessage, OutboxMessage, ReceiptRecord
from comity.nodes.runtime import Node
from comity.protocol.envelope import format_time, parse_time
from comity.protocol.errors import BadSignature, MalformedEnvelope
from comity.protocol.signed import read_unverified, sign_document, verify_document

BUNDLE_TYP = "comity-court-bundle+jws"
BUNDLE_FORMAT = "comity-court-bundle/1"
SIGNATURE_NAME = "bundle.jws"
INDEX_NAME = "index.pdf"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class _Entry:
    name: str
    size: int
    sha256: str
    content: bytes | None = None
    blob: str | None = None


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _data(name: str, content: bytes) -> _Entry:
    return _Entry(name, len(content), hashlib.sha256(content).hexdigest(), content=content)


def _request_pdf(session: Session, request: dict[str, Any]) -> bytes | None:
    """The formal document in the first language the requested party accepts, if renderable."""
    try:
        from comity.documents.render import render_request

        directory = directory_service.current(session)
        found = directory.participant(str(request.get("requested_party") or ""))
        languages = list(getattr(found, "languages", None) or []) or ["en"]
        return render_request(request, directory, languages[0], "pdf", utc_now().date())
    except (ComityError, ImportError, KeyError, ValueError):
        return None


def _index_pdf(title: str, lines: list[tuple[str, str]], entries: list[_Entry]) -> bytes:
    from weasyprint import HTML

    rows = "".join(
        f"<tr><td>{escape(e.name)}</td><td class='n'>{e.size}</td>"
        f"<td class='h'>{e.sha256}</td></tr>"
        for e in entries
    )
    facts = "".join(f"<p><b>{escape(k)}:</b> {escape(v)}</p>" for k, v in lines)
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><style>"
        "@page { size: A4 landscape; margin: 15mm; @bottom-center { content: counter(page)"
        " ' / ' counter(pages); font-size: 8pt; } }"
        "html { font-family: 'Noto Serif', serif; font-size: 9pt; }"
        "table { border-collapse: collapse; width: 100%; } td, th { border: 0.4pt solid #000;"
        " padding: 1mm; vertical-align: top; } td.h { font-family: monospace; font-size: 7pt; }"
        "td.n { text-align: right; } h1 { font-size: 14pt; }"
        f"</style></head><body><h1>{escape(title)}</h1>{facts}"
        "<p>Every file of this archive except this index and bundle.jws, with its size in bytes"
        " and its SHA-256. bundle.jws lists the same, and this index, under the node's"
        " signature.</p>"
        f"<table><tr><th>File</th><th>Bytes</th><th>SHA-256</th></tr>{rows}</table>"
        "</body></html>"
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # noqa: S101 - bytes when given no target
    return pdf


def _audit_extract(session: Session, subjects: set[str]) -> bytes:
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.subject.in_(sorted(subjects))).order_by(AuditEntry.id)
    ).scalars()
    lines = [
        canonical_json(
            {
                "id": e.id,
                "at": format_time(e.at),
                "tag": e.tag,
                "actor": e.actor,
                "subject": e.subject,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            }
        ).decode()
        for e in rows
    ]
    return "".join(line + "\n" for line in lines).encode()


def build_bundle(
    session: Session,
    node: Node,
    case_id: str,
    out: Path,
    user: str,
    include_files: bool = False,
    on_bytes: ByteProgress | None = None,
) -> dict[str, Any]:
    """Write the court bundle of request `case_id` to `out`; returns the signed payload."""
    case = cases.get_case(session, case_id)
    entries: list[_Entry] = [
        _data("request/request.json", _json_bytes(case.request)),
        _data(
            "request/events.json",
            _json_bytes(
                [
                    {
                        "seq": e.seq,
                        "act": e.act,
                        "by_side": e.by_side,
                        "actor": e.actor,
                        "from_state": e.from_state,
                        "to_state": e.to_state,
                        "at": format_time(e.at),
                        "message_id": e.message_id,
                        "body": e.body,
                    }
                    for e in cases.events(session, case.id)
                ]
            ),
        ),
    ]
    pdf = _request_pdf(session, case.request)
    if pdf is not None:
        entries.append(_data("request/request.pdf", pdf))
    subjects = {case.id}
    packages = queries.list_packages(session, case.id)
    for package in packages:
        subjects.add(package.id)
        subjects.update(t.id for t in queries.transfers_of(session, package.id))
        prefix = f"evidence/{package.id}"
        entries.append(_data(f"{prefix}/manifest.jws", package.manifest_token.encode() + b"\n"))
        if include_files and package.status == PackageStatus.VERIFIED:
            if package.supplier:
                # Another party's evidence: its files go into a bundle only for someone who
                # opened it, acknowledging the supplier's conditions (UNTOC 18(19)).
                queries.require_opened(session, node, package, user)
            record_custody(
                session,
                node,
                package,
                CustodyAction.COPIED,
                user,
                {"into": "court bundle", "bundle": out.name[:200]},
            )
            record_use(session, package, "court-bundle", queries.qualified(node, user))
            for file in queries.manifest_of(package).files:
                entries.append(
                    _Entry(f"{prefix}/files/{file.path}", file.size, file.sha256, blob=file.sha256)
                )
        custody = "".join(custody_line(t) + "\n" for t in queries.chain(session, package.id))
        entries.append(_data(f"{prefix}/custody.jsonl", custody.encode()))
    message_ids = set(
        session.execute(
            select(OutboxMessage.message_id).where(OutboxMessage.conversation_id == case.id)
        ).scalars()
    ) | set(
        session.execute(
            select(InboxMessage.message_id).where(InboxMessage.conversation_id == case.id)
        ).scalars()
    )
    subjects |= message_ids
    receipts = session.execute(
        select(ReceiptRecord)
        .where(
            or_(
                ReceiptRecord.conversation_id == case.id,
                ReceiptRecord.message_id.in_(sorted(message_ids)),
            )
        )
        .order_by(ReceiptRecord.id)
    ).scalars()
    receipt_lines = "".join(
        canonical_json(
            {
                "message_id": r.message_id,
                "evidence": r.evidence,
                "issuer": r.issuer,
                "at": format_time(r.at),
                "token": r.token,
            }
        ).decode()
        + "\n"
        for r in receipts
    )
    entries.append(_data("receipts/receipts.jsonl", receipt_lines.encode()))
    audit.record(
        session,
        "evidence:bundle:created",
        queries.qualified(node, user),
        case.id,
        packages=len(packages),
        files=include_files,
    )
    entries.append(_data("audit/extract.jsonl", _audit_extract(session, subjects)))
    entries.sort(key=lambda e: e.name)
    created_at = utc_now()
    facts = [
        ("Request", case.id),
        ("Kind", case.kind),
        ("Parties", f"{case.our_party} ({case.side}) and {case.counterpart}"),
        ("Made by node", node.participant_id),
        ("Made by", queries.qualified(node, user)),
        ("Made at", format_time(created_at)),
        ("Evidence packages", ", ".join(p.id for p in packages) or "none"),
    ]
    index = _data(INDEX_NAME, _index_pdf(f"Court bundle — request {case.id}", facts, entries))
    listed = [index, *entries]
    payload = {
        "format": BUNDLE_FORMAT,
        "case_id": case.id,
        "node": node.participant_id,
        "created_by": queries.qualified(node, user),
        "created_at": format_time(created_at),
        "packages": [p.id for p in packages],
        "files": [{"path": e.name, "size": e.size, "sha256": e.sha256} for e in listed],
    }
    token = sign_document(BUNDLE_TYP, node.participant_id, payload, node.keyring.signing_key())
    store = queries.blobs(node)
    partial = out.with_name(f".{out.name}.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in [_data(SIGNATURE_NAME, token.encode() + b"\n"), *listed]:
            info = zipfile.ZipInfo(entry.name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if entry.content is not None:
                archive.writestr(info, entry.content)
                continue
            assert entry.blob is not None  # noqa: S101 - either content or blob
            with store.open(entry.blob, verify=False) as source, archive.open(info, "w") as sink:
                digest = hashlib.sha256()
                while block := source.read(READ_SIZE):
                    digest.update(block)
                    sink.write(block)
                    if on_bytes is not None:
                        on_bytes(len(block))
            if digest.hexdigest() != entry.sha256:
                partial.unlink(missing_ok=True)
                raise EvidenceError(f"stored file {entry.name} no longer matches its manifest")
    partial.replace(out)
    return payload


@dataclass(frozen=True)
class BuiltBundle:
    """A court bundle written to a temporary folder of its own, for an edge to send; call
    `discard` once it is sent (a bundle may hold decrypted evidence)."""

    path: Path

    def discard(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def build_bundle_file(
    node: Node, case_id: str, actor: str, include_files: bool, work_dir: Path | None = None
) -> BuiltBundle:
    """Build the court bundle of `case_id` in a new temporary folder (under `work_dir` if
    given), in a transaction of its own. If building fails the folder is removed at once: a
    half-written bundle may hold decrypted evidence. Used by the API and the web page."""
    folder = Path(tempfile.mkdtemp(prefix="comity-bundle-", dir=work_dir))
    built = BuiltBundle(folder / f"court-bundle-{case_id}.zip")
    try:
        with transaction(node.sessions) as session:
            build_bundle(session, node, case_id, built.path, actor, include_files=include_files)
    except BaseException:
        built.discard()
        raise
    return built


@dataclass
class BundleReport:
    case_id: str | None = None
    node: str | None = None
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(
    path: Path, directory: Directory | None, on_bytes: Callable[[int], None] | None = None
) -> BundleReport:
    """Check a court bundle: the node's signature (with a directory), every file's size and
    SHA-256, no file added or missing, and each evidence package's manifest and custody."""
    report = BundleReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path.name} is not a readable ZIP archive: {exc}")
        return report
    with archive:
        names = set(archive.namelist())
        if SIGNATURE_NAME not in names:
            report.problems.append("the archive holds no bundle.jws: it is not a court bundle")
            return report
        token = archive.read(SIGNATURE_NAME).decode("ascii", "replace").strip()
        try:
            header, payload = read_unverified(token)
        except MalformedEnvelope:
            report.problems.append("bundle.jws is not a signed document")
            return report
        report.case_id, report.node = payload.get("case_id"), payload.get("node")
        if directory is None:
            report.notes.append("no directory given: the node's signature was not checked")
        else:
            _check_signature(token, header, payload, directory, report)
        listed = {str(f["path"]): f for f in payload.get("files", [])}
        for name in sorted(names - set(listed) - {SIGNATURE_NAME}):
            report.problems.append(f"{name} is in the archive but not in the signed list")
        for name, expected in sorted(listed.items()):
            if name not in names:
                report.problems.append(f"{name} is in the signed list but missing")
                continue
            digest, size = hashlib.sha256(), 0
            with archive.open(name) as source:
                while block := source.read(READ_SIZE):
                    digest.update(block)
                    size += len(block)
                    if on_bytes is not None:
                        on_bytes(len(block))
            report.files_checked += 1
            if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
                report.problems.append(f"{name} differs from the signed list: it was changed")
        if directory is not None:
            for package_id in payload.get("packages", []):
                _check_package(archive, names, str(package_id), directory, report)
    return report


def _check_signature(
    token: str,
    header: dict[str, Any],
    payload: dict[str, Any],
    directory: Directory,
    report: BundleReport,
) -> None:
    issuer, kid = header.get("iss"), header.get("kid")
    if header.get("typ") != BUNDLE_TYP or not isinstance(issuer, str) or not isinstance(kid, str):
        report.problems.append("bundle.jws is not a signed court bundle")
        return
    try:
        at = parse_time(str(payload.get("created_at")))
    except MalformedEnvelope:
        report.problems.append("bundle.jws has no valid creation time")
        return
    key, problem = signing_key(directory, "the bundle", issuer, kid, at)
    if key is None:
        report.problems.append(problem or "the bundle's signature cannot be checked")
        return
    try:
        verify_document(token, BUNDLE_TYP, lambda _i, _k: key)
    except (BadSignature, MalformedEnvelope):
        report.problems.append(f"bundle.jws signature invalid: altered after {issuer} signed it")


def _check_package(
    archive: zipfile.ZipFile,
    names: set[str],
    package_id: str,
    directory: Directory,
    report: BundleReport,
) -> None:
    prefix = f"evidence/{package_id}"
    if f"{prefix}/manifest.jws" not in names or f"{prefix}/custody.jsonl" not in names:
        report.problems.append(f"package {package_id}: manifest or custody chain missing")
        return
    token = archive.read(f"{prefix}/manifest.jws").decode("ascii", "replace").strip()
    _, problems = check_manifest(token, directory)
    report.problems.extend(f"package {package_id}: {p}" for p in problems)
    lines = io.TextIOWrapper(archive.open(f"{prefix}/custody.jsonl"), encoding="ascii")
    try:
        tokens = [str(json.loads(line)["event"]) for line in lines if line.strip()]
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"package {package_id}: custody.jsonl cannot be read")
        return
    chain_problems, _ = verify_chain(tokens, token, directory)
    report.problems.extend(f"package {package_id}: {p}" for p in chain_problems)


__all__ = ["BundleReport", "build_bundle", "verify_bundle"]
