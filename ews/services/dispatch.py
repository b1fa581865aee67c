"""The delivery pipeline: claim due outbox rows under a lease, send, record, retry.

Several worker processes may run this against one PostgreSQL: a row is
claimed with ``FOR UPDATE SKIP LOCKED`` and leased for ``lease_seconds``; a
worker that dies mid-delivery leaves a lease that expires, and another worker
sends the delivery again with the same ``webhook-id`` (at-least-once; the id
lets receivers drop the duplicate). Outcomes are written only by the lease
holder, so a worker that lost its lease cannot overwrite a newer attempt.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, or_, update
from sqlmodel import Session, col, select

from alerts.channels.base import Channel, OutboundMessage, Outcome
from alerts.retry import DISABLE_AFTER_SECONDS, delay_after
from ews.audit import audit
from ews.db import reader_of, session_scope, utcnow
from ews.events import outbox_changed
from ews.keyring import keyring_for
from ews.metrics import DELIVERIES, OUTBOX
from ews.models import Delivery, Organisation, Subscription

log = logging.getLogger("ews.dispatch")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Claimed:
    id: str
    subscription_id: str | None
    channel: str
    target: str
    kind: str
    event_type: str
    language: str
    payload: dict
    attempts: int


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        channels: dict[str, Channel],
        lease_seconds: float = 60.0,
        max_in_flight: int = 128,
        owner: str | None = None,
    ) -> None:
        self.engine = engine
        self.channels = channels
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = owner or worker_id()
        self.max_in_flight = max_in_flight
        self.pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="ews-deliver")
        self._in_flight = 0
        self._lock = threading.Lock()

    # -- claiming --------------------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claimed]:
        """Lease up to ``limit`` due deliveries to this worker (skipping rows other workers hold)."""
        if limit <= 0:
            return []
        now = utcnow()
        due = (
            select(Delivery.id)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
            )
            .order_by(col(Delivery.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(Delivery)
            .where(col(Delivery.id).in_(due.scalar_subquery()))
            .values(lease_owner=self.owner, lease_until=now + self.lease, attempts=Delivery.attempts + 1)
            .returning(
                col(Delivery.id),
                col(Delivery.subscription_id),
                col(Delivery.channel),
                col(Delivery.target),
                col(Delivery.kind),
                col(Delivery.event_type),
                col(Delivery.language),
                col(Delivery.payload),
                col(Delivery.attempts),
            )
        )
        with session_scope(self.engine) as session:
            rows = session.execute(statement).all()
        return [Claimed(*row) for row in rows]

    def run_once(self) -> int:
        """Claim what is due, as far as free capacity allows, and hand it to the sending pool."""
        with self._lock:
            free = self.max_in_flight - self._in_flight
        claimed = self.claim(free)
        for item in claimed:
            with self._lock:
                self._in_flight += 1
            self.pool.submit(self._deliver, item)
        return len(claimed)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # -- sending ---------------------------------------------------------------------------------

    def _secret(self, item: Claimed) -> str | None:
        if item.subscription_id is None:
            return None
        with Session(reader_of(self.engine)) as session:
            subscription = session.get(Subscription, item.subscription_id)
            if subscription is None or subscription.secret is None:
                return None
        return keyring_for(self.engine).decrypt(subscription.secret)

    def _deliver(self, item: Claimed) -> None:
        try:
            channel = self.channels.get(item.channel)
            if channel is None:
                outcome = Outcome(
                    False, error=f"channel {item.channel!r} is not configured on this node", permanent=True
                )
            else:
                message = OutboundMessage(
                    id=item.id,
                    kind=item.kind,
                    event_type=item.event_type,
                    target=item.target,
                    payload=item.payload,
                    language=item.language,
                    secret=self._secret(item) if item.channel == "webhook" else None,
                    attempt=item.attempts,
                )
                try:
                    outcome = channel.send(message)
                except Exception as error:  # noqa: BLE001 - a channel bug must not lose the delivery
                    log.exception("channel %s failed on delivery %s", item.channel, item.id)
                    outcome = Outcome(False, error=f"{type(error).__name__}: {error}"[:500])
            self.record(item, outcome)
        except Exception:  # noqa: BLE001 - the lease expires and another attempt follows
            log.exception("recording delivery %s failed", item.id)
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- recording -------------------------------------------------------------------------------

    def record(self, item: Claimed, outcome: Outcome) -> None:
        now = utcnow()
        mine = (col(Delivery.id) == item.id) & (col(Delivery.lease_owner) == self.owner)
        with session_scope(self.engine) as session:
            values: dict = {
                "lease_owner": None,
                "lease_until": None,
                "last_status": outcome.status,
                "last_error": outcome.error,
            }
            if outcome.delivered:
                values |= {"status": "delivered", "delivered_at": now, "last_error": None}
                label = "delivered"
            elif outcome.gone or outcome.permanent:
                values |= {"status": "failed"}
                label = "gone" if outcome.gone else "refused"
            else:
                delay = delay_after(item.attempts, outcome.retry_after)
                if delay is None:
                    values |= {"status": "failed"}
                    label = "exhausted"
                else:
                    values |= {"status": "pending", "next_attempt_at": now + timedelta(seconds=delay)}
                    label = "retry"
            result = cast(CursorResult[Any], session.execute(update(Delivery).where(mine).values(**values)))
            if result.rowcount == 0:
                return  # the lease was lost: a newer attempt owns this delivery now
            DELIVERIES.labels(item.channel, label).inc()
            if item.subscription_id:
                self._endpoint_health(session, item, outcome, now)

    def _endpoint_health(self, session: Session, item: Claimed, outcome: Outcome, now) -> None:
        subscription = session.get(Subscription, item.subscription_id)
        if subscription is None:
            return
        if outcome.delivered:
            if subscription.failing_since is not None:
                subscription.failing_since = None
                session.add(subscription)
            return
        if outcome.gone:
            self._disable(session, subscription, "the endpoint answered 410 Gone", now)
            return
        if subscription.failing_since is None:
            subscription.failing_since = now
            session.add(subscription)
        elif (now - subscription.failing_since).total_seconds() >= DISABLE_AFTER_SECONDS:
            self._disable(session, subscription, "deliveries have failed for 5 days", now)

    def _disable(self, session: Session, subscription: Subscription, reason: str, now) -> None:
        if not subscription.active:
            return
        subscription.active = False
        subscription.disabled_reason = reason
        session.add(subscription)
        audit(
            session,
            "subscription.disable",
            "subscription",
            subscription.id,
            subscription.organisation_id,
            reason=reason,
        )
        # pending deliveries to a disabled endpoint stop here
        session.execute(
            update(Delivery)
            .where(col(Delivery.subscription_id) == subscription.id, col(Delivery.status) == "pending")
            .values(status="cancelled")
        )
        organisation = session.get(Organisation, subscription.organisation_id)
        if organisation is not None and organisation.contact_email and "email" in self.channels:
            session.add(
                Delivery(
                    kind="notice",
                    channel="email",
                    target=organisation.contact_email,
                    event_type="subscription.disabled",
                    language=subscription.language,
                    payload={
                        "type": "subscription.disabled",
                        "timestamp": now.isoformat(),
                        "data": {
                            "subscription_id": subscription.id,
                            "url": subscription.url,
                            "reason": reason,
                            "failing_since": subscription.failing_since.isoformat()
                            if subscription.failing_since
                            else None,
                        },
                    },
                )
            )
            outbox_changed(session)

    def due_count(self) -> int:
        with Session(reader_of(self.engine)) as session:
            count = session.exec(
                select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
            ).one()
        OUTBOX.set(count)
        return int(count)

    def shutdown(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=not wait)
