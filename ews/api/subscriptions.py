"""Subscriptions (email, signed webhooks) and their deliveries."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from alerts.subscriptions import normalize_filters
from alerts.urlguard import UnsafeTarget, check_url
from ews.api import answers
from ews.api.answers import answer
from ews.api.deps import Node, node, principal, session
from ews.audit import audit
from ews.auth import Principal
from ews.db import session_scope, utcnow
from ews.events import outbox_changed
from ews.keyring import keyring_for
from ews.models import Delivery, Subscription
from ews.problems import Problem, field_error, invalid, not_found
from ews.services.digests import next_digest_at

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["webhook", "email"]
    url: str | None = Field(default=None, max_length=2000)
    address: str | None = Field(default=None, max_length=320)
    filters: dict = Field(default_factory=dict, description="countries, regions, min_severity, classes")
    language: Literal["en", "es", "pt", "fr"] = "en"
    digest: Literal["immediate", "daily", "weekly"] = "immediate"


def _view(subscription: Subscription) -> dict:
    return {
        "id": subscription.id,
        "channel": subscription.channel,
        "url": subscription.url,
        "address": subscription.address,
        "filters": subscription.filters,
        "language": subscription.language,
        "digest": subscription.digest,
        "active": subscription.active,
        "disabled_reason": subscription.disabled_reason,
        "failing_since": subscription.failing_since.isoformat() if subscription.failing_since else None,
        "next_digest_at": subscription.next_digest_at.isoformat() if subscription.next_digest_at else None,
        "created_at": subscription.created_at.isoformat(),
    }


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe to alerts by webhook or e-mail",
    responses=answer(answers.NewSubscription, 201),
)
def create_subscription(
    payload: SubscriptionIn, caller: Principal = Depends(principal), state: Node = Depends(node)
):
    errors = []
    try:
        filters = normalize_filters(payload.filters)
    except ValueError as error:
        errors.append(field_error("filters", str(error)))
        filters = {}
    secret = None
    if payload.channel == "webhook":
        if not payload.url:
            errors.append(field_error("url", "a webhook subscription needs an https URL"))
        else:
            try:
                check_url(payload.url, state.settings.allow_loopback_webhooks)
            except UnsafeTarget as refused:
                errors.append(field_error("url", str(refused).removeprefix("url: ")))
        secret = new_secret()
    else:
        if not payload.address or not EMAIL.match(payload.address):
            errors.append(field_error("address", "an e-mail subscription needs a valid address"))
        if not state.settings.smtp_url:
            errors.append(field_error("channel", "e-mail delivery is not configured on this node (EWS_SMTP_URL)"))
    if errors:
        raise invalid(errors)
    with session_scope(state.engine) as db:
        subscription = Subscription(
            organisation_id=caller.organisation_id,
            channel=payload.channel,
            url=payload.url if payload.channel == "webhook" else None,
            address=payload.address if payload.channel == "email" else None,
            secret=keyring_for(state.engine).encrypt(secret) if secret else None,
            filters=filters,
            language=payload.language,
            digest=payload.digest,
            next_digest_at=next_digest_at(payload.digest, utcnow()),
        )
        db.add(subscription)
        db.flush()
        audit(db, "subscription.create", "subscription", subscription.id, caller, channel=payload.channel)
        body = _view(subscription)
    if secret:
        body["secret"] = secret  # shown once
    return JSONResponse(body, status_code=201)


def _own(db: Session, caller: Principal, subscription_id: str) -> Subscription:
    subscription = db.get(Subscription, subscription_id)
    if subscription is None or subscription.organisation_id != caller.organisation_id:
        raise not_found("subscription", subscription_id)
    return subscription


@router.get(
    "/subscriptions", summary="This organisation's subscriptions", responses=answer(answers.SubscriptionList)
)
def list_subscriptions(caller: Principal = Depends(principal), db: Session = Depends(session)):
    rows = db.exec(select(Subscription).where(Subscription.organisation_id == caller.organisation_id)).all()
    return {"items": [_view(s) for s in rows]}


@router.get("/subscriptions/{subscription_id}", summary="One subscription", responses=answer(answers.Subscription))
def get_subscription(subscription_id: str, caller: Principal = Depends(principal), db: Session = Depends(session)):
    return _view(_own(db, caller, subscription_id))


@router.delete(
    "/subscriptions/{subscription_id}", summary="Stop a subscription", responses=answer(answers.Subscription)
)
def delete_subscription(subscription_id: str, caller: Principal = Depends(principal), state: Node = Depends(node)):
    with session_scope(state.engine) as db:
        subscription = _own(db, caller, subscription_id)
        subscription.active = False
        subscription.disabled_reason = "stopped by its owner"
        db.add(subscription)
        return _view(subscription)


@router.post(
    "/subscriptions/{subscription_id}:enable",
    summary="Enable a stopped or disabled subscription again",
    responses=answer(answers.Subscription),
)
def enable_subscription(subscription_id: str, caller: Principal = Depends(principal), state: Node = Depends(node)):
    with session_scope(state.engine) as db:
        subscription = _own(db, caller, subscription_id)
        if subscription.url:
            try:
                check_url(subscription.url, state.settings.allow_loopback_webhooks)
            except UnsafeTarget as refused:
                raise invalid([field_error("url", str(refused))]) from None
        subscription.active = True
        subscription.disabled_reason = None
        subscription.failing_since = None
        db.add(subscription)
        return _view(subscription)


def _delivery_view(delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "alert_id": delivery.alert_id,
        "alert_version": delivery.alert_version,
        "kind": delivery.kind,
        "channel": delivery.channel,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


@router.get(
    "/deliveries",
    summary="Deliveries to this organisation's subscriptions",
    responses=answer(answers.DeliveryList),
)
def list_deliveries(
    subscription_id: str | None = None,
    status: Literal["pending", "delivered", "failed", "cancelled"] | None = None,
    limit: int = Query(default=100, ge=1, le=500),
    caller: Principal = Depends(principal),
    db: Session = Depends(session),
):
    query = (
        select(Delivery)
        .join(Subscription, col(Subscription.id) == Delivery.subscription_id)
        .where(Subscription.organisation_id == caller.organisation_id)
    )
    if subscription_id:
        query = query.where(Delivery.subscription_id == subscription_id)
    if status:
        query = query.where(Delivery.status == status)
    rows = db.exec(query.order_by(col(Delivery.created_at).desc()).limit(limit)).all()
    return {"items": [_delivery_view(d) for d in rows]}


@router.post(
    "/deliveries/{delivery_id}:replay",
    summary="Send a delivery again (same webhook-id)",
    responses=answer(answers.Delivery),
)
def replay_delivery(delivery_id: str, caller: Principal = Depends(principal), state: Node = Depends(node)):
    with session_scope(state.engine) as db:
        delivery = db.get(Delivery, delivery_id)
        subscription = (
            db.get(Subscription, delivery.subscription_id) if delivery and delivery.subscription_id else None
        )
        if delivery is None or subscription is None or subscription.organisation_id != caller.organisation_id:
            raise not_found("delivery", delivery_id)
        if not subscription.active:
            raise Problem(409, "Conflict", "the subscription is not active; enable it first")
        delivery.status = "pending"
        delivery.next_attempt_at = utcnow()
        delivery.attempts = 0
        delivery.lease_owner = None
        delivery.lease_until = None
        db.add(delivery)
        audit(db, "delivery.replay", "delivery", delivery.id, caller)
        outbox_changed(db)
        return _delivery_view(delivery)
