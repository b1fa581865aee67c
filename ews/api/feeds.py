"""Feeds for partners and alert hubs: incremental JSON, Atom, and Atom with CAP."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from alerts.atom import AtomEntry, atom_feed
from alerts.cap import cap_datetime
from ews.api.answers import FeedPage, answer
from ews.api.deps import Node, node, optional_principal, require, session
from ews.api.filters import reject_unknown_query
from ews.auth import Principal
from ews.db import utcnow
from ews.models import Alert, AlertVersion
from ews.openapi import body_as
from ews.services import feeds
from ews.services.alert_views import feed_categories, feed_title
from ews.services.identity import NONCE_HEADER, SIGNATURE_HEADER, signer

router = APIRouter(prefix="/feeds", tags=["feeds"], dependencies=[Depends(reject_unknown_query)])
NODE_HEADER = "X-EWS-Node"
FEED_PAGE = {
    **answer(FeedPage, description="a page of the feed, signed (X-EWS-Signature) for the peers that pull it"),
    304: {"description": "If-None-Match named this page's ETag: nothing new"},
}


def _json_page(
    request: Request, db: Session, page: feeds.Page, state: Node, if_none_match: str | None
) -> Response:
    body = {
        "node": state.settings.node_id,
        "items": feeds.items(db, page.entries),
        "next": page.cursor,
        "has_more": page.has_more,
    }
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    query = request.scope.get("query_string", b"").decode()
    path = request.scope.get("raw_path") or request.url.path.encode()
    target = path.decode() + (f"?{query}" if query else "")
    page_signer = signer(state.engine, state.settings.node_id)
    headers[SIGNATURE_HEADER] = page_signer.sign_page(encoded, target, request.headers.get(NONCE_HEADER))
    return Response(encoded, media_type="application/json", headers=headers)


@router.get(
    "/alerts.json",
    summary="Published alert versions after a cursor (incremental; ETag/304)",
    responses=FEED_PAGE,
)
def alerts_json(
    request: Request,
    after: str | None = Query(default=None, description="the 'next' cursor of the previous page"),
    limit: int = Query(default=100, ge=1, le=feeds.MAX_PAGE),
    if_none_match: str | None = Header(default=None),
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    restricted = caller is not None and caller.has("authority", "regional", "admin")
    feeds.sequence_now(state.engine)
    page = feeds.read(db, "alert", after, limit, restricted, request.headers.get(NODE_HEADER))
    return _json_page(request, db, page, state, if_none_match)


@router.get(
    "/detections.json",
    summary="Detections after a cursor, for regional partners (no private fields)",
    responses=FEED_PAGE,
)
def detections_json(
    request: Request,
    after: str | None = None,
    limit: int = Query(default=100, ge=1, le=feeds.MAX_PAGE),
    if_none_match: str | None = Header(default=None),
    _: Principal = Depends(require("regional", "admin")),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    feeds.sequence_now(state.engine)
    page = feeds.read(db, "detection", after, limit, True, request.headers.get(NODE_HEADER))
    return _json_page(request, db, page, state, if_none_match)


def _latest_public(db: Session, restricted: bool, limit: int = 100) -> list[tuple[Alert, AlertVersion]]:
    query = select(Alert, AlertVersion).join(
        AlertVersion, (col(AlertVersion.alert_id) == Alert.id) & (col(AlertVersion.version) == Alert.version)
    )
    query = query.where(col(Alert.status).in_(("published", "cancelled")))
    if not restricted:
        query = query.where(Alert.scope == "Public")
    return list(db.exec(query.order_by(col(AlertVersion.sent_at).desc()).limit(limit)).all())


def _atom(db: Session, state: Node, caller: Principal | None, path: str, embed: bool) -> Response:
    restricted = caller is not None and caller.has("authority", "regional", "admin")
    rows = _latest_public(db, restricted)
    base = state.settings.base_url.rstrip("/")
    entries = [
        AtomEntry(
            id=version.identifier,
            title=feed_title(version.snapshot or {"severity": alert.severity, "headline": alert.headline}),
            updated=cap_datetime(version.sent_at).replace("-00:00", "Z"),
            summary=alert.description or alert.headline,
            html_link=f"{base}/alerts/{alert.id}",
            cap_link=f"{base}/api/v1/alerts/{alert.id}.cap",
            author=f"ews node {alert.origin_node or state.settings.node_id}",
            cap=version.snapshot if embed else None,
            categories=feed_categories(version.snapshot or {"rule": alert.rule, "severity": alert.severity}),
        )
        for alert, version in rows
    ]
    updated = entries[0].updated if entries else cap_datetime(utcnow()).replace("-00:00", "Z")
    xml = atom_feed(
        feed_id=f"urn:ews:{state.settings.node_id}:feed:{path}",
        title=f"ews alerts — {state.settings.node_id}",
        self_url=f"{base}/feeds/{path}",
        updated=updated,
        entries=entries,
        sender=state.settings.node_id,
    )
    return Response(xml, media_type="application/atom+xml")


@router.get(
    "/alerts.atom",
    summary="Atom feed of published alerts, newest first, each linking its CAP message",
    response_class=Response,
    responses=body_as("application/atom+xml"),
)
def alerts_atom(
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    return _atom(db, state, caller, "alerts.atom", embed=False)


@router.get(
    "/alerts.cap.atom",
    summary="Atom feed whose entries link and carry CAP 1.2 messages",
    response_class=Response,
    responses=body_as("application/atom+xml"),
)
def alerts_cap_atom(
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    return _atom(db, state, caller, "alerts.cap.atom", embed=True)
