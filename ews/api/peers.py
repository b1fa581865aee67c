"""Peers: the other ews nodes whose feeds this node pulls (admin role)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from alerts.urlguard import UnsafeTarget, check_url
from ews.api import answers
from ews.api.answers import answer
from ews.api.deps import Node, node, require, session
from ews.audit import audit
from ews.auth import Principal
from ews.db import session_scope
from ews.models import Peer
from ews.problems import Problem, field_error, invalid, not_found
from ews.services.federation import PeerRefused, fetch_identity, register_peer, subscribe_wakeups, wake

router = APIRouter(prefix="/api/v1", tags=["federation"])


class PeerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="the peer's base URL, e.g. https://ews.example.gov.co")
    token: str = Field(min_length=8, max_length=200, description="an API key issued by the peer to this node")


def peer_view(peer: Peer) -> dict:
    return {
        "id": peer.id,
        "url": peer.url,
        "node_id": peer.node_id,
        "public_key": peer.public_key,
        "push_wakeups": peer.wake_secret is not None,
        "id_clash": peer.id_clash,
        "active": peer.active,
        "failures": peer.failures,
        "next_pull_at": peer.next_pull_at.isoformat(),
        "last_success_at": peer.last_success_at.isoformat() if peer.last_success_at else None,
        "last_error": peer.last_error,
        "created_at": peer.created_at.isoformat(),
    }


def validate_peer_url(url: str, allow_loopback: bool) -> None:
    try:
        check_url(url, allow_loopback)
    except UnsafeTarget as refused:
        raise invalid([field_error("url", str(refused).removeprefix("url: "))]) from None


@router.post(
    "/peers",
    status_code=201,
    summary="Register a peer node to pull feeds from",
    responses=answer(answers.Peer, 201),
)
def add_peer(payload: PeerIn, caller: Principal = Depends(require("admin")), state: Node = Depends(node)):
    validate_peer_url(payload.url, state.settings.allow_loopback_webhooks)
    try:
        found = fetch_identity(payload.url, payload.token, state.settings)
    except PeerRefused as refused:
        raise invalid([field_error("url", str(refused))]) from None
    with session_scope(state.engine) as db:
        peer = register_peer(db, payload.url, payload.token, found["node_id"], found["public_key"])
        audit(db, "peer.add", "peer", peer.id, caller, url=peer.url)
        peer_id = peer.id
    note = subscribe_wakeups(state.engine, peer_id, payload.token, state.settings.base_url)
    with Session(state.engine) as db:
        view = peer_view(db.get(Peer, peer_id))  # type: ignore[arg-type]
    view["push_wakeups"] = note is None
    if note:
        view["note"] = note
    return view


@router.post(
    "/peers/{peer_id}:wake",
    status_code=204,
    summary="A peer's signed wake-up (Standard Webhooks): pull it now",
    responses={401: {"description": "the signature does not verify"}},
)
async def wake_peer(peer_id: str, request: Request, state: Node = Depends(node)):
    body = await request.body()
    headers = dict(request.headers.items())
    if not await run_in_threadpool(wake, state.engine, peer_id, body, headers):
        raise Problem(401, "Unauthorized", "the wake-up is not signed with this peer's secret")
    return Response(status_code=204)


@router.get("/peers", summary="Peer nodes and the state of their pulls", responses=answer(answers.PeerList))
def list_peers(_: Principal = Depends(require("admin", "regional")), db: Session = Depends(session)):
    return {"items": [peer_view(p) for p in db.exec(select(Peer).order_by(col(Peer.created_at))).all()]}


@router.delete("/peers/{peer_id}", summary="Stop pulling a peer", responses=answer(answers.Peer))
def remove_peer(peer_id: str, caller: Principal = Depends(require("admin")), state: Node = Depends(node)):
    with session_scope(state.engine) as db:
        peer = db.get(Peer, peer_id)
        if peer is None:
            raise not_found("peer", peer_id)
        peer.active = False
        db.add(peer)
        return peer_view(peer)
