"""E-mail through the whole pipeline: detection, alert, outbox, dispatcher, a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ews.db import engine_for, session_scope, utcnow
from ews.models import Organisation, Subscription
from ews.scheduler import start_scheduler
from tests.alerts.test_email import html_of, smtp_server, text_of
from tests.ews.test_alerts import NEW_NITAZENE, report, subscribe
from tests.support import WebhookReceiver, wait_for


@pytest.fixture
def mail(settings):
    with smtp_server() as (port, mailbox):
        settings.smtp_url = f"smtp://127.0.0.1:{port}"
        settings.dispatch_interval = 0.2
        yield mailbox


def test_an_email_subscriber_gets_the_alert_in_spanish_with_the_structure(client, actors, settings, mail):
    response = client.post(
        "/api/v1/subscriptions",
        json={
            "channel": "email",
            "address": "sat@observatorio.gov.co",
            "language": "es",
            "filters": {"countries": ["CO"]},
        },
        headers=actors["authority_co"].headers,
    )
    assert response.status_code == 201, response.text
    runner = start_scheduler(settings)
    try:
        report(client, actors["lab_co"], NEW_NITAZENE, "MAIL-1")
        (message,) = wait_for(lambda: mail.messages())
    finally:
        runner.shutdown(wait=False)
    assert message["To"] == "sat@observatorio.gov.co"
    assert "Extrema" in message["Subject"] and "Nueva sustancia" in message["Subject"]
    assert "Nueva sustancia detectada" in text_of(message)
    html = html_of(message)
    assert "cid:" in html
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert images and images[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "PRIVATE" not in message.as_string()


def test_email_subscriptions_need_smtp_configured(client, actors, settings):
    settings.smtp_url = None
    response = client.post(
        "/api/v1/subscriptions",
        json={"channel": "email", "address": "a@b.org"},
        headers=actors["regional"].headers,
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "channel"


def test_the_owner_is_emailed_when_a_failing_endpoint_is_disabled(client, actors, settings, mail):
    with session_scope(engine_for(settings.database_url)) as session:
        organisation = session.get(Organisation, actors["regional"].organisation_id)
        organisation.contact_email = "ops@cicad.example.org"
        session.add(organisation)
    with WebhookReceiver() as receiver:
        receiver.behaviour["/down"] = [503]
        sub = subscribe(client, actors["regional"], receiver.url("/down"))
        with session_scope(engine_for(settings.database_url)) as session:
            subscription = session.get(Subscription, sub["id"])
            subscription.failing_since = utcnow() - timedelta(days=5, hours=1)
            session.add(subscription)
        runner = start_scheduler(settings)
        try:
            report(client, actors["lab_co"], NEW_NITAZENE, "MAIL-2")
            (notice,) = wait_for(lambda: mail.messages())
        finally:
            runner.shutdown(wait=False)
    assert notice["To"] == "ops@cicad.example.org"
    assert receiver.url("/down") in text_of(notice) or "/down" in text_of(notice)
