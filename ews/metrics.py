"""Prometheus metrics, aggregated over every process of the node.

Two sources make one ``/metrics`` page:

* events counted where they happen (requests and their latency, delivery
  attempts, federation pulls). ``ews serve`` and ``ews worker`` set
  ``PROMETHEUS_MULTIPROC_DIR`` (``<data dir>/metrics`` unless set) before
  prometheus-client is imported (see ``ews.cli.prepare_metrics``), so every
  process and every uvicorn worker on the host writes its counts there and any
  of them answers with the sum;
* the node's state, read from the database at scrape time, so it is the same
  whichever process answers: detections, identifications by verdict,
  deliveries by outcome, outbox depth and the age of the oldest pending
  delivery, and per peer the pull lag and whether its node id clashes with ours.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "ews_http_requests_total",
    "HTTP requests by route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "ews_http_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
ALERTS = Counter("ews_alerts_total", "Alerts raised or updated", ["rule", "severity"], registry=REGISTRY)
DELIVERIES = Counter(
    "ews_deliveries_total", "Delivery attempts by channel and outcome", ["channel", "outcome"], registry=REGISTRY
)
OUTBOX = Gauge(
    "ews_outbox_due",
    "Deliveries due and not yet delivered (last dispatcher pass)",
    registry=REGISTRY,
    multiprocess_mode="livemax",
)
FEDERATION_PULLS = Counter(
    "ews_federation_pulls_total", "Peer feed pulls by outcome", ["outcome"], registry=REGISTRY
)
FEDERATION_REFUSED = Counter(
    "ews_federation_refused_pages_total",
    "Federated feed pages refused: tampered, replayed, unsigned or signed by another key",
    ["reason"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "ews_rate_limited_total", "Requests refused with 429, by kind of limit", ["limit"], registry=REGISTRY
)


class NodeState(Collector):
    """Gauges read from the database at scrape time: the same answer from every process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        from ews.db import utcnow
        from ews.models import Delivery, Detection, DetectionComponent, Peer

        now = utcnow()
        with Session(self.engine) as session:
            detections = session.exec(select(func.count()).select_from(Detection)).one()
            verdicts = session.exec(
                select(DetectionComponent.verdict, func.count()).group_by(col(DetectionComponent.verdict))
            ).all()
            by_status = session.exec(
                select(Delivery.channel, Delivery.status, func.count()).group_by(
                    col(Delivery.channel), col(Delivery.status)
                )
            ).all()
            oldest = session.exec(
                select(func.min(Delivery.next_attempt_at)).where(
                    Delivery.status == "pending", Delivery.next_attempt_at <= now
                )
            ).one()
            peers = session.exec(select(Peer).where(col(Peer.active).is_(True))).all()
        yield GaugeMetricFamily("ews_detections", "Detections stored (own and federated)", value=detections)
        family = GaugeMetricFamily("ews_identifications", "Stored components by verdict", labels=["verdict"])
        for verdict, count in verdicts:
            family.add_metric([verdict or "none"], count)
        yield family
        family = GaugeMetricFamily(
            "ews_deliveries", "Deliveries by channel and state", labels=["channel", "status"]
        )
        pending = 0
        for channel, status, count in by_status:
            family.add_metric([channel, status], count)
            pending += count if status == "pending" else 0
        yield family
        yield GaugeMetricFamily("ews_outbox_depth", "Deliveries pending (due or waiting to retry)", value=pending)
        age = 0.0
        if oldest is not None:
            if isinstance(oldest, str):  # SQLite may hand back the aggregate as text
                oldest = datetime.fromisoformat(oldest)
            age = max(0.0, (now - oldest.replace(tzinfo=oldest.tzinfo or UTC)).total_seconds())
        yield GaugeMetricFamily(
            "ews_outbox_oldest_due_age_seconds", "How long the oldest due delivery has waited", value=age
        )
        lag = GaugeMetricFamily(
            "ews_peer_pull_lag_seconds", "Seconds since the last successful pull of a peer", labels=["peer"]
        )
        clash = GaugeMetricFamily(
            "ews_peer_id_clash", "1 when a peer's feed carries this node's own node id", labels=["peer"]
        )
        failing = GaugeMetricFamily("ews_peer_failures", "Consecutive failed pulls of a peer", labels=["peer"])
        for peer in peers:
            name = peer.node_id or peer.url
            since = peer.last_success_at or peer.created_at
            lag.add_metric([name], max(0.0, (now - since).total_seconds()))
            clash.add_metric([name], 1.0 if peer.id_clash else 0.0)
            failing.add_metric([name], float(peer.failures))
        yield lag
        yield clash
        yield failing


def exposition(engine: Engine) -> bytes:
    """The text of ``/metrics``: events summed over processes, then the node's state."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        events = CollectorRegistry()
        multiprocess.MultiProcessCollector(events)
    else:
        events = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(NodeState(engine))
    return generate_latest(events) + generate_latest(state)
