"""`comity node ...`: create and administer a node. The commands that run one (`serve`,
`worker`) start the whole HTTP application: they are added by the assembly, `cli/run.py`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import select

from comity.accounts import service as accounts_service
from comity.accounts.cli import DaysOption
from comity.accounts.roles import ROLES
from comity.audit import service as audit
from comity.edges.cli import HomeOption, actor, friendly, opened, print_json, settings_for
from comity.kit.db import transaction
from comity.kit.errors import ConfigurationError
from comity.messaging.models import InboxMessage, OutboxMessage, ReceiptRecord
from comity.nodes import service
from comity.nodes.runtime import passphrase_of

app = typer.Typer(help="Create, run and administer this node.", no_args_is_help=True)
keys_app = typer.Typer(help="Key pairs: export a backup, rotate.", no_args_is_help=True)
messages_app = typer.Typer(help="Raw envelopes and receipts kept as proof.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(messages_app, name="messages")


@app.command("init")
@friendly
def init(
    participant: str = typer.Option(..., "--participant", "-p", help="Id in the directory"),
    home: Path | None = HomeOption,
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8600, help="Port to listen on"),
    public_url: str = typer.Option("", help="URL peers deliver to (default http://host:port)"),
    database_url: str = typer.Option(
        "", envvar="COMITY_DATABASE_URL", help="Default: SQLite file in the node folder"
    ),
    registry_url: str = typer.Option("", help="Registry to pull the directory from"),
    registry_key: Path | None = typer.Option(None, help="Registry public JWK file to pin"),
) -> None:
    """Create a node: folder, config, database schema, Ed25519 and X25519 keys."""
    pinned = json.loads(registry_key.read_text()) if registry_key else None
    settings = settings_for(
        home,
        participant_id=participant,
        host=host,
        port=port,
        public_url=public_url,
        database_url=database_url,
        registry_url=registry_url,
        registry_key=pinned,
    )
    result = service.init_node(settings, passphrase_of(settings))
    typer.echo(f"node {participant} created in {result['home']}")
    typer.echo(f"keys: {', '.join(result['kids'])}")
    typer.echo("next: 'comity node keys export --public' and send it to the registry")


@app.command("token")
@friendly
def token(
    user: str = typer.Option(..., help="Who the token is for"),
    role: list[str] = typer.Option(..., "--role", help=f"One of {', '.join(ROLES)}"),
    days: int = DaysOption,
    home: Path | None = HomeOption,
) -> None:
    """Issue an API token (printed once; only its hash is stored)."""
    who = actor()
    with (
        opened(home) as node,
        accounts_service.refusal_audited(node.sessions, who, user, "token"),
        transaction(node.sessions) as session,
    ):
        secret = accounts_service.create_token(session, user, role, actor=who, days=days)
    typer.echo(secret)


@keys_app.command("export")
@friendly
def keys_export(
    home: Path | None = HomeOption,
    private: bool = typer.Option(False, "--private", help="Include private keys (backup)"),
    public: bool = typer.Option(False, "--public", help="Directory form: public keys only"),
    out: Path | None = typer.Option(None, help="Write to this file (mode 600) instead of stdout"),
) -> None:
    """Export the node's keys as JWK (a backup for the administrator)."""
    with opened(home) as node, transaction(node.sessions) as session:
        if public:
            data: object = {"id": node.participant_id, "keys": service.public_keys(session)}
            audit.record(session, "node:keys:exported", actor(), private=False)
        else:
            data = service.export_keys(session, passphrase_of(node.settings), private, actor())
    if out:
        out.touch(mode=0o600)
        out.write_text(json.dumps(data, indent=2))
        typer.echo(f"written to {out}")
    else:
        print_json(data)


@keys_app.command("rotate")
@friendly
def keys_rotate(
    home: Path | None = HomeOption,
    use: str = typer.Option("sig", help="sig (Ed25519) or enc (X25519)"),
) -> None:
    """Retire the current key and make a new one; publish the new key in the directory."""
    if use not in ("sig", "enc"):
        raise ConfigurationError("--use must be 'sig' or 'enc'")
    with opened(home) as node, transaction(node.sessions) as session:
        new = service.rotate_key(
            session,
            node.participant_id,
            "sig" if use == "sig" else "enc",
            passphrase_of(node.settings),
            actor(),
        )
    typer.echo(f"new {use} key {new.kid}; the old one is retired but still verifies old messages")


@messages_app.command("export")
@friendly
def messages_export(
    out: Path = typer.Option(..., help="Folder to write envelopes and receipts to"),
    home: Path | None = HomeOption,
) -> None:
    """Export raw envelopes (sent and received) and receipts, unchanged, as proof."""
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    with opened(home) as node, transaction(node.sessions) as session:
        index = []
        for sent in session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars():
            name = f"sent-{sent.message_id}.jwe"
            (out / name).write_text(sent.envelope)
            index.append(
                {
                    "file": name,
                    "direction": "sent",
                    "message_id": sent.message_id,
                    "conversation_id": sent.conversation_id,
                    "peer": sent.recipient,
                    "status": sent.status,
                    "sha256": sent.envelope_sha256,
                }
            )
            count += 1
        for got in session.execute(
            select(InboxMessage).order_by(InboxMessage.received_at)
        ).scalars():
            name = f"received-{got.message_id}.jwe"
            (out / name).write_text(got.envelope)
            index.append(
                {
                    "file": name,
                    "direction": "received",
                    "message_id": got.message_id,
                    "conversation_id": got.conversation_id,
                    "peer": got.sender,
                    "sha256": got.envelope_sha256,
                }
            )
            count += 1
        for receipt in session.execute(select(ReceiptRecord).order_by(ReceiptRecord.id)).scalars():
            name = f"receipt-{receipt.evidence}-{receipt.message_id}-{receipt.issuer}.jws"
            (out / name).write_text(receipt.token)
            index.append(
                {
                    "file": name,
                    "evidence": receipt.evidence,
                    "issuer": receipt.issuer,
                    "message_id": receipt.message_id,
                }
            )
            count += 1
        (out / "index.json").write_text(json.dumps(index, indent=2))
        audit.record(session, "node:messages:exported", actor(), files=count)
    typer.echo(f"{count} files written to {out} (index.json lists them)")
