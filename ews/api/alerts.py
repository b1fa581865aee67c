"""Alerts: read, review (publish, edit, dismiss, cancel), and CAP 1.2."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from alerts.cap import CAP_MEDIA_TYPE, to_cap_xml
from alerts.rules import SEVERITIES
from chem.classes import CLASSES
from ews.api import answers
from ews.api.answers import answer
from ews.api.deps import Node, node, optional_principal, require, session
from ews.api.filters import reject_unknown_query
from ews.auth import Principal
from ews.models import ALERT_STATUSES, Alert, AlertVersion
from ews.openapi import body_as
from ews.problems import Problem, field_error, invalid
from ews.schemas import country_code
from ews.services import review
from ews.services.alert_views import alert_view, version_item

router = APIRouter(prefix="/api/v1", tags=["alerts"])
REVIEWERS = ("authority", "regional", "admin")


class AlertText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str | None = Field(default=None, min_length=3, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    instruction: str | None = Field(default=None, max_length=4_000)


class AlertEdit(BaseModel):
    """One edit: grading, and the wording of one language (``language`` + fields) and/or of
    several (``texts``: ``{"es": {"headline": …}, "fr": {…}}``). One edit is one version."""

    model_config = ConfigDict(extra="forbid")
    language: Literal["en", "es", "pt", "fr"] = "en"
    texts: dict[Literal["en", "es", "pt", "fr"], AlertText] | None = None
    headline: str | None = Field(default=None, min_length=3, max_length=400)
    description: str | None = Field(default=None, max_length=10_000)
    instruction: str | None = Field(default=None, max_length=4_000)
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"] | None = None
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"] | None = None
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"] | None = None
    scope: Literal["Public", "Restricted"] | None = None


def _latest_version(db: Session, alert: Alert) -> AlertVersion | None:
    return db.exec(
        select(AlertVersion).where(AlertVersion.alert_id == alert.id).order_by(col(AlertVersion.version).desc())
    ).first()


def _view(db: Session, alert: Alert, state: Node) -> dict:
    return alert_view(db, alert, state.settings.base_url, _latest_version(db, alert))


@router.get(
    "/alerts",
    summary="Alerts visible to this key, newest first",
    dependencies=[Depends(reject_unknown_query)],
    responses=answer(answers.AlertPage),
)
def list_alerts(
    status: str | None = None,
    severity: str | None = None,
    country: str | None = None,
    drug_class: Annotated[str | None, Query(alias="class")] = None,
    cursor: str | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    caller: Principal = Depends(require("lab", *REVIEWERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    errors = []
    if status and status not in ALERT_STATUSES:
        errors.append(field_error("status", f"{status!r} is not a status; accepted: {', '.join(ALERT_STATUSES)}"))
    if severity and severity not in SEVERITIES:
        errors.append(
            field_error("severity", f"{severity!r} is not a severity; accepted: {', '.join(SEVERITIES)}")
        )
    if drug_class and drug_class not in CLASSES:
        errors.append(
            field_error("class", f"{drug_class!r} is not a class; accepted: {', '.join(sorted(CLASSES))}")
        )
    if country:
        try:
            country = country_code(country)
        except ValueError as error:
            errors.append(field_error("country", str(error)))
    if errors:
        raise invalid(errors)
    page, next_cursor = review.search(
        db, caller, review.AlertFilter(status, severity, country, drug_class), cursor, limit
    )
    return {"items": [_view(db, a, state) for a in page], "next_cursor": next_cursor}


@router.get(
    "/alerts/{alert_id}.cap",
    summary="The alert's latest published version as an OASIS CAP 1.2 message",
    response_class=Response,
    responses=body_as(CAP_MEDIA_TYPE),
)
def get_alert_cap(
    alert_id: str,
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    alert = review.get_readable(db, caller, alert_id)
    version = _latest_version(db, alert)
    if version is None:
        raise Problem(404, "Not found", "the alert has not been published; CAP exists only for published versions")
    xml = to_cap_xml(version.snapshot, sender=state.settings.node_id)
    return Response(xml, media_type=CAP_MEDIA_TYPE)


@router.get(
    "/alerts/{alert_id}/versions/{number}.cap",
    summary="One published version as CAP 1.2 (a superseded one too; the current one is at /alerts/{id}.cap)",
    response_class=Response,
    responses=body_as(CAP_MEDIA_TYPE),
)
def get_version_cap(
    alert_id: str,
    number: int,
    caller: Principal | None = Depends(optional_principal),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    alert = review.get_readable(db, caller, alert_id)
    version = db.exec(
        select(AlertVersion).where(AlertVersion.alert_id == alert.id, AlertVersion.version == number)
    ).first()
    if version is None:
        raise Problem(404, "Not found", f"the alert has no published version {number}")
    return Response(to_cap_xml(version.snapshot, sender=state.settings.node_id), media_type=CAP_MEDIA_TYPE)


@router.get("/alerts/{alert_id}", summary="One alert", responses=answer(answers.Alert))
def get_alert(
    alert_id: str,
    caller: Principal = Depends(require("lab", *REVIEWERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    return _view(db, review.get_readable(db, caller, alert_id), state)


@router.get(
    "/alerts/{alert_id}/versions",
    summary="Every published version (CAP Alert, Update, Cancel)",
    responses=answer(answers.AlertVersions),
)
def list_versions(
    alert_id: str,
    caller: Principal = Depends(require("lab", *REVIEWERS)),
    db: Session = Depends(session),
    state: Node = Depends(node),
):
    alert = review.get_readable(db, caller, alert_id)
    versions = db.exec(
        select(AlertVersion).where(AlertVersion.alert_id == alert.id).order_by(col(AlertVersion.version))
    ).all()
    current = versions[-1].version if versions else 0
    return {"items": [version_item(v, current, state.settings.base_url) for v in versions]}


def _action(alert_id: str, caller: Principal, state: Node, act) -> dict:
    from ews.db import session_scope

    with session_scope(state.engine) as db:
        alert = review.get_reviewable(db, caller, alert_id)
        act(db, alert)
        db.flush()
        return _view(db, alert, state)


@router.post(
    "/alerts/{alert_id}:publish",
    summary="Publish a draft (or re-publish a dismissed alert)",
    responses=answer(answers.Alert),
)
def publish_alert(alert_id: str, caller: Principal = Depends(require(*REVIEWERS)), state: Node = Depends(node)):
    return _action(alert_id, caller, state, lambda db, a: review.publish(db, state.alerting, a, caller))


@router.post("/alerts/{alert_id}:dismiss", summary="Dismiss a draft", responses=answer(answers.Alert))
def dismiss_alert(alert_id: str, caller: Principal = Depends(require(*REVIEWERS)), state: Node = Depends(node)):
    return _action(alert_id, caller, state, lambda db, a: review.dismiss(db, a, caller))


@router.post(
    "/alerts/{alert_id}:cancel", summary="Cancel a published alert (CAP Cancel)", responses=answer(answers.Alert)
)
def cancel_alert(alert_id: str, caller: Principal = Depends(require(*REVIEWERS)), state: Node = Depends(node)):
    return _action(alert_id, caller, state, lambda db, a: review.cancel(db, state.alerting, a, caller))


@router.patch(
    "/alerts/{alert_id}",
    summary="Edit wording or grading; a published alert gets a CAP Update",
    responses=answer(answers.Alert),
)
def edit_alert(
    alert_id: str,
    payload: AlertEdit,
    caller: Principal = Depends(require(*REVIEWERS)),
    state: Node = Depends(node),
):
    changes = payload.model_dump(exclude_none=True, exclude={"language", "texts"})
    texts: dict[str, dict] = {
        lang: text.model_dump(exclude_none=True)
        for lang, text in (payload.texts or {}).items()
        if text.model_dump(exclude_none=True)
    }
    if not changes and not texts:
        raise invalid([field_error("body", "nothing to change")])
    return _action(
        alert_id,
        caller,
        state,
        lambda db, a: review.edit(db, state.alerting, a, caller, changes, payload.language, texts),
    )
