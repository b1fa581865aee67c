"""Alerts from detections: rules, one alert per substance and place, versions, and the outbox.

Runs inside the transaction that stores a detection, so a detection, its
alerts and their delivery rows commit together or not at all (the outbox).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from alerts.rules import (
    ClusterPolicy,
    ComponentFacts,
    Trigger,
    evaluate,
    of_concern,
    severity_rank,
    sold_as_matches,
)
from alerts.subscriptions import wants
from alerts.texts import LANGUAGES, all_texts
from ews.audit import audit
from ews.config import Settings
from ews.db import utcnow
from ews.events import outbox_changed
from ews.models import (
    Alert,
    AlertDetection,
    AlertVersion,
    Delivery,
    Detection,
    DetectionComponent,
    DigestItem,
    Organisation,
    Subscription,
    new_id,
)
from ews.services import feeds
from ews.services.library import LibraryHolder

UNKNOWN_SOLD_AS = {"unknown", "desconocido", "desconhecido", "inconnu", "?", "n/a", "none"}
MAX_DETECTIONS_IN_VIEW = 20
URGENCY_RANK = {"Immediate": 0, "Expected": 1, "Future": 2, "Past": 3, "Unknown": 4}
EVENT_TYPES = {"Alert": "alert.published", "Update": "alert.updated", "Cancel": "alert.cancelled"}


# --- views ------------------------------------------------------------------------------------


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
    base = base_url.rstrip("/")
    view = {
        "id": alert.id,
        "version": alert.version,
        "msg_type": version.msg_type if version else None,
        "identifier": version.identifier if version else None,
        "references": version.references if version else [],
        "status": alert.status,
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
        "evidence": alert.evidence,
        "countries": alert.countries,
        "regions": alert.regions,
        "detection_count": alert.detection_count,
        "detections": alert_detections(session, alert.id),
        "created_at": alert.created_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "published_at": alert.published_at.isoformat() if alert.published_at else None,
        "sent_at": version.sent_at.isoformat() if version else None,
        "origin_node": alert.origin_node,
        "links": {
            "web": f"{base}/alerts/{alert.id}",
            "api": f"{base}/api/v1/alerts/{alert.id}",
            "cap": f"{base}/api/v1/alerts/{alert.id}.cap",
        },
    }
    return view


def webhook_payload(view: dict, event_type: str, max_bytes: int = 19_000) -> dict:
    """``{"type", "timestamp", "data"}``, trimmed to stay under the 20 kB webhook limit."""
    import json

    payload: dict[str, Any] = {"type": event_type, "timestamp": utcnow().isoformat(), "data": dict(view)}
    data = payload["data"]
    for trim in ("detections", "evidence", "texts", "description"):
        if len(json.dumps(payload, ensure_ascii=False).encode()) <= max_bytes:
            break
        data[trim] = [] if trim == "detections" else ({} if trim in ("evidence", "texts") else data[trim][:500])
    return payload


# --- facts from history -----------------------------------------------------------------------


def _others(session: Session, skeleton: str, detection: Detection):
    return (
        select(DetectionComponent.id)
        .join(Detection, col(Detection.id) == DetectionComponent.detection_id)
        .where(DetectionComponent.skeleton_key == skeleton, Detection.id != detection.id)
    )


def _recent_in_region(session: Session, skeleton: str, detection: Detection, window_days: int) -> int:
    reference = detection.seized_on or detection.created_at.date()
    start = reference - timedelta(days=window_days)
    start_at = datetime(start.year, start.month, start.day, tzinfo=detection.created_at.tzinfo)
    region = (
        col(Detection.region).is_(None) if detection.region is None else col(Detection.region) == detection.region
    )
    count = session.exec(
        select(func.count(func.distinct(Detection.id)))
        .join(DetectionComponent, col(DetectionComponent.detection_id) == Detection.id)
        .where(
            DetectionComponent.skeleton_key == skeleton,
            Detection.country == detection.country,
            region,
            or_(
                and_(col(Detection.seized_on).is_not(None), col(Detection.seized_on) >= start),
                and_(col(Detection.seized_on).is_(None), col(Detection.created_at) >= start_at),
            ),
        )
    ).one()
    return int(count)


def _controlled_since_year(match: dict) -> int | None:
    years = [int(c["controlled_since"][:4]) for c in match.get("controls", []) if c.get("controlled_since")]
    return min(years) if years else None


def _sold_as(detection: Detection) -> str | None:
    if not detection.sold_as or detection.sold_as.strip().lower() in UNKNOWN_SOLD_AS:
        return None
    return detection.sold_as


def _add_place(alert: Alert, detection: Detection) -> bool:
    """Add the detection's country and region to the alert; True when the country is new to it."""
    new_country = detection.country not in alert.countries
    if new_country:
        alert.countries = sorted({*alert.countries, detection.country})
    region = {"country": detection.country, "region": detection.region}
    if detection.region and region not in alert.regions:
        alert.regions = [*alert.regions, region]
    return new_country


# --- the alerting listener --------------------------------------------------------------------


class Alerting:
    """Runs the rules on every stored detection (a detection listener) and keeps alerts current."""

    def __init__(self, settings: Settings, library: LibraryHolder) -> None:
        self.settings = settings
        self.library = library
        self.cluster = ClusterPolicy(settings.cluster_threshold, settings.cluster_window_days)

    # detection listener
    def __call__(self, session: Session, detection: Detection, components: list[DetectionComponent]) -> None:
        for component in components:
            facts = self.facts(session, detection, component)
            triggers = evaluate(facts, self.cluster)
            for trigger in triggers:
                self.raise_alert(session, trigger, facts, detection, component)
            network_key = f"new:{component.skeleton_key}"
            if component.verdict in ("analog", "no_match") and all(t.key != network_key for t in triggers):
                self._follow_up(session, network_key, detection, component)

    def _follow_up(self, session: Session, key: str, detection: Detection, component: DetectionComponent) -> None:
        """A later detection of a substance that has a network alert: counted and placed, no new message."""
        alert = session.exec(select(Alert).where(Alert.dedup_key == key).with_for_update()).first()
        if alert is None or not self.link(session, alert, detection, component):
            return
        alert.detection_count += 1
        _add_place(alert, detection)
        alert.updated_at = utcnow()
        session.add(alert)

    def _names(self, component: DetectionComponent) -> tuple[str, ...]:
        names = [component.name or "", component.substance_name or ""]
        if component.substance_id:
            substance = self.library.get().by_id.get(component.substance_id)
            if substance is not None:
                names += [substance.name, *substance.synonyms]
        return tuple(n for n in names if n)

    def facts(self, session: Session, detection: Detection, component: DetectionComponent) -> ComponentFacts:
        """The component and what the network has seen of it. The history queries run only
        for substances of concern: cocaine's thousandth seizure costs no lookups."""
        skeleton = component.skeleton_key
        since_year = _controlled_since_year(component.match)
        concern = of_concern(component.verdict, component.high_harm, since_year)
        first_in_network = first_in_country = False
        recent = 0
        if concern:
            first_in_network = session.exec(_others(session, skeleton, detection).limit(1)).first() is None
            first_in_country = first_in_network or (
                session.exec(
                    _others(session, skeleton, detection).where(Detection.country == detection.country).limit(1)
                ).first()
                is None
            )
            recent = _recent_in_region(session, skeleton, detection, self.cluster.window_days)
        sold_as = _sold_as(detection)
        names = self._names(component)
        return ComponentFacts(
            verdict=component.verdict,
            drug_class=component.drug_class,
            high_harm=component.high_harm,
            skeleton_key=skeleton,
            substance_name=component.substance_name or component.name or component.formula,
            country=detection.country,
            region=detection.region,
            confidence=detection.confidence,
            first_in_network=first_in_network,
            first_in_country=first_in_country,
            recent_in_region=recent,
            controlled_since_year=since_year,
            sold_as=sold_as,
            expected_here=sold_as is None or sold_as_matches(sold_as, names),
            names=names,
        )

    def _text_facts(
        self,
        facts: ComponentFacts,
        component: DetectionComponent,
        detection: Detection,
        count: int,
        countries: list[str],
    ) -> dict:
        match = component.match
        nearest = next(
            (m["substance"]["name"] for m in match.get("matches", []) if m["kind"] == "similarity"), None
        )
        family = next((m["substance"]["name"] for m in match.get("matches", []) if m["kind"] == "family"), None)
        controls = "; ".join(
            f"{c['jurisdiction']} {c['instrument']} {c['schedule']}".strip() for c in match.get("controls", [])
        )
        return {
            "substance_name": facts.substance_name,
            "formula": component.formula,
            "drug_class": facts.drug_class,
            "verdict": facts.verdict,
            "country": detection.country,
            "region": detection.region,
            "countries": countries,
            "nearest": nearest,
            "family": family,
            "controls": controls,
            "seized_on": detection.seized_on.isoformat() if detection.seized_on else None,
            "detection_count": count,
            "sold_as": facts.sold_as,
            "window_days": self.cluster.window_days,
        }

    @staticmethod
    def _evidence(component: DetectionComponent) -> dict:
        match = component.match
        return {
            "verdict": match.get("verdict"),
            "class": match.get("class"),
            "controls": match.get("controls", [])[:5],
            "matches": [
                {k: v for k, v in m.items() if k not in ("shared_atoms",)} for m in match.get("matches", [])[:6]
            ],
            "standardized": {k: match.get("standardized", {}).get(k) for k in ("smiles", "inchikey", "formula")},
        }

    def raise_alert(
        self,
        session: Session,
        trigger: Trigger,
        facts: ComponentFacts,
        detection: Detection,
        component: DetectionComponent,
    ) -> Alert:
        now = utcnow()
        existing = session.exec(select(Alert).where(Alert.dedup_key == trigger.key).with_for_update()).first()
        if existing is not None:
            linked = self.link(session, existing, detection, component)
            self._merge(session, existing, trigger, facts, detection, component, linked, now)
            return existing
        region = {"country": detection.country, "region": detection.region} if detection.region else None
        text_facts = self._text_facts(facts, component, detection, 1, [detection.country])
        texts = all_texts(trigger.rule, text_facts)
        values = {
            "id": new_id(),
            "dedup_key": trigger.key,
            "rule": trigger.rule,
            "status": "draft",
            "scope": "Public",
            "severity": trigger.severity,
            "urgency": trigger.urgency,
            "certainty": trigger.certainty,
            "event": texts["en"]["event"],
            "headline": texts["en"]["headline"],
            "description": texts["en"]["description"],
            "instruction": texts["en"]["instruction"],
            "texts": texts,
            "facts": text_facts,
            "drug_class": facts.drug_class,
            "verdict": facts.verdict,
            "substance_key": facts.skeleton_key,
            "substance_id": component.substance_id,
            "substance_name": facts.substance_name,
            "inchikey": component.inchikey,
            "smiles": component.std_smiles,
            "high_harm": facts.high_harm,
            "countries": [detection.country],
            "regions": [region] if region else [],
            "evidence": self._evidence(component),
            "reasons": list(trigger.reasons),
            "detection_count": 0,
            "version": 0,
            "created_at": now,
            "updated_at": now,
        }
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        # Concurrent first detections of one substance race here; the unique dedup key
        # makes one insert win and the others update the winner's alert.
        session.execute(insert(Alert).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"]))
        alert = session.exec(select(Alert).where(Alert.dedup_key == trigger.key).with_for_update()).one()
        created = alert.id == values["id"]
        linked = self.link(session, alert, detection, component)
        if created:
            alert.detection_count = 1
            session.add(alert)
            session.flush()
            if trigger.publishes_at_once:
                self.publish(session, alert, actor=None)
            return alert
        self._merge(session, alert, trigger, facts, detection, component, linked, now)
        return alert

    def link(self, session: Session, alert: Alert, detection: Detection, component: DetectionComponent) -> bool:
        """Record that the component fed the alert; False when it already had."""
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        result = session.execute(
            insert(AlertDetection.__table__)  # type: ignore[attr-defined]
            .values(
                alert_id=alert.id,
                component_id=component.id,
                detection_id=detection.id,
                country=detection.country,
                region=detection.region,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["alert_id", "component_id"])
            .returning(AlertDetection.__table__.c.alert_id)  # type: ignore[attr-defined]
        )
        return result.first() is not None  # a row comes back only when it was inserted

    def _merge(self, session, alert, trigger, facts, detection, component, linked: bool, now) -> None:
        """A repeated trigger: counts, places and severity move; subscribers hear of material changes."""
        escalated = severity_rank(trigger.severity) < severity_rank(alert.severity)
        if linked:
            alert.detection_count += 1
        new_country = _add_place(alert, detection)
        if escalated:
            alert.severity = trigger.severity
        if URGENCY_RANK.get(trigger.urgency, 4) < URGENCY_RANK.get(alert.urgency, 4):
            alert.urgency = trigger.urgency
        if trigger.certainty == "Observed":
            alert.certainty = "Observed"
        for reason in trigger.reasons:
            if reason not in alert.reasons:
                alert.reasons = [*alert.reasons, reason][-20:]
        edited = alert.facts.get("edited_by_analyst", False)
        if not alert.origin_node and not edited and (alert.status == "draft" or new_country or escalated):
            alert.facts = {**alert.facts, "detection_count": alert.detection_count, "countries": alert.countries}
            alert.texts = all_texts(alert.rule, alert.facts)
            english = alert.texts["en"]
            alert.event, alert.headline = english["event"], english["headline"]
            alert.description, alert.instruction = english["description"], english["instruction"]
        alert.updated_at = now
        session.add(alert)
        session.flush()
        material = alert.status == "published" and (new_country or escalated)
        urgent_draft = alert.status == "draft" and trigger.publishes_at_once
        if material or urgent_draft:
            self.publish(session, alert, actor=None)

    # --- publication and fan-out ------------------------------------------------------------

    def publish(
        self, session: Session, alert: Alert, actor: str | None, msg_type: str | None = None
    ) -> AlertVersion:
        """Send a new version of the alert: Alert the first time, then Update, or Cancel."""
        now = utcnow()
        previous = session.exec(
            select(AlertVersion).where(AlertVersion.alert_id == alert.id).order_by(col(AlertVersion.version))
        ).all()
        alert.version = (previous[-1].version if previous else 0) + 1
        msg_type = msg_type or ("Update" if previous else "Alert")
        alert.status = "cancelled" if msg_type == "Cancel" else "published"
        alert.published_at = alert.published_at or now
        alert.updated_at = now
        sender = self.settings.node_id
        version = AlertVersion(
            alert_id=alert.id,
            version=alert.version,
            msg_type=msg_type,
            identifier=f"urn:ews:{sender}:alert:{alert.id}:{alert.version}",
            references=[f"{sender},{v.identifier},{v.sent_at.isoformat(timespec='seconds')}" for v in previous],
            sent_at=now,
            actor_organisation_id=actor,
        )
        session.add(alert)
        session.add(version)
        session.flush()
        view = alert_view(session, alert, self.settings.base_url, version)
        version.snapshot = view
        session.add(version)
        audit(
            session,
            f"alert.{msg_type.lower()}",
            "alert",
            alert.id,
            actor,
            version=alert.version,
            severity=alert.severity,
        )
        self.fan_out(session, alert, version, view)
        feeds.record(
            session,
            "alert",
            alert.id,
            view,
            origin_node=alert.origin_node or self.settings.node_id,
            origin_id=alert.origin_id or alert.id,
            version=alert.version,
            scope=alert.scope,
        )
        return version

    def fan_out(self, session: Session, alert: Alert, version: AlertVersion, view: dict) -> int:
        """Outbox rows for every subscription that wants this version, in this transaction."""
        event_type = EVENT_TYPES[version.msg_type]
        payload = webhook_payload(view, event_type)
        count = 0
        rows = session.exec(
            select(Subscription, Organisation)
            .join(Organisation, col(Organisation.id) == Subscription.organisation_id)
            .where(col(Subscription.active).is_(True))
        ).all()
        for subscription, organisation in rows:
            if alert.scope == "Restricted" and organisation.kind == "lab":
                continue
            if not wants(subscription.filters, view):
                continue
            if subscription.digest != "immediate":
                session.add(
                    DigestItem(
                        subscription_id=subscription.id,
                        alert_id=alert.id,
                        alert_version=version.version,
                        payload=view,
                    )
                )
                continue
            session.add(
                Delivery(
                    subscription_id=subscription.id,
                    alert_id=alert.id,
                    alert_version=version.version,
                    kind="alert",
                    channel=subscription.channel,
                    target=subscription.url or subscription.address or "",
                    event_type=event_type,
                    language=subscription.language if subscription.language in LANGUAGES else "en",
                    payload=payload,
                )
            )
            count += 1
        if count:
            outbox_changed(session)
        return count
