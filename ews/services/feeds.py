"""This node's outgoing feeds: alert versions and detections, read with an opaque cursor.

The cursor must never skip an entry that a concurrent transaction commits
late. A sequence number alone would: transaction A takes seq 10, B takes 11
and commits first, a reader advances past 11, then A commits 10 behind it.
So the feed orders entries by a *position* that :func:`sequence` hands out
to entries that have already committed, one sequencer at a time (it holds
the clock row): an entry committed late is sequenced late, after everything
readers have seen. Writers never wait for each other on the feed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import Table, and_, bindparam, func, or_, update
from sqlmodel import Session, col, select

from ews.db import construct, insert_new
from ews.models import Detection, DetectionComponent, FeedClock, FeedEntry
from ews.problems import field_error, invalid
from ews.services.alert_views import feed_categories, feed_title
from ews.services.detections import profile_fields, sample_view

MAX_PAGE = 200


def record(
    session: Session,
    kind: str,
    object_id: str,
    payload: dict,
    origin_node: str,
    origin_id: str,
    version: int = 0,
    scope: str = "Public",
) -> FeedEntry:
    """Add a feed entry; the sequencer gives it a position once it has committed."""
    entry = FeedEntry(
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


def sequence(session: Session, batch: int = 5000) -> int:
    """Give committed entries without a position the next positions, in ``seq`` order.

    Only the holder of the clock row sequences, so positions only grow; an
    entry whose transaction commits late is simply sequenced later, after
    everything readers have already seen. Writers never touch the clock.
    """
    clock = session.exec(select(FeedClock).where(FeedClock.id == 1).with_for_update(skip_locked=True)).first()
    if clock is None:
        return 0  # another process is sequencing right now
    pending = session.exec(
        select(FeedEntry.seq).where(col(FeedEntry.position).is_(None)).order_by(col(FeedEntry.seq)).limit(batch)
    ).all()
    if not pending:
        return 0
    start = clock.value
    table: Table = FeedEntry.__table__  # type: ignore[attr-defined]  # Core, not ORM: one executemany for the whole batch
    session.connection().execute(
        update(table).where(table.c.seq == bindparam("entry")).values(position=bindparam("place")),
        [{"entry": seq, "place": start + offset + 1} for offset, seq in enumerate(pending)],
    )
    clock.value = start + len(pending)
    session.add(clock)
    return len(pending)


def sequence_now(engine) -> int:
    """One sequencing pass in its own transaction (the scheduler and feed readers call this)."""
    from ews.db import session_scope

    with session_scope(engine) as session:
        return sequence(session)


def detection_feed_view(detection: Detection, components: list[DetectionComponent]) -> dict:
    """What partners learn of a detection: what, where, when, form, purity — never the lab's private fields."""
    return {
        "id": detection.id,
        "created_at": detection.created_at.isoformat(),
        "sample": sample_view(detection),
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
                **profile_fields(c),
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
        entry = construct(
            FeedEntry,
            kind="detection",
            object_id=detection.id,
            origin_node=detection.origin_node or self.node_id,
            origin_id=detection.origin_id or detection.id,
            payload=detection_feed_view(detection, components),
        )
        insert_new(session, entry)  # as record() would, without the unit of work: one per detection


# --- reading ----------------------------------------------------------------------------------


def encode_cursor(position: int, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{position}.{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (-1, -1)
    try:
        position, seq = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(".")
        return int(position), int(seq)
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
    """Committed entries after the cursor, in commit order."""
    position, seq = decode_cursor(after)
    query = select(FeedEntry).where(
        FeedEntry.kind == kind,
        col(FeedEntry.position).is_not(None),
        or_(
            col(FeedEntry.position) > position, and_(col(FeedEntry.position) == position, col(FeedEntry.seq) > seq)
        ),
    )
    if not include_restricted:
        query = query.where(FeedEntry.scope == "Public")
    if exclude_origin:
        query = query.where(FeedEntry.origin_node != exclude_origin)
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(session.exec(query.order_by(col(FeedEntry.position), col(FeedEntry.seq)).limit(limit + 1)).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1].position, rows[-1].seq) if rows else (after or encode_cursor(-1, -1))  # type: ignore[arg-type]
    return Page(rows, cursor, has_more)


def item(entry: FeedEntry, current: int | None = None) -> dict:
    """One feed item. An alert version says in its title and categories when it cancels the
    alert, and a version that a later one superseded names the current version."""
    body = {
        "kind": entry.kind,
        "id": entry.object_id,
        "version": entry.version,
        "scope": entry.scope,
        "origin_node": entry.origin_node,
        "origin_id": entry.origin_id,
        "published_at": entry.created_at.isoformat(),
        "data": entry.payload,
    }
    if entry.kind == "alert":
        body["title"] = feed_title(entry.payload)
        body["categories"] = feed_categories(entry.payload)
        body["status"] = entry.payload.get("status")
        if current is not None and current > entry.version:
            body["superseded_by"] = {"version": current, "links": entry.payload.get("links") or {}}
    return body


def current_versions(session: Session, entries: list[FeedEntry]) -> dict[tuple[str, str], int]:
    """The latest version in this feed of each alert among ``entries``."""
    keys = {(e.origin_node, e.origin_id) for e in entries if e.kind == "alert"}
    if not keys:
        return {}
    rows = session.exec(
        select(FeedEntry.origin_node, FeedEntry.origin_id, func.max(FeedEntry.version))
        .where(FeedEntry.kind == "alert", col(FeedEntry.origin_id).in_({k[1] for k in keys}))
        .group_by(col(FeedEntry.origin_node), col(FeedEntry.origin_id))
    ).all()
    return {(node, origin): int(version) for node, origin, version in rows if (node, origin) in keys}


def items(session: Session, entries: list[FeedEntry]) -> list[dict]:
    current = current_versions(session, entries)
    return [item(e, current.get((e.origin_node, e.origin_id))) for e in entries]
