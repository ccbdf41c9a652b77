"""`GET /v1/directory`: the directory this node holds, as the registry signed it. Public: a
node pulls it from the registry (`comity directory pull`), anyone may check the signature."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from comity.directory import service
from comity.edges.http import JoseResponse, NodeDep

router = APIRouter(tags=["directory"])


@router.get("/v1/directory", response_class=JoseResponse)
def signed_directory(node: NodeDep) -> Response:
    """The directory this node holds, as the registry signed it (a compact JWS)."""
    with node.sessions() as session:
        return JoseResponse(service.current_token(session))
