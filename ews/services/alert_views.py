"""The shapes an alert takes outside the database: API and feed views, webhook payloads, feed titles.

Rule application lives in :mod:`ews.services.alerting`; this module only reads
an alert (and its versions) and says how it looks.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from ews.db import utcnow
from ews.models import Alert, AlertDetection, AlertVersion, Detection

MAX_DETECTIONS_IN_VIEW = 20
EVENT_TYPES = {"Alert": "alert.published", "Update": "alert.updated", "Cancel": "alert.cancelled"}
CANCELLED_PREFIX = "Cancelled: "


def alert_links(base_url: str, alert_id: str) -> dict[str, str]:
    base = base_url.rstrip("/")
    return {
        "web": f"{base}/alerts/{alert_id}",
        "api": f"{base}/api/v1/alerts/{alert_id}",
        "cap": f"{base}/api/v1/alerts/{alert_id}.cap",
    }


def alert_detections(session: Session, alert_id: str, limit: int = MAX_DETECTIONS_IN_VIEW) -> list[dict]:
    """The detections behind an alert, without any field private to the submitting lab."""
    rows = session.exec(
        select(Detection)
        .join(AlertDetection, col(AlertDetection.detection_id) == Detection.id)
        .where(AlertDetection.alert_id == alert_id)
        .order_by(col(Detection.created_at).desc())
        .limit(limit)
    ).all()
    seen, result = set(), []
    for detection in rows:
        if detection.id in seen:
            continue
        seen.add(detection.id)
        result.append(
            {
                "id": detection.id,
                "country": detection.country,
                "region": detection.region,
                "seized_on": detection.seized_on.isoformat() if detection.seized_on else None,
                "form": detection.form,
                "sold_as": detection.sold_as,
                "origin_node": detection.origin_node,
            }
        )
    return result


def alert_view(session: Session, alert: Alert, base_url: str, version: AlertVersion | None = None) -> dict:
    """The public shape of an alert: API responses, webhook payloads, feeds."""
    return {
        "id": alert.id,
        "version": alert.version,
        "msg_type": version.msg_type if version else None,
        "identifier": version.identifier if version else None,
        "references": version.references if version else [],
        "status": alert.status,
        "cancelled": alert.status == "cancelled",
        "scope": alert.scope,
        "rule": alert.rule,
        "category": "Health",
        "severity": alert.severity,
        "urgency": alert.urgency,
        "certainty": alert.certainty,
        "event": alert.event,
        "headline": alert.headline,
        "description": alert.description,
        "instruction": alert.instruction,
        "texts": alert.texts,
        "reasons": alert.reasons,
        "substance": {
            "id": alert.substance_id,
            "name": alert.substance_name,
            "smiles": alert.smiles,
            "inchikey": alert.inchikey,
            "formula": alert.facts.get("formula"),
            "class": alert.drug_class,
            "verdict": alert.verdict,
            "high_harm": alert.high_harm,
        },
        "reported_as": alert.facts.get("reported_as", []),
        "evidence": alert.evidence,
        "countries": alert.countries,
        "regions": alert.regions,
        "detection_count": alert.detection_count,
        "first_seen": alert.facts.get("first_seen"),
        "detections": alert_detections(session, alert.id),
        "created_at": alert.created_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "published_at": alert.published_at.isoformat() if alert.published_at else None,
        "sent_at": version.sent_at.isoformat() if version else None,
        "update_pending": alert.update_due_at is not None,
        "origin_node": alert.origin_node,
        "links": alert_links(base_url, alert.id),
    }


def webhook_payload(view: dict, event_type: str, max_bytes: int = 19_000) -> dict:
    """``{"type", "timestamp", "data"}``, trimmed to stay under the 20 kB webhook limit."""
    payload: dict[str, Any] = {"type": event_type, "timestamp": utcnow().isoformat(), "data": dict(view)}
    data = payload["data"]
    for trim in ("detections", "evidence", "texts", "description"):
        if len(json.dumps(payload, ensure_ascii=False).encode()) <= max_bytes:
            break
        data[trim] = [] if trim == "detections" else ({} if trim in ("evidence", "texts") else data[trim][:500])
    return payload


def feed_title(view: dict) -> str:
    """An entry's title: the severity and headline, marked when the alert is cancelled."""
    title = f"{view.get('severity') or 'Unknown'}: {view.get('headline') or ''}"
    cancelled = view.get("status") == "cancelled" or view.get("msg_type") == "Cancel"
    return CANCELLED_PREFIX + title if cancelled else title


def feed_categories(view: dict) -> list[str]:
    """An entry's categories: class, rule, severity, the CAP message type, and ``cancelled`` when it is."""
    substance = view.get("substance") or {}
    terms = [substance.get("class"), view.get("rule"), view.get("severity"), view.get("msg_type")]
    if view.get("status") == "cancelled" or view.get("msg_type") == "Cancel":
        terms.append("cancelled")
    return [t for t in terms if t]


def version_item(version: AlertVersion, current: int, base_url: str) -> dict:
    """One published version; a superseded one links to the current version."""
    links = alert_links(base_url, version.alert_id)
    item = {
        "version": version.version,
        "msg_type": version.msg_type,
        "identifier": version.identifier,
        "references": version.references,
        "sent_at": version.sent_at.isoformat(),
        "current": version.version == current,
        "snapshot": version.snapshot,
    }
    if version.version != current:
        item["superseded_by"] = {"version": current, "links": links}
    return item
