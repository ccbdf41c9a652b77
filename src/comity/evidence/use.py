"""Using evidence on this node under the supplier's conditions: open a package (after
acknowledging its conditions, for a permitted proceeding), read or export its files,
disclose it (consent, or notice for exculpatory material), and report its uses to the
supplier on request. Each handling is a custody event, each use a recorded use."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.evidence.custody import CustodyAction, DetailValue, custody_line
from comity.evidence.custody_log import record_custody, record_use
from comity.evidence.errors import (
    ConditionsNotAcknowledged,
    ConsentRequired,
    EvidenceError,
    NotVerified,
    UseNotPermitted,
    UseReportAlreadyReceived,
)
from comity.evidence.manifest import ByteProgress
from comity.evidence.models import (
    EvidencePackage,
    EvidenceUse,
    EvidenceUseReport,
    PackageStatus,
    UseReportStatus,
    check_use_report,
)
from comity.evidence.package import CUSTODY_NAME, FILES_DIR, MANIFEST_NAME
from comity.evidence.payloads import (
    NOTE_LENGTH,
    NOTICE_MESSAGE,
    PARTY_LENGTH,
    PROCEEDING_LENGTH,
    USE_REPORT_MESSAGE,
    USE_REPORT_REQUEST_MESSAGE,
    Notice,
    ReportedUse,
    UseReport,
    UseReportAsked,
    parse,
)
from comity.evidence.queries import (
    blobs,
    chain,
    get_package,
    granted_consent,
    manifest_of,
    qualified,
    require_opened,
    transfers_of,
    uses_of,
)
from comity.evidence.schemas import UseView
from comity.kit.clock import utc_now
from comity.kit.errors import NotFound
from comity.kit.jsonutil import sha256_hex
from comity.messaging import outbox
from comity.nodes.runtime import Node
from comity.protocol.envelope import OpenedEnvelope
from comity.protocol.errors import WrongParty


def open_package(
    session: Session,
    node: Node,
    package_id: str,
    user: str,
    acknowledge_conditions: bool,
    proceeding: str = "",
    details: dict[str, DetailValue] | None = None,
) -> EvidencePackage:
    """Open a verified package: for a package supplied by another party, only after the user
    acknowledges its conditions, and only for a permitted proceeding. Recorded as `opened`."""
    package = get_package(session, package_id)
    if package.status != PackageStatus.VERIFIED:
        raise NotVerified(
            f"package {package.id} is {package.status}: nobody may open it before it is verified"
            " against its manifest"
        )
    if package.supplier:
        if not acknowledge_conditions:
            raise ConditionsNotAcknowledged(
                f"package {package.id} was supplied by {package.supplier} under conditions;"
                " acknowledge them to open it. Conditions: "
                f"{package.conditions or 'none stated'}; permitted proceedings: "
                f"{', '.join(package.permitted_proceedings) or 'none named'}",
                conditions=package.conditions,
                permitted_proceedings=package.permitted_proceedings,
            )
        if package.permitted_proceedings and proceeding not in package.permitted_proceedings:
            raise UseNotPermitted(
                f"package {package.id} may only be used in: "
                f"{'; '.join(package.permitted_proceedings)} (name one as the proceeding)",
                field="proceeding",
            )
    record_custody(
        session,
        node,
        package,
        CustodyAction.OPENED,
        user,
        {
            "proceeding": proceeding[:500],
            "conditions_acknowledged": acknowledge_conditions,
            "conditions_sha256": sha256_hex(package.conditions.encode("utf-8")),
            **(details or {}),
        },
    )
    record_use(session, package, "opened", qualified(node, user), proceeding=proceeding)
    return package


def read_file(
    session: Session, node: Node, package_id: str, path: str, user: str
) -> tuple[BinaryIO, int]:
    """A verified file's content for a user who has opened the package (blob re-hashed)."""
    package = get_package(session, package_id)
    require_opened(session, node, package, user)
    entry = next((e for e in manifest_of(package).files if e.path == path), None)
    if entry is None:
        raise NotFound(f"package {package.id} has no file {path}", field="path")
    return blobs(node).open(entry.sha256, verify=True), entry.size


def export_package(
    session: Session, node: Node, package_id: str, out: Path, on_bytes: ByteProgress | None = None
) -> Path:
    """Write the package as a folder (manifest, this node's custody chain, files) that
    `comity evidence verify` checks offline. Call after `open_package`."""
    package = get_package(session, package_id)
    if package.status != PackageStatus.VERIFIED:
        raise NotVerified(f"package {package.id} is not verified")
    if out.exists() and any(out.iterdir()):
        raise EvidenceError(f"{out} already exists and is not empty: choose a new folder")
    store = blobs(node)
    for entry in manifest_of(package).files:
        target = out / FILES_DIR / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.open(entry.sha256, verify=True) as source, target.open("xb") as sink:
            while block := source.read(4 * 1024 * 1024):
                sink.write(block)
                if on_bytes is not None:
                    on_bytes(len(block))
    (out / MANIFEST_NAME).write_text(package.manifest_token + "\n", encoding="ascii")
    lines = "".join(custody_line(t) + "\n" for t in chain(session, package.id))
    (out / CUSTODY_NAME).write_text(lines, encoding="ascii")
    return out


def disclose(
    session: Session,
    node: Node,
    package_id: str,
    user: str,
    recipient: str,
    proceeding: str = "",
    exculpatory: bool = False,
    notice: str = "prior",
    note: str = "",
) -> EvidenceUse:
    """Record a disclosure of the package to `recipient`. Material supplied by another party:
    exculpatory disclosure needs notice to the supplier (sent here; `prior`, or `after` where
    prior notice was impossible); any other disclosure needs the supplier's consent."""
    package = get_package(session, package_id)
    if package.status != PackageStatus.VERIFIED:
        raise NotVerified(f"package {package.id} is not verified")
    if notice not in ("prior", "after"):
        raise EvidenceError("notice is 'prior' or 'after'", field="notice")
    if package.supplier:
        if exculpatory:
            notice_of = Notice(
                package_id=package.id,
                kind="exculpatory-disclosure",
                recipient=recipient[:PARTY_LENGTH],
                timing=notice,
                proceeding=proceeding[:PROCEEDING_LENGTH],
                note=note[:NOTE_LENGTH],
                by=qualified(node, user)[:PARTY_LENGTH],
            )
            outbox.enqueue(
                session, node, package.supplier, package.case_id, NOTICE_MESSAGE, notice_of.body()
            )
        elif granted_consent(session, package.id, recipient) is None:
            raise ConsentRequired(
                f"disclosing package {package.id} to {recipient} needs the consent of"
                f" {package.supplier}, unless it is exculpatory (then with notice)"
            )
    record_custody(
        session,
        node,
        package,
        CustodyAction.DISCLOSED,
        user,
        {
            "to": recipient[:200],
            "exculpatory": exculpatory,
            "notice": notice if exculpatory and package.supplier else None,
        },
    )
    return record_use(
        session,
        package,
        "disclosed-exculpatory" if exculpatory else "disclosed",
        qualified(node, user),
        proceeding,
        recipient,
        note,
    )


def receive_notice(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler (supplier): a holder's notice, e.g. of an exculpatory disclosure."""
    notice = parse(Notice, opened)
    audit.record(
        session,
        "evidence:notice:received",
        opened.header.sender,
        notice.package_id,
        kind=notice.kind,
        timing=notice.timing,
        recipient=notice.recipient,
    )


def request_use_report(
    session: Session, node: Node, package_id: str, user: str
) -> list[EvidenceUseReport]:
    """Ask every party this node supplied the package to for a report of its uses."""
    holders = sorted({t.peer for t in transfers_of(session, package_id) if t.direction == "out"})
    if not holders:
        raise NotFound(f"this node supplied package {package_id} to nobody")
    reports = []
    for holder in holders:
        transfer = next(t for t in transfers_of(session, package_id) if t.peer == holder)
        report = EvidenceUseReport(
            id=str(uuid.uuid4()),
            package_id=package_id,
            holder=holder,
            requested_by=qualified(node, user),
        )
        session.add(report)
        session.flush()
        asked = UseReportAsked(report_id=report.id, package_id=package_id)
        outbox.enqueue(
            session,
            node,
            holder,
            transfer.conversation_id,
            USE_REPORT_REQUEST_MESSAGE,
            asked.body(),
        )
        reports.append(report)
    audit.record(session, "evidence:use-report:requested", qualified(node, user), package_id)
    return reports


def receive_use_report_request(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler: answer the supplier with every recorded use of its package."""
    asked = parse(UseReportAsked, opened)
    package = session.get(EvidencePackage, asked.package_id)
    if package is None or package.supplier != opened.header.sender:
        raise WrongParty(f"{opened.header.sender} did not supply package {asked.package_id}")
    report = UseReport(
        report_id=asked.report_id,
        package_id=package.id,
        uses=[
            ReportedUse.model_validate(UseView.of(u).model_dump(mode="json"))
            for u in uses_of(session, package.id)
        ],
    )
    outbox.enqueue(
        session,
        node,
        opened.header.sender,
        opened.header.conversation_id,
        USE_REPORT_MESSAGE,
        report.body(),
    )
    audit.record(session, "evidence:use-report:sent", node.participant_id, package.id)


def receive_use_report(session: Session, node: Node, opened: OpenedEnvelope) -> None:
    """Inbox handler (supplier): a holder's report. One answer per report: the same report
    delivered again changes nothing, a different one is refused (409; the inbox audits it)."""
    answer = parse(UseReport, opened)
    report = session.get(EvidenceUseReport, answer.report_id)
    if report is None or report.holder != opened.header.sender:
        raise NotFound(f"no use report {answer.report_id} asked of {opened.header.sender}")
    uses = [u.body() for u in answer.uses]
    if report.status == UseReportStatus.RECEIVED:
        if report.uses == uses:
            return
        raise UseReportAlreadyReceived(
            f"use report {report.id} was already received; a different report is refused"
        )
    check_use_report(report, UseReportStatus.RECEIVED)
    report.uses = uses
    report.received_at = utc_now()
    audit.record(
        session,
        "evidence:use-report:received",
        opened.header.sender,
        report.id,
        package=report.package_id,
        uses=len(uses),
    )
