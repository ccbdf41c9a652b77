"""Log in, log out, and who am I. `POST /v1/login` is the only public route here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from comity.accounts import service
from comity.edges.http import AuthCaller
from comity.kit.db import transaction
from comity.nodes.runtime import Node, passphrase_of

router = APIRouter(prefix="/v1", tags=["accounts"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    totp: str = Field(default="", max_length=16, description="The 6-digit code of the app")


class LoginView(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once")
    expires_at: datetime
    user: str
    roles: list[str]


class WhoAmI(BaseModel):
    user: str
    roles: list[str]
    kind: str


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


@router.post("/login")
def login(request: Request, body: LoginRequest) -> LoginView:
    """Password and TOTP code → a session token. Any failure is the same 401, whichever
    factor was wrong or if the account is locked; the audit log records which."""
    node = _node(request)
    source = request.client.host if request.client else ""
    with transaction(node.sessions) as session:
        outcome = service.login(
            session,
            node.settings,
            passphrase_of(node.settings),
            body.username,
            body.password,
            body.totp,
            source,
        )
    success = outcome.result()
    return LoginView(
        token=success.token,
        expires_at=success.expires_at,
        user=success.username,
        roles=success.roles,
    )


@router.post("/logout", status_code=204)
def logout(
    request: Request, who: AuthCaller, authorization: Annotated[str | None, Header()] = None
) -> None:
    """End the calling session (an API token is revoked by an administrator instead)."""
    if who.kind == "session" and authorization:
        with transaction(_node(request).sessions) as session:
            service.logout(session, authorization[7:].strip())


@router.get("/me")
def whoami(who: AuthCaller) -> WhoAmI:
    """The caller's user name and roles."""
    return WhoAmI(user=who.user, roles=sorted(who.roles), kind=who.kind)
