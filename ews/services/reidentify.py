"""Re-identification after the reference library changes (``ews library load`` / ``import``).

Every stored component is matched again against the new library. A component
whose answer changed (verdict, class, identified substance, high harm) is
stored with its new match, and each alert that rests on it follows:

- it still stands (the substance is still of concern): its facts and wording
  are made again and, when published, one CAP Update goes out at once — a
  change of legal status is news that does not wait for coalescing;
- it no longer stands (say the "new substance" is now identified as a known
  medicine): a published alert is cancelled (CAP Cancel referencing the
  versions before it), a draft is dismissed.

The chemistry runs outside any transaction; identical inputs are matched once.
Other processes pick the new library up on their own (:class:`LibraryHolder`
rebuilds when the database's library version moves on).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from alerts.rules import of_concern, sold_as_matches
from alerts.texts import withdrawal_note
from ews.audit import audit
from ews.config import Settings
from ews.db import session_scope, utcnow
from ews.models import Alert, AlertDetection, Detection, DetectionComponent
from ews.services.alerting import Alerting, evidence, substance_facts
from ews.services.identify import Identifier
from ews.services.library import LibraryHolder

log = logging.getLogger("ews.reidentify")
BATCH = 500


@dataclass
class ReidentifyReport:
    components: int = 0
    changed: int = 0
    updated_alerts: list[str] = field(default_factory=list)
    cancelled_alerts: list[str] = field(default_factory=list)
    dismissed_alerts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"re-identified {self.components} components: {self.changed} changed; "
            f"alerts updated {len(self.updated_alerts)}, cancelled {len(self.cancelled_alerts)}, "
            f"withdrawn drafts {len(self.dismissed_alerts)}"
        )


def _answer(component: DetectionComponent) -> tuple:
    return (component.verdict, component.drug_class, component.substance_id, component.high_harm)


def _apply(component: DetectionComponent, result: dict) -> None:
    identity = next((m for m in result["matches"] if m["kind"] == "identity"), None)
    component.verdict = result["verdict"]
    component.drug_class = result["class"]
    component.substance_id = identity["substance"]["id"] if identity else None
    component.substance_name = identity["substance"]["name"] if identity else None
    component.high_harm = bool(result.get("high_harm"))
    component.match = result


def _since_year(match: dict) -> int | None:
    years = [int(c["controlled_since"][:4]) for c in match.get("controls", []) if c.get("controlled_since")]
    return min(years) if years else None


def still_stands(alert: Alert, component: DetectionComponent, names: tuple[str, ...], sold_as: str | None) -> bool:
    """Whether the alert's premise survives the component's new answer."""
    if alert.rule == "unexpected_content":
        return component.verdict in ("controlled", "analog") and not (sold_as and sold_as_matches(sold_as, names))
    return of_concern(component.verdict, component.high_harm, _since_year(component.match))


def reidentify(engine: Engine, settings: Settings, today: date | None = None) -> ReidentifyReport:
    """Match every stored component again and bring the alerts resting on changed ones up to date."""
    holder = LibraryHolder(engine, check_every=0.0)
    identifier = Identifier(holder)
    alerting = Alerting(settings, holder)
    holder.require_loaded()
    report = ReidentifyReport()
    last_id = ""
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(DetectionComponent, Detection.country)
                .join(Detection, col(Detection.id) == DetectionComponent.detection_id)
                .where(col(DetectionComponent.id) > last_id)
                .order_by(col(DetectionComponent.id))
                .limit(BATCH)
            ).all()
        if not rows:
            break
        last_id = rows[-1][0].id
        changed: dict[str, dict] = {}
        for component, country in rows:
            report.components += 1
            result = identifier.identify(
                component.input_text,
                component.input_format,
                name=component.name,
                jurisdiction=country,
                as_of=today,
            )
            if "error" in result:
                continue
            before = _answer(component)
            _apply(component, result)
            if _answer(component) != before:
                changed[component.id] = result
        if changed:
            report.changed += len(changed)
            _store(engine, alerting, changed, report)
    return report


def _store(engine: Engine, alerting: Alerting, changed: dict[str, dict], report: ReidentifyReport) -> None:
    with session_scope(engine) as session:
        components = session.exec(
            select(DetectionComponent).where(col(DetectionComponent.id).in_(list(changed)))
        ).all()
        by_alert: dict[str, list[DetectionComponent]] = defaultdict(list)
        for component in components:
            _apply(component, changed[component.id])
            session.add(component)
            for (alert_id,) in session.execute(
                select(AlertDetection.alert_id).where(AlertDetection.component_id == component.id)
            ).all():
                by_alert[alert_id].append(component)
        session.flush()
        for alert_id, feeding in by_alert.items():
            alert = session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).one()
            _follow_library(session, alerting, alert, feeding[-1], report)


def _follow_library(
    session: Session, alerting: Alerting, alert: Alert, component: DetectionComponent, report: ReidentifyReport
) -> None:
    """One alert whose substance the library now answers for differently."""
    if alert.origin_node:
        return  # a peer's alert: its own node re-identifies it
    detection = session.get(Detection, component.detection_id)
    sold_as = detection.sold_as if detection else None
    stands = still_stands(alert, component, alerting.library_names(component), sold_as)
    old_verdict = alert.verdict
    alert.verdict = component.verdict
    alert.drug_class = component.drug_class
    alert.substance_id = component.substance_id
    alert.substance_name = component.substance_name
    alert.high_harm = component.high_harm
    alert.evidence = evidence(component)
    alert.facts = {**alert.facts, **substance_facts(component)}
    reason = f"reference library changed: {old_verdict} → {component.verdict}"
    alert.reasons = [*alert.reasons, reason][-20:]
    alerting.reword(alert)
    if not stands:
        alert.texts = {
            language: {
                **text,
                "description": withdrawal_note(component.verdict, component.substance_name, language)
                + " "
                + text.get("description", ""),
            }
            for language, text in alert.texts.items()
        }
        alert.description = alert.texts.get("en", {}).get("description", alert.description)
    alert.updated_at = utcnow()
    session.add(alert)
    session.flush()
    audit(session, "alert.reidentified", "alert", alert.id, None, verdict=component.verdict, stands=stands)
    if alert.status == "published":
        if stands:
            alerting.publish(session, alert, actor=None, msg_type="Update")
            report.updated_alerts.append(alert.id)
        else:
            alerting.publish(session, alert, actor=None, msg_type="Cancel")
            report.cancelled_alerts.append(alert.id)
    elif alert.status == "draft" and not stands:
        alert.status = "dismissed"
        session.add(alert)
        report.dismissed_alerts.append(alert.id)
