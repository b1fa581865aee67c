"""What analysts do with alerts: read, publish, edit, dismiss, cancel — within their remit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from alerts.rules import CERTAINTIES, SEVERITIES, URGENCIES
from alerts.texts import LANGUAGES
from ews.audit import audit
from ews.auth import Principal
from ews.db import utcnow
from ews.models import Alert, AlertVersion
from ews.problems import Problem, field_error, invalid, not_found
from ews.services.alerting import Alerting
from ews.services.detections import decode_cursor, encode_cursor


def _authority_sees(alert: Alert, principal: Principal) -> bool:
    return principal.has("authority") and (
        alert.status in ("published", "cancelled") or principal.country in alert.countries
    )


def can_read(alert: Alert, principal: Principal | None) -> bool:
    if principal is None:
        return alert.status in ("published", "cancelled") and alert.scope == "Public"
    if principal.sees_everything:
        return True
    if principal.has("authority"):
        return _authority_sees(alert, principal)
    return alert.status in ("published", "cancelled") and alert.scope == "Public"


def can_review(alert: Alert, principal: Principal) -> bool:
    return principal.sees_everything or (principal.has("authority") and principal.country in alert.countries)


def get_readable(session: Session, principal: Principal | None, alert_id: str) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not can_read(alert, principal):
        raise not_found("alert", alert_id)
    return alert


def get_reviewable(session: Session, principal: Principal, alert_id: str) -> Alert:
    alert = get_readable(session, principal, alert_id)
    if not can_review(alert, principal):
        raise Problem(
            403, "Forbidden", "only the authorities of the alert's countries, regional nodes and admins review it"
        )
    return session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).one()


@dataclass
class AlertFilter:
    status: str | None = None
    severity: str | None = None
    country: str | None = None
    drug_class: str | None = None


def search(session: Session, principal: Principal | None, filters: AlertFilter, cursor: str | None, limit: int):
    """Alerts visible to ``principal``, newest first; filtering by country happens in Python (JSON lists)."""
    query = select(Alert)
    if filters.status:
        query = query.where(Alert.status == filters.status)
    if filters.severity:
        query = query.where(Alert.severity == filters.severity)
    if filters.drug_class:
        query = query.where(Alert.drug_class == filters.drug_class)
    query = query.order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
    position = decode_cursor(cursor) if cursor else None
    page: list[Alert] = []
    batch = max(limit * 4, 100)
    while len(page) <= limit:
        window = query
        if position is not None:
            stamp, identifier = position
            window = window.where(
                or_(
                    col(Alert.created_at) < stamp, and_(col(Alert.created_at) == stamp, col(Alert.id) < identifier)
                )
            )
        rows = session.exec(window.limit(batch)).all()
        for alert in rows:
            if can_read(alert, principal) and (not filters.country or filters.country in alert.countries):
                page.append(alert)
                if len(page) > limit:
                    break
        if len(rows) < batch:
            break
        position = (rows[-1].created_at, rows[-1].id)
    next_cursor = encode_cursor(page[limit - 1]) if len(page) > limit else None
    return page[:limit], next_cursor


TEXT_FIELDS = ("headline", "description", "instruction")
GRADING_FIELDS = ("severity", "urgency", "certainty", "scope")


def edit(
    session: Session,
    alerting: Alerting,
    alert: Alert,
    principal: Principal,
    changes: dict,
    language: str = "en",
    texts: dict[str, dict] | None = None,
) -> AlertVersion | None:
    """Change an alert's wording (any number of languages) or grading in one edit.

    One edit is one version: a published alert gets exactly one CAP Update
    covering every language that changed, and none when nothing did."""
    if alert.status in ("dismissed", "cancelled"):
        raise Problem(409, "Conflict", f"the alert is {alert.status}; it can no longer be edited")
    errors = []
    for key, allowed in (
        ("severity", SEVERITIES),
        ("urgency", URGENCIES),
        ("certainty", CERTAINTIES),
        ("scope", ("Public", "Restricted")),
    ):
        if key in changes and changes[key] not in allowed:
            errors.append(field_error(key, f"one of {', '.join(allowed)}"))
    wording = {lang: dict(fields) for lang, fields in (texts or {}).items()}
    own = {k: changes[k] for k in TEXT_FIELDS if k in changes}
    if own:
        wording[language] = {**wording.get(language, {}), **own}
    for lang in wording:
        if lang not in LANGUAGES:
            errors.append(
                field_error(f"texts.{lang}" if lang != language else "language", f"one of {', '.join(LANGUAGES)}")
            )
    if errors:
        raise invalid(errors)
    all_wording = dict(alert.texts)
    changed_languages = []
    for lang, fields in wording.items():
        current = dict(all_wording.get(lang, {}))
        updated = {**current, **{k: v for k, v in fields.items() if k in TEXT_FIELDS and v is not None}}
        if updated != current:
            all_wording[lang] = updated
            changed_languages.append(lang)
    changed_grading = [k for k in GRADING_FIELDS if k in changes and getattr(alert, k) != changes[k]]
    if not changed_languages and not changed_grading:
        return None  # nothing changed: no new version
    alert.texts = all_wording
    if "en" in changed_languages:
        for key in TEXT_FIELDS:
            setattr(alert, key, all_wording["en"].get(key, getattr(alert, key)))
    for key in changed_grading:
        setattr(alert, key, changes[key])
    edited = sorted({*alert.facts.get("edited_languages", []), *changed_languages})
    alert.facts = {**alert.facts, "edited_by_analyst": True, "edited_languages": edited}
    alert.updated_at = utcnow()
    session.add(alert)
    audit(
        session,
        "alert.edit",
        "alert",
        alert.id,
        principal,
        changes=sorted(changed_grading),
        languages=sorted(changed_languages),
    )
    session.flush()
    if alert.status == "published":
        return alerting.publish(session, alert, principal.organisation_id, "Update")
    return None


def publish(session: Session, alerting: Alerting, alert: Alert, principal: Principal) -> AlertVersion:
    if alert.status == "cancelled":
        raise Problem(409, "Conflict", "a cancelled alert cannot be published again")
    return alerting.publish(session, alert, principal.organisation_id)


def dismiss(session: Session, alert: Alert, principal: Principal, reason: str | None = None) -> None:
    if alert.status != "draft":
        raise Problem(
            409, "Conflict", f"only drafts can be dismissed; this alert is {alert.status} (cancel it instead)"
        )
    alert.status = "dismissed"
    alert.updated_at = utcnow()
    if reason:
        alert.facts = {**alert.facts, "dismissed_reason": reason}
    session.add(alert)
    audit(session, "alert.dismiss", "alert", alert.id, principal, reason=reason)


def cancel(session: Session, alerting: Alerting, alert: Alert, principal: Principal) -> AlertVersion:
    if alert.status != "published":
        raise Problem(409, "Conflict", f"only published alerts can be cancelled; this alert is {alert.status}")
    return alerting.publish(session, alert, principal.organisation_id, "Cancel")


def edit_languages(
    session: Session,
    alerting: Alerting,
    alert: Alert,
    principal: Principal,
    texts: dict[str, dict[str, str]],
    grading: dict[str, str],
) -> AlertVersion | None:
    """Several languages and the grading in one edit: one new version (one CAP Update) when published.

    ``texts`` is ``{language: {headline, description, instruction}}``; only what
    differs from the alert counts as a change, and no change sends nothing.
    """
    if alert.status in ("dismissed", "cancelled"):
        raise Problem(409, "Conflict", f"the alert is {alert.status}; it can no longer be edited")
    errors = [field_error("language", f"one of {', '.join(LANGUAGES)}") for lang in texts if lang not in LANGUAGES]
    for key, allowed in (
        ("severity", SEVERITIES),
        ("urgency", URGENCIES),
        ("certainty", CERTAINTIES),
        ("scope", ("Public", "Restricted")),
    ):
        if key in grading and grading[key] not in allowed:
            errors.append(field_error(key, f"one of {', '.join(allowed)}"))
    if errors:
        raise invalid(errors)
    changed = [k for k, v in grading.items() if getattr(alert, k) != v]
    merged = dict(alert.texts)
    for language, fields in texts.items():
        own = dict(merged.get(language, {}))
        for key in ("headline", "description", "instruction"):
            if key in fields and fields[key] != own.get(key):
                own[key] = fields[key]
                changed.append(f"{key}.{language}")
        merged[language] = own
    if not changed:
        return None
    alert.texts = merged
    for key in ("headline", "description", "instruction"):
        if key in merged.get("en", {}):
            setattr(alert, key, merged["en"][key])
    for key, value in grading.items():
        setattr(alert, key, value)
    alert.facts = {**alert.facts, "edited_by_analyst": True}
    alert.updated_at = utcnow()
    session.add(alert)
    audit(session, "alert.edit", "alert", alert.id, principal, changes=changed)
    session.flush()
    if alert.status == "published":
        return alerting.publish(session, alert, principal.organisation_id, "Update")
    return None
