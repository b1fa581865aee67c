"""Prometheus metrics of one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
DETECTIONS = Counter("ews_detections_total", "Detections stored", ["country"], registry=REGISTRY)
COMPONENT_VERDICTS = Counter(
    "ews_component_verdicts_total", "Matched components by verdict", ["verdict"], registry=REGISTRY
)
ALERTS = Counter("ews_alerts_total", "Alerts raised or updated", ["rule", "severity"], registry=REGISTRY)
DELIVERIES = Counter(
    "ews_deliveries_total", "Delivery attempts by channel and outcome", ["channel", "outcome"], registry=REGISTRY
)
OUTBOX = Gauge("ews_outbox_due", "Deliveries due and not yet delivered (last dispatcher pass)", registry=REGISTRY)
FEDERATION_PULLS = Counter(
    "ews_federation_pulls_total", "Peer feed pulls by outcome", ["outcome"], registry=REGISTRY
)
