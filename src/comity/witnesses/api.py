"""`GET /v1/audit/checkpoints/held`: for a peer node, the checkpoints it issued that this node
holds, under this node's signature. Authenticated by the asking node's signature
(`Comity-Node-Signature`, see `witnesses/peers.py`), not by a user's credential; audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel

from comity.edges.http import NodeDep
from comity.kit.db import transaction
from comity.witnesses import peers
from comity.witnesses import service as witnesses

router = APIRouter(tags=["audit"])


class HeldView(BaseModel):
    answer: str


@router.get(peers.HELD_PATH)
def checkpoints_held(
    node: NodeDep,
    signature: Annotated[str | None, Header(alias=peers.SIGNATURE_HEADER)] = None,
) -> HeldView:
    """For a peer node: the checkpoints it issued that this node holds, under this node's
    signature. Authenticated by the asking node's signature; audited."""
    with transaction(node.sessions) as session:
        sender, nonce = peers.check_request(session, node, signature, peers.HELD_OP)
        return HeldView(answer=witnesses.held_answer(session, node, sender, nonce))
