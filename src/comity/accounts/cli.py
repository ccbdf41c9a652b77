"""`comity user ...`: the administrator's commands for users and API tokens. Every change is
written to the audit log with the operating-system user who ran the command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from comity.accounts import service
from comity.accounts.roles import ROLES
from comity.edges.cli import HomeOption, actor, friendly, opened, print_json
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.nodes.runtime import Node, passphrase_of

app = typer.Typer(help="Users, their second factor, and API tokens.", no_args_is_help=True)

RoleOption = typer.Option(..., "--role", help=f"Repeat for several: {', '.join(ROLES)}")
DaysOption = typer.Option(
    service.TOKEN_DAYS,
    "--days",
    help=f"How many days the token lasts (1 to {service.TOKEN_DAYS_MAX})",
)
PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of standard input"
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _issuer(node: Node) -> str:
    return f"comity {node.participant_id}"


def _show_enrolment(enrolment: service.Enrolment) -> None:
    typer.echo("second factor: add this to the user's authenticator app (shown once)")
    typer.echo(f"  secret: {enrolment.secret}")
    typer.echo(f"  uri:    {enrolment.uri}")


@app.command("add")
@friendly
def add(
    username: str = typer.Argument(..., help="Login name, without spaces"),
    role: list[str] = RoleOption,
    name: str = typer.Option("", "--name", help="Display name"),
    password_stdin: bool = PasswordStdin,
    home: Path | None = HomeOption,
) -> None:
    """Create a user with a password and a TOTP second factor."""
    password = _password(password_stdin)
    with (
        opened(home) as node,
        service.refusal_audited(node.sessions, actor(), username, "create"),
        transaction(node.sessions) as session,
    ):
        user, enrolment = service.add_user(
            session,
            username,
            name,
            role,
            password,
            passphrase_of(node.settings),
            _issuer(node),
            actor(),
        )
        typer.echo(f"user {user.username} created with roles {', '.join(user.roles)}")
    _show_enrolment(enrolment)


@app.command("passwd")
@friendly
def passwd(
    username: str = typer.Argument(...),
    password_stdin: bool = PasswordStdin,
    home: Path | None = HomeOption,
) -> None:
    """Set a new password; the user's sessions end and a lockout is lifted."""
    password = _password(password_stdin)
    with opened(home) as node, transaction(node.sessions) as session:
        service.set_password(session, username, password, actor())
    typer.echo(f"password of {username} changed")


@app.command("totp-enroll")
@friendly
def totp_enroll(username: str = typer.Argument(...), home: Path | None = HomeOption) -> None:
    """Give the user a new TOTP secret (lost or new phone); the old one stops working."""
    with opened(home) as node, transaction(node.sessions) as session:
        enrolment = service.enroll_totp(
            session, username, passphrase_of(node.settings), _issuer(node), actor()
        )
    _show_enrolment(enrolment)


@app.command("roles")
@friendly
def roles(
    username: str = typer.Argument(...),
    role: list[str] = RoleOption,
    home: Path | None = HomeOption,
) -> None:
    """Replace the user's roles (effective at their next call)."""
    with (
        opened(home) as node,
        service.refusal_audited(node.sessions, actor(), username, "roles"),
        transaction(node.sessions) as session,
    ):
        user = service.set_roles(session, username, role, actor())
        typer.echo(f"{username}: {', '.join(user.roles)}")


def _change_user(
    home: Path | None, change: Callable[[Session, str, str], object], username: str
) -> None:
    with opened(home) as node, transaction(node.sessions) as session:
        change(session, username, actor())


@app.command("disable")
@friendly
def disable(username: str = typer.Argument(...), home: Path | None = HomeOption) -> None:
    """Stop the user from logging in; their sessions and API tokens end now."""
    _change_user(home, service.disable_user, username)
    typer.echo(f"user {username} disabled")


@app.command("enable")
@friendly
def enable(username: str = typer.Argument(...), home: Path | None = HomeOption) -> None:
    """Let a disabled user log in again."""
    _change_user(home, service.enable_user, username)
    typer.echo(f"user {username} enabled")


@app.command("unlock")
@friendly
def unlock(username: str = typer.Argument(...), home: Path | None = HomeOption) -> None:
    """Lift a lockout after too many failed logins."""
    _change_user(home, service.unlock_user, username)
    typer.echo(f"user {username} unlocked")


@app.command("check")
@friendly
def check(home: Path | None = HomeOption) -> None:
    """List the users and API tokens whose roles must be held by different people (made
    before the separation of duties was enforced); exit 1 if there is any."""
    with opened(home) as node, node.sessions() as session:
        found = service.role_conflicts(session)
    for item in found:
        state = "" if item.active else " (disabled)"
        for conflict in item.conflicts:
            typer.echo(f"{item.kind} {item.name}{state}: roles {conflict}")
    if found:
        typer.echo(
            f"{len(found)} account(s) or token(s) combine roles that must be held by different"
            " people: change their roles ('comity user roles') or revoke the token"
        )
        raise typer.Exit(1)
    typer.echo("no account or token combines roles that must be held by different people")


@app.command("list")
@friendly
def list_users(home: Path | None = HomeOption) -> None:
    """Users with their roles and state (never a secret)."""
    with opened(home) as node, node.sessions() as session:
        rows = [
            {
                "username": u.username,
                "name": u.display_name,
                "roles": u.roles,
                "active": u.active,
                "second_factor": u.totp_ciphertext is not None,
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in service.list_users(session)
        ]
    print_json(rows)


@app.command("token")
@friendly
def token(
    user: str = typer.Option(..., help="The system (or person) the token is for"),
    role: list[str] = RoleOption,
    days: int = DaysOption,
    home: Path | None = HomeOption,
) -> None:
    """Issue an API token for a system (printed once; only its hash is stored)."""
    with (
        opened(home) as node,
        service.refusal_audited(node.sessions, actor(), user, "token"),
        transaction(node.sessions) as session,
    ):
        secret = service.create_token(session, user, role, actor(), days=days)
    typer.echo(secret)


@app.command("tokens")
@friendly
def tokens(home: Path | None = HomeOption) -> None:
    """API tokens by id (the first 12 characters of their hash), never the secret."""
    with opened(home) as node, node.sessions() as session:
        rows = [
            {
                "id": t.token_sha256[:12],
                "user": t.user,
                "roles": t.roles.split(","),
                "created_at": t.created_at.isoformat(),
                "expires_at": ensure_utc(t.expires_at).isoformat(),
                "expired": ensure_utc(t.expires_at) <= utc_now(),
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in service.list_tokens(session)
        ]
    print_json(rows)


@app.command("token-revoke")
@friendly
def token_revoke(
    token_id: str = typer.Argument(..., help="Id from 'comity user tokens'"),
    home: Path | None = HomeOption,
) -> None:
    """Revoke an API token."""
    with opened(home) as node, transaction(node.sessions) as session:
        row = service.revoke_token(session, token_id, actor())
        typer.echo(f"token {row.token_sha256[:12]} of {row.user} revoked")
