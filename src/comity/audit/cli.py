"""`comity audit ...`: verify the hash-chained audit log; issue and export signed checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from comity.audit import verification
from comity.edges.cli import HomeOption, actor, friendly, opened, print_json
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.witnesses import peers as witness_peers
from comity.witnesses import service as witnesses

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
checkpoints_app = typer.Typer(help="Signed checkpoints of the log, sent to peers.")
app.add_typer(checkpoints_app, name="checkpoints")


@app.command("verify")
@friendly
def verify(
    home: Path | None = HomeOption,
    checkpoints: list[Path] = typer.Option(
        [],
        "--checkpoints",
        help="A checkpoint file a peer exported ('comity audit checkpoints export' there); "
        "may be repeated",
    ),
    peers: bool = typer.Option(
        False,
        "--peers",
        help="Also ask every peer that should hold this node's checkpoints for its copies "
        "(over the network, signed both ways); a peer that does not answer is a finding",
    ),
    peer: list[str] = typer.Option(
        [], "--peer", help="Ask this peer for its copies (may be repeated)"
    ),
) -> None:
    """Check every entry and link of the chain and the chain against every signed checkpoint
    (this node's own, a peer's exported file, and with --peers the copies the peers hold);
    exit 1 if anything was altered, deleted, cut off or forked."""
    peer_tokens: list[str] = []
    for path in checkpoints:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ComityError(f"cannot read checkpoint file {path}: {exc}") from None
        peer_tokens.extend(verification.read_export(data))
    with opened(home) as node:
        asked = set(peer)
        if peers:
            with node.sessions() as session:
                asked.update(witness_peers.peers_to_ask(session, node))
        if peers and not asked:
            raise ComityError(
                "no peer to ask: this node has sent no checkpoint and exchanged no message;"
                " name the peers with --peer"
            )
        copies = witness_peers.ask_peers(node, sorted(asked)) if asked else None
        with node.sessions() as session:
            report = verification.verify(
                session,
                node.participant_id,
                witnesses.key_for(session),
                peer_tokens,
                held_by=copies.held_by if copies else None,
                unanswered=copies.unanswered if copies else None,
            )
    if copies:
        for holder, tokens in sorted(copies.held_by.items()):
            typer.echo(f"{holder} holds {len(tokens)} checkpoint(s) of this node")
    if not report.intact:
        for finding in report.findings:
            typer.echo(str(finding))
        typer.echo(
            f"audit log NOT intact: {len(report.findings)} problem(s) in {report.entries} entries"
        )
        raise typer.Exit(1)
    typer.echo(
        f"audit log intact: {report.entries} entries, {report.checkpoints} checkpoint(s) match"
    )


@checkpoints_app.command("issue")
@friendly
def issue(home: Path | None = HomeOption) -> None:
    """Sign a checkpoint of the log now and queue it for the peers (the worker also does this
    every `audit_checkpoint_seconds`)."""
    with opened(home) as node, transaction(node.sessions) as session:
        row = witnesses.issue(session, node)
        sent = ", ".join(row.sent_to) or "no peer"
        typer.echo(f"checkpoint {row.id}: {row.count} entries, head {row.head_hash[:16]}…")
        typer.echo(f"queued for {sent}")


@checkpoints_app.command("export")
@friendly
def export(
    home: Path | None = HomeOption,
    issuer: str = typer.Option("", help="Only the checkpoints received from this participant"),
    own: bool = typer.Option(False, "--own", help="The checkpoints this node issued instead"),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)"),
) -> None:
    """Export checkpoints as JSON, for the issuing node's 'comity audit verify --checkpoints'."""
    with opened(home) as node, transaction(node.sessions) as session:
        data = witnesses.export(session, node, issuer or None, own, actor())
    if out is None:
        print_json(data)
    else:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"{len(data['checkpoints'])} checkpoint(s) written to {out}")
