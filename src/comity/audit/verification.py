"""`comity audit verify`: the chain, and the chain against every checkpoint we can find.

Three kinds of tampering are found:
- an altered entry: its hash no longer matches its content;
- a deleted entry: a gap in the numbering and a broken link to the previous entry;
- a truncated tail: the log ends before the entry a signed checkpoint vouches for, or that
  entry no longer has the hash the checkpoint names. Our own checkpoints are kept in
  `audit_checkpoints`; the copies our peers hold (`comity audit checkpoints export` on the peer)
  also catch a truncation whose checkpoints were deleted here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.audit.checkpoint import EXPORT_FORMAT, CheckpointPayload, KeyLookup, read_checkpoint
from comity.audit.models import AuditCheckpoint, AuditEntry
from comity.kit.errors import ComityError


@dataclass(frozen=True)
class Finding:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class Report:
    entries: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def verify(
    session: Session,
    participant: str,
    lookup: KeyLookup,
    peer_tokens: list[str] | None = None,
    held_by: dict[str, list[str]] | None = None,
    unanswered: dict[str, str] | None = None,
) -> Report:
    """Check the chain, our stored checkpoints, checkpoint tokens a peer exported to a file
    (`peer_tokens`), and the copies peers gave when asked (`held_by`: holder → tokens). A
    peer that could not be asked (`unanswered`: peer → why) is a finding too: the log was not
    checked against its copies, and whoever cut the log may be the one keeping it from
    answering."""
    entries = audit.entries(session)
    report = Report(entries=len(entries))
    for problem in audit.verify_chain(entries):
        report.findings.append(Finding(f"entry {problem.entry_id}", problem.problem))
    by_id = {e.id: e for e in entries}
    last_id = entries[-1].id if entries else 0
    own = list(session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars())
    own_tokens = {row.token for row in own}
    for row in own:
        where = f"checkpoint {row.id} of {row.at.isoformat()}"
        payload = _verified_payload(row.token, lookup, participant, where, report)
        if payload is None:
            continue
        if payload.count != row.count or payload.head_hash != row.head_hash:
            report.findings.append(
                Finding(where, "stored count or head differ from what the checkpoint signs")
            )
        _check_against(payload, by_id, last_id, where, report)

    def check_copy(token: str, where: str) -> CheckpointPayload | None:
        """A copy of one of our checkpoints kept elsewhere (a peer's export or its answer):
        signed by us, still in our table, and true of the chain."""
        payload = _verified_payload(token, lookup, participant, where, report)
        if payload is None:
            return None
        where = f"{where} ({payload.count} entries, {payload.at})"
        if token not in own_tokens:
            report.findings.append(
                Finding(where, "missing from this node's audit_checkpoints (deleted here)")
            )
        _check_against(payload, by_id, last_id, where, report)
        return payload

    for index, token in enumerate(peer_tokens or [], start=1):
        check_copy(token, f"peer-held checkpoint {index}")
    heads: dict[int, dict[str, list[str]]] = {}
    for row in own:
        heads.setdefault(row.count, {}).setdefault(row.head_hash, []).append("this node")
    for holder, tokens in sorted((held_by or {}).items()):
        for token in tokens:
            payload = check_copy(token, f"checkpoint held by {holder}")
            if payload is None:
                continue
            heads.setdefault(payload.count, {}).setdefault(payload.head_hash, []).append(holder)
    for count, by_head in sorted(heads.items()):
        if len(by_head) > 1:
            holders = "; ".join(
                f"{head[:12]}… held by {', '.join(sorted(set(who)))}"
                for head, who in sorted(by_head.items())
            )
            report.findings.append(
                Finding(
                    f"entry {count}",
                    f"checkpoints name different heads for the same entry ({holders}): this"
                    " node signed two histories (fork)",
                )
            )
    for peer, why in sorted((unanswered or {}).items()):
        report.findings.append(
            Finding(
                f"peer {peer}",
                f"could not be asked for its copies ({why}): the log was not checked against them",
            )
        )
    return report


def _verified_payload(
    token: str, lookup: KeyLookup, participant: str, where: str, report: Report
) -> CheckpointPayload | None:
    try:
        document = read_checkpoint(token, lookup)
    except ComityError as exc:
        report.findings.append(Finding(where, f"signature does not verify: {exc.message}"))
        return None
    if document.issuer != participant:
        report.findings.append(
            Finding(where, f"issued by {document.issuer}, not by this node ({participant})")
        )
        return None
    report.checkpoints += 1
    return document.payload


def _check_against(
    payload: CheckpointPayload,
    by_id: dict[int, AuditEntry],
    last_id: int,
    where: str,
    report: Report,
) -> None:
    count = payload.count
    if count == 0:
        return
    if count > last_id:
        report.findings.append(
            Finding(
                where,
                f"vouches for {count} entries but the log ends at entry {last_id}: "
                f"entries after {last_id} were removed (log truncated)",
            )
        )
        return
    entry = by_id.get(count)
    if entry is None:
        report.findings.append(Finding(where, f"entry {count} it vouches for is missing"))
    elif entry.hash != payload.head_hash:
        report.findings.append(
            Finding(
                where,
                f"entry {count} no longer has the hash this checkpoint signed: the log was "
                "rewritten up to that entry",
            )
        )


def read_export(data: Any) -> list[str]:
    """The checkpoint tokens of an exported file."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ComityError(f"not a checkpoint file (expected format {EXPORT_FORMAT})")
    items = data.get("checkpoints")
    if not isinstance(items, list):
        raise ComityError("checkpoint file lacks its 'checkpoints' list")
    tokens = [item.get("token") for item in items if isinstance(item, dict)]
    return [t for t in tokens if isinstance(t, str)]
