"""The request dependencies every HTTP endpoint shares: who is calling (`AuthCaller`), the
open node (`NodeDep`), and the JOSE response type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from comity.accounts import service as accounts
from comity.kit.db import transaction
from comity.kit.errors import Unauthorized
from comity.messaging.delivery import JOSE_MEDIA_TYPE
from comity.nodes.runtime import Node


class Caller(BaseModel):
    """Who is calling the officers' API: a user (session from `POST /v1/login`) or a system
    (API token). Roles are checked by each endpoint."""

    user: str
    roles: set[str]
    kind: str = Field(default="token", description="'session' or 'token'")


def current_node(request: Request) -> Node:
    """The node this app serves (set by `transport.app.create_app`)."""
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(current_node)]


def current_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    """Authenticate the bearer credential of an API call: a user's session (after password
    and second factor) or a system's API token."""
    node: Node = request.app.state.node
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("send 'Authorization: Bearer <token>' (log in at POST /v1/login)")
    with transaction(node.sessions) as session:
        principal = accounts.authenticate(session, node.settings, authorization[7:].strip())
    return Caller(user=principal.user, roles=set(principal.roles), kind=principal.kind)


AuthCaller = Annotated[Caller, Depends(current_caller)]


class JoseResponse(PlainTextResponse):
    """A compact JOSE serialisation (JWS or JWE): documented and sent as application/jose."""

    media_type = JOSE_MEDIA_TYPE
