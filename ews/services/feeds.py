"""This node's outgoing feeds: alert versions and detections, read with an opaque cursor.

The cursor must never skip an entry that a concurrent transaction commits
late. On PostgreSQL every entry records the id of the transaction that wrote
it, and a reader only sees entries of transactions older than the oldest one
still running (``pg_snapshot_xmin``); ordering by (transaction id, seq) then
guarantees that anything committed later sorts after the cursor. SQLite
serializes writers, so commit order is ``seq`` order.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import and_, event, or_, text
from sqlmodel import Session, select

from ews.models import Detection, DetectionComponent, FeedEntry
from ews.problems import field_error, invalid

MAX_PAGE = 200


def _txid(session: Session) -> int:
    if session.get_bind().dialect.name != "postgresql":
        return 0
    cached = session.info.get("feed_txid")
    if cached is None:
        cached = int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
        session.info["feed_txid"] = cached
    return cached


@event.listens_for(Session, "after_transaction_end")
def _forget_txid(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: the next gets a new id
        session.info.pop("feed_txid", None)


def record(session: Session, kind: str, object_id: str, payload: dict, origin_node: str, origin_id: str,
           version: int = 0, scope: str = "Public") -> FeedEntry:
    entry = FeedEntry(
        txid=_txid(session),
        kind=kind,
        object_id=object_id,
        version=version,
        scope=scope,
        origin_node=origin_node,
        origin_id=origin_id,
        payload=payload,
    )
    session.add(entry)
    return entry


def detection_feed_view(detection: Detection, components: list[DetectionComponent]) -> dict:
    """What partners learn of a detection: what, where, when, form, purity — never the lab's private fields."""
    return {
        "id": detection.id,
        "created_at": detection.created_at.isoformat(),
        "sample": {
            "form": detection.form,
            "sold_as": detection.sold_as,
            "seized_on": detection.seized_on.isoformat() if detection.seized_on else None,
            "analyzed_on": detection.analyzed_on.isoformat() if detection.analyzed_on else None,
            "country": detection.country,
            "region": detection.region,
            "techniques": detection.techniques,
            "confidence": detection.confidence,
            "purity_percent": detection.purity_percent,
        },
        "components": [
            {
                "position": c.position,
                "name": c.name,
                "smiles": c.std_smiles,
                "inchikey": c.inchikey,
                "formula": c.formula,
                "verdict": c.verdict,
                "class": c.drug_class,
                "substance": {"id": c.substance_id, "name": c.substance_name} if c.substance_id else None,
                "purity_percent": c.purity_percent,
                "high_harm": c.high_harm,
            }
            for c in components
        ],
    }


class FeedRecorder:
    """Detection listener: every stored detection becomes an entry of the detections feed."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id

    def __call__(self, session: Session, detection: Detection, components: list[DetectionComponent]) -> None:
        record(
            session,
            "detection",
            detection.id,
            detection_feed_view(detection, components),
            origin_node=detection.origin_node or self.node_id,
            origin_id=detection.origin_id or detection.id,
        )


# --- reading ----------------------------------------------------------------------------------


def encode_cursor(txid: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{txid}.{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (-1, -1)
    try:
        txid, seq = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(".")
        return int(txid), int(seq)
    except (ValueError, UnicodeDecodeError):
        raise invalid([field_error("after", "not a cursor returned by this feed")]) from None


@dataclass
class Page:
    entries: list[FeedEntry]
    cursor: str
    has_more: bool


def read(
    session: Session,
    kind: str,
    after: str | None,
    limit: int,
    include_restricted: bool,
    exclude_origin: str | None = None,
) -> Page:
    """Entries after the cursor, oldest first, that no later commit can precede."""
    txid, seq = decode_cursor(after)
    query = select(FeedEntry).where(
        FeedEntry.kind == kind,
        or_(FeedEntry.txid > txid, and_(FeedEntry.txid == txid, FeedEntry.seq > seq)),  # type: ignore[operator]
    )
    if session.get_bind().dialect.name == "postgresql":
        horizon = int(session.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one())
        query = query.where(FeedEntry.txid < horizon)
    if not include_restricted:
        query = query.where(FeedEntry.scope == "Public")
    if exclude_origin:
        query = query.where(FeedEntry.origin_node != exclude_origin)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.exec(query.order_by(FeedEntry.txid, FeedEntry.seq).limit(limit + 1)).all())  # type: ignore[arg-type]
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].txid, rows[-1].seq) if rows else (after or encode_cursor(-1, -1))  # type: ignore[arg-type]
    return Page(rows, cursor, has_more)


def item(entry: FeedEntry) -> dict:
    return {
        "kind": entry.kind,
        "id": entry.object_id,
        "version": entry.version,
        "scope": entry.scope,
        "origin_node": entry.origin_node,
        "origin_id": entry.origin_id,
        "published_at": entry.created_at.isoformat(),
        "data": entry.payload,
    }
