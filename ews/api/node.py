"""This node's identity, for peers to pin (public: it holds no secret)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ews.api.answers import NodeIdentity, answer
from ews.api.deps import Node, node
from ews.services.identity import identity

router = APIRouter(prefix="/api/v1", tags=["federation"])


@router.get(
    "/node",
    summary="This node's id, base URL and the public key that signs its feed pages",
    response_model=None,
    responses=answer(NodeIdentity),
)
def node_identity(state: Node = Depends(node)) -> dict:
    return identity(state.engine, state.settings.node_id, state.settings.base_url)
