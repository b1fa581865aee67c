"""Alerts from detections: rules, one alert per substance and place, versions, and the outbox.

Runs inside the transaction that stores a detection, so a detection, its
alerts and their delivery rows commit together or not at all (the outbox).
How an alert looks outside (views, payloads) is :mod:`ews.services.alert_views`.

An alert follows its facts: when a country or region joins it, or its count of
detections doubles since the last version, its wording is made again and a
CAP Update is *scheduled* (``Alert.update_due_at``), at most one per alert per
``alert_update_interval`` seconds; :func:`send_due_updates` sends the due ones.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Engine, bindparam, func
from sqlalchemy import select as sa_select
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
from ews.db import session_scope, utcnow
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
from ews.services.alert_views import (  # noqa: F401 - re-exported: callers import views from here
    EVENT_TYPES,
    alert_detections,
    alert_view,
    webhook_payload,
)
from ews.services.library import LibraryHolder

UNKNOWN_SOLD_AS = {"unknown", "desconocido", "desconhecido", "inconnu", "?", "n/a", "none"}
URGENCY_RANK = {"Immediate": 0, "Expected": 1, "Future": 2, "Past": 3, "Unknown": 4}
MAX_REPORTED_NAMES = 10
SETTLE_SECONDS = 10.0  # a material change waits this long (or the interval, if shorter) for others to join it


# --- facts from history -----------------------------------------------------------------------


def _others():
    """The other components of the substance (bound parameters ``skeleton``, ``detection_id``), read
    off ``ix_component_substance_place`` alone."""
    return select(DetectionComponent.id).where(
        DetectionComponent.skeleton_key == bindparam("skeleton"),
        col(DetectionComponent.detection_id) != bindparam("detection_id"),
    )


def _recent_in_region(regional: bool):
    """The number of detections of the substance in a region within the window (a query; bound
    parameters ``skeleton``, ``country``, ``region`` when ``regional`` (else the region is none) and
    ``start``). A range of ``ix_component_substance_place``: the components keep their detection's
    place and day (seized on, else reported), so the count does not visit the country's detections."""
    component = DetectionComponent
    region = (
        col(component.detection_region) == bindparam("region")
        if regional
        else col(component.detection_region).is_(None)
    )
    return select(func.count(func.distinct(component.detection_id))).where(
        component.skeleton_key == bindparam("skeleton"),
        col(component.detection_country) == bindparam("country"),
        region,
        col(component.seen_on) >= bindparam("start"),
    )


@cache
def _history_statement(regional: bool):
    """history()'s query, built once per process: building a statement of this size costs more CPU
    than running it."""
    others = _others()
    return sa_select(
        others.exists(),
        others.where(col(DetectionComponent.detection_country) == bindparam("country")).exists(),
        _recent_in_region(regional).scalar_subquery(),
    )


def history(session: Session, skeleton: str, detection: Detection, window_days: int) -> tuple[bool, bool, int]:
    """What the network has seen of a substance besides this detection, in one round trip:
    (first in the network, first in the detection's country, detections in its region within the window)."""
    reference = detection.seized_on or detection.created_at.date()
    start = reference - timedelta(days=window_days)
    parameters = {
        "skeleton": skeleton,
        "detection_id": detection.id,
        "country": detection.country,
        "start": start,
    }
    if detection.region is not None:
        parameters["region"] = detection.region
    statement = _history_statement(detection.region is not None)
    seen, seen_in_country, recent = session.connection().execute(statement, parameters).one()
    return not seen, not seen_in_country, int(recent or 0)


@cache
def _alert_for_update():
    """The alert of a dedup key (bound parameter ``key``), its row locked."""
    return select(Alert).where(Alert.dedup_key == bindparam("key")).with_for_update()


def alert_for_update(session: Session, key: str) -> Alert | None:
    """The alert of this dedup key, its row locked for this transaction; None when there is none."""
    return session.exec(_alert_for_update(), params={"key": key}).first()


@cache
def _link_statement(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = AlertDetection.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .values(
            {
                name: bindparam(name)
                for name in ("alert_id", "component_id", "detection_id", "country", "region", "created_at")
            }
        )
        .on_conflict_do_nothing(index_elements=["alert_id", "component_id"])
        .returning(table.c.alert_id)
    )


def _controlled_since_year(match: dict) -> int | None:
    years = [int(c["controlled_since"][:4]) for c in match.get("controls", []) if c.get("controlled_since")]
    return min(years) if years else None


def _sold_as(detection: Detection) -> str | None:
    if not detection.sold_as or detection.sold_as.strip().lower() in UNKNOWN_SOLD_AS:
        return None
    return detection.sold_as


def _add_place(alert: Alert, detection: Detection) -> tuple[bool, bool]:
    """Add the detection's country and region to the alert: (the country is new, the region is new)."""
    new_country = detection.country not in alert.countries
    if new_country:
        alert.countries = sorted({*alert.countries, detection.country})
    region = {"country": detection.country, "region": detection.region}
    new_region = bool(detection.region) and region not in alert.regions
    if new_region:
        alert.regions = [*alert.regions, region]
    return new_country, new_region


def _earliest(first: str | None, seized_on: date | None) -> str | None:
    """The earlier of an ISO date and a seizure date: an alert is first seen at its earliest seizure."""
    if seized_on is None:
        return first
    return min(first, seized_on.isoformat()) if first else seized_on.isoformat()


def _reported(names: list[str], component: DetectionComponent) -> list[str]:
    """What labs called the substance: evidence quoted in the description, never a headline."""
    typed = (component.name or "").strip()
    if not typed or typed in names or len(names) >= MAX_REPORTED_NAMES:
        return names
    return [*names, typed[:300]]


def doubled(count: int, published_count: int) -> bool:
    """A material change of the count: it has at least doubled since the last version went out.

    >>> [doubled(n, 1) for n in (1, 2, 3)], [doubled(n, 5) for n in (9, 10)]
    ([False, True, True], [False, True])
    """
    return count >= 2 * max(published_count, 1)


def substance_facts(component: DetectionComponent) -> dict:
    """What the library says of a component, for the wording: its name there (none when new),
    formula, class, verdict, the nearest listed substance or family, and its controls."""
    match = component.match
    nearest = next((m["substance"]["name"] for m in match.get("matches", []) if m["kind"] == "similarity"), None)
    family = next((m["substance"]["name"] for m in match.get("matches", []) if m["kind"] == "family"), None)
    controls = "; ".join(
        f"{c['jurisdiction']} {c['instrument']} {c['schedule']}".strip() for c in match.get("controls", [])
    )
    return {
        "substance_name": component.substance_name if component.substance_id else None,
        "formula": component.formula,
        "drug_class": component.drug_class,
        "verdict": component.verdict,
        "nearest": nearest,
        "family": family,
        "controls": controls,
    }


def evidence(component: DetectionComponent) -> dict:
    """The match behind an alert, trimmed: verdict, class, controls, matches, standardized identity."""
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


# --- the alerting listener --------------------------------------------------------------------


class Alerting:
    """Runs the rules on every stored detection (a detection listener) and keeps alerts current."""

    def __init__(self, settings: Settings, library: LibraryHolder) -> None:
        self.settings = settings
        self.library = library
        self.cluster = ClusterPolicy(settings.cluster_threshold, settings.cluster_window_days)

    # detection listener
    def __call__(self, session: Session, detection: Detection, components: list[DetectionComponent]) -> None:
        if not self.library.loaded:
            return  # a match made without a library says nothing worth an alert
        for component in components:
            facts = self.facts(session, detection, component)
            triggers = evaluate(facts, self.cluster)
            for trigger in triggers:
                self.raise_alert(session, trigger, facts, detection, component)
            network_key = f"new:{component.skeleton_key}"
            if component.verdict in ("analog", "no_match") and all(t.key != network_key for t in triggers):
                self._follow_up(session, network_key, detection, component)

    def _follow_up(self, session: Session, key: str, detection: Detection, component: DetectionComponent) -> None:
        """A later detection of a substance that has a network alert: counted and placed; the
        alert's wording follows, and a CAP Update is scheduled when the change is material."""
        alert = alert_for_update(session, key)
        if alert is None or not self.link(session, alert, detection, component):
            return
        self.follow(session, alert, detection, component, linked=True, escalated=False)

    def library_names(self, component: DetectionComponent) -> tuple[str, ...]:
        """The library's names of the component's substance (what the lab typed is not a name we vouch for)."""
        names = [component.substance_name or ""]
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
            first_in_network, first_in_country, recent = history(
                session, skeleton, detection, self.cluster.window_days
            )
        sold_as = _sold_as(detection)
        names = self.library_names(component)
        return ComponentFacts(
            verdict=component.verdict,
            drug_class=component.drug_class,
            high_harm=component.high_harm,
            skeleton_key=skeleton,
            substance_name=component.substance_name or component.formula,
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
        """What an alert's wording is made from: library names, places, counts — lab text only as quotes."""
        region = {"country": detection.country, "region": detection.region} if detection.region else None
        return {
            **substance_facts(component),
            "country": detection.country,
            "region": detection.region,
            "countries": countries,
            "regions": [region] if region else [],
            "first_seen": _earliest(None, detection.seized_on),
            "detection_count": count,
            "reported_as": _reported([], component),
            "sold_as": [facts.sold_as] if facts.sold_as else [],
            "window_days": self.cluster.window_days,
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
        existing = alert_for_update(session, trigger.key)
        if existing is not None:
            linked = self.link(session, existing, detection, component)
            self._merge(session, existing, trigger, detection, component, linked)
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
            "substance_name": component.substance_name,
            "inchikey": component.inchikey,
            "smiles": component.std_smiles,
            "high_harm": facts.high_harm,
            "countries": [detection.country],
            "regions": [region] if region else [],
            "evidence": evidence(component),
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
        alert = session.exec(_alert_for_update(), params={"key": trigger.key}).one()
        created = alert.id == values["id"]
        linked = self.link(session, alert, detection, component)
        if created:
            alert.detection_count = 1
            session.add(alert)
            session.flush()
            if trigger.publishes_at_once:
                self.publish(session, alert, actor=None)
            return alert
        self._merge(session, alert, trigger, detection, component, linked)
        return alert

    def link(self, session: Session, alert: Alert, detection: Detection, component: DetectionComponent) -> bool:
        """Record that the component fed the alert; False when it already had."""
        result = session.connection().execute(
            _link_statement(session.get_bind().dialect.name),
            {
                "alert_id": alert.id,
                "component_id": component.id,
                "detection_id": detection.id,
                "country": detection.country,
                "region": detection.region,
                "created_at": utcnow(),
            },
        )
        return result.first() is not None  # a row comes back only when it was inserted

    def _merge(
        self,
        session: Session,
        alert: Alert,
        trigger: Trigger,
        detection: Detection,
        component: DetectionComponent,
        linked: bool,
    ) -> None:
        """A repeated trigger: severity, urgency and reasons move; then the alert follows its facts."""
        escalated = severity_rank(trigger.severity) < severity_rank(alert.severity)
        if escalated:
            alert.severity = trigger.severity
        if URGENCY_RANK.get(trigger.urgency, 4) < URGENCY_RANK.get(alert.urgency, 4):
            alert.urgency = trigger.urgency
        if trigger.certainty == "Observed":
            alert.certainty = "Observed"
        for reason in trigger.reasons:
            if reason not in alert.reasons:
                alert.reasons = [*alert.reasons, reason][-20:]
        self.follow(session, alert, detection, component, linked, escalated)
        if alert.status == "draft" and trigger.publishes_at_once:
            self.publish(session, alert, actor=None)

    def follow(
        self,
        session: Session,
        alert: Alert,
        detection: Detection,
        component: DetectionComponent,
        linked: bool,
        escalated: bool,
    ) -> bool:
        """Count and place a detection, remake the wording, and schedule a CAP Update when the
        change is material (a new country or region, the count doubled, a higher severity)."""
        if linked:
            alert.detection_count += 1
        new_country, new_region = _add_place(alert, detection)
        published_count = int(alert.facts.get("published_count") or alert.detection_count or 1)
        material = (
            new_country or new_region or escalated or (linked and doubled(alert.detection_count, published_count))
        )
        alert.facts = {
            **alert.facts,
            "detection_count": alert.detection_count,
            "countries": alert.countries,
            "regions": alert.regions,
            "first_seen": _earliest(alert.facts.get("first_seen"), detection.seized_on),
            "reported_as": _reported(list(alert.facts.get("reported_as") or []), component),
        }
        if alert.rule == "unexpected_content" and detection.sold_as:
            sold = list(alert.facts.get("sold_as") or [])
            if detection.sold_as not in sold and len(sold) < MAX_REPORTED_NAMES:
                alert.facts = {**alert.facts, "sold_as": [*sold, detection.sold_as[:200]]}
        self.reword(alert)
        alert.updated_at = utcnow()
        session.add(alert)
        session.flush()
        if material and alert.status == "published" and not alert.origin_node:
            self.schedule_update(session, alert)
        return material

    @staticmethod
    def reword(alert: Alert) -> None:
        """Make the alert's wording again from its facts, unless an analyst wrote it or a peer owns it."""
        if alert.origin_node or alert.facts.get("edited_by_analyst"):
            return
        alert.texts = all_texts(alert.rule, alert.facts)
        english = alert.texts["en"]
        alert.event, alert.headline = english["event"], english["headline"]
        alert.description, alert.instruction = english["description"], english["instruction"]

    def schedule_update(self, session: Session, alert: Alert, now: datetime | None = None) -> datetime:
        """Ask for one CAP Update: after a short settling time (a burst arriving together
        travels as one), and never sooner than the interval after the last version. Changes
        made before then ride along in the same Update."""
        now = now or utcnow()
        if alert.update_due_at is not None:
            return alert.update_due_at
        last_sent = session.exec(
            select(func.max(AlertVersion.sent_at)).where(AlertVersion.alert_id == alert.id)
        ).one()
        interval = timedelta(seconds=self.settings.alert_update_interval)
        settled = now + min(interval, timedelta(seconds=SETTLE_SECONDS))
        alert.update_due_at = max(settled, last_sent + interval) if last_sent else settled
        session.add(alert)
        return alert.update_due_at

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
        alert.update_due_at = None  # this version carries every change made so far
        alert.facts = {**alert.facts, "published_count": alert.detection_count}
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


# --- coalesced updates ------------------------------------------------------------------------


def send_due_updates(engine: Engine, alerting: Alerting, now: datetime | None = None, batch: int = 100) -> int:
    """Publish the CAP Updates that are due: one per alert, whatever number of changes it gathered.

    Any number of workers may run this: an alert is claimed with ``FOR UPDATE SKIP
    LOCKED`` and its due time cleared in the same transaction that writes the
    version and its outbox rows, so exactly one of them sends it.
    """
    now = now or utcnow()
    with session_scope(engine) as session:
        due = session.exec(
            select(Alert)
            .where(col(Alert.update_due_at).is_not(None), col(Alert.update_due_at) <= now)
            .order_by(col(Alert.update_due_at))
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for alert in due:
            if alert.status != "published":
                alert.update_due_at = None  # cancelled or withdrawn meanwhile: nothing to update
                session.add(alert)
                continue
            alerting.publish(session, alert, actor=None, msg_type="Update")
        return sum(1 for a in due if a.status == "published")
