"""Daily and weekly digests: the alerts a subscription collected, sent as one message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from ews.db import session_scope, utcnow
from ews.events import outbox_changed
from ews.models import Delivery, DigestItem, Subscription

DIGEST_HOUR_UTC = 7
"""Digests go out at 07:00 UTC: early morning across the Americas."""
MAX_DIGEST_BYTES = 19_000


def next_digest_at(digest: str, after: datetime) -> datetime | None:
    """The next digest time strictly after ``after``; weekly digests go out on Mondays."""
    if digest == "immediate":
        return None
    candidate = after.replace(hour=DIGEST_HOUR_UTC, minute=0, second=0, microsecond=0)
    if candidate <= after:
        candidate += timedelta(days=1)
    if digest == "weekly":
        while candidate.weekday() != 0:
            candidate += timedelta(days=1)
    return candidate


def _compact(view: dict) -> dict:
    """An alert as a digest line: enough to read and follow the link."""
    keep = (
        "id",
        "version",
        "msg_type",
        "status",
        "severity",
        "urgency",
        "certainty",
        "event",
        "headline",
        "countries",
        "regions",
        "detection_count",
        "published_at",
        "links",
    )
    compact = {k: view.get(k) for k in keep}
    compact["texts"] = {
        lang: {"headline": t.get("headline"), "event": t.get("event")}
        for lang, t in (view.get("texts") or {}).items()
    }
    compact["substance"] = {
        k: (view.get("substance") or {}).get(k) for k in ("name", "class", "verdict", "inchikey", "smiles")
    }
    return compact


def run_digests(engine: Engine, now: datetime | None = None) -> int:
    """Create the digest deliveries that are due; returns how many were created."""
    now = now or utcnow()
    created = 0
    with session_scope(engine) as session:
        due = session.exec(
            select(Subscription)
            .where(
                col(Subscription.active).is_(True),
                Subscription.digest != "immediate",
                col(Subscription.next_digest_at) <= now,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for subscription in due:
            items = session.exec(
                select(DigestItem)
                .where(DigestItem.subscription_id == subscription.id, col(DigestItem.delivery_id).is_(None))
                .order_by(col(DigestItem.created_at))
            ).all()
            subscription.next_digest_at = next_digest_at(subscription.digest, now)
            session.add(subscription)
            if not items:
                continue
            alerts: list[dict]
            alerts, size = [], 0
            for item in items:
                line = _compact(item.payload)
                size += len(json.dumps(line, ensure_ascii=False).encode())
                if size > MAX_DIGEST_BYTES and alerts:
                    break  # the rest waits for the next digest
                alerts.append(line)
            delivery = Delivery(
                subscription_id=subscription.id,
                kind="digest",
                channel=subscription.channel,
                target=subscription.url or subscription.address or "",
                event_type="alert.digest",
                language=subscription.language,
                payload={
                    "type": "alert.digest",
                    "timestamp": now.isoformat(),
                    "data": {"period": subscription.digest, "alerts": alerts},
                },
            )
            session.add(delivery)
            session.flush()
            for item in items[: len(alerts)]:
                item.delivery_id = delivery.id
                session.add(item)
            created += 1
        if created:
            outbox_changed(session)
    return created
