"""Alerts from detections, analyst review, and delivery by signed webhooks — real servers, both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select
from standardwebhooks import Webhook

from ews.db import engine_for, session_scope, utcnow
from ews.models import Alert, AlertVersion, Delivery, DigestItem, Subscription
from ews.scheduler import start_scheduler
from ews.services.digests import run_digests
from tests.support import WebhookReceiver, wait_for

# A nitazene nobody has listed: 4-pentyloxybenzyl, piperidinylethyl (high-harm family, not in any schedule)
NEW_NITAZENE = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"
NEW_CATHINONE = "CCCCC(NCC)C(=O)c1ccc(OC)c(F)c1"  # 3-fluoro-4-methoxy-N-ethylhexedrone, unlisted
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"
COCAINE = "COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1N2C"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


def report(
    client, actor, smiles, ref, country="CO", region="Antioquia", sold_as=None, name=None, seized="2026-11-20"
):
    body = {
        "external_ref": ref,
        "sample": {
            "form": "powder",
            "seized_on": seized,
            "country": country,
            "region": region,
            "sold_as": sold_as,
        },
        "components": [{"smiles": s, "name": name} for s in (smiles if isinstance(smiles, list) else [smiles])],
        "case_ref": "PRIVATE-CASE",
        "notes": "PRIVATE-NOTES",
    }
    response = client.post("/api/v1/detections", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def subscribe(client, actor, url, **extra):
    response = client.post(
        "/api/v1/subscriptions", json={"channel": "webhook", "url": url, **extra}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["secret"].startswith("whsec_")
    return body


def alerts(url: str) -> list[Alert]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(Alert).order_by(Alert.created_at)).all())


@pytest.fixture
def worker(settings):
    settings.dispatch_interval = 0.2
    runner = start_scheduler(settings)
    yield runner
    runner.shutdown(wait=False)


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def verified(request: dict, secret: str) -> dict:
    return Webhook(secret).verify(request["body"], request["headers"])


def test_an_extreme_new_analog_is_published_at_once_and_delivered_signed(
    client, actors, settings, receiver, worker
):
    sub = subscribe(client, actors["authority_co"], receiver.url())
    report(client, actors["lab_co"], NEW_NITAZENE, "NIT-1", name="unknown nitazene")
    (request,) = wait_for(lambda: receiver.received("/hook"))
    payload = verified(request, sub["secret"])
    assert payload["type"] == "alert.published"
    data = payload["data"]
    assert (data["severity"], data["urgency"], data["rule"]) == ("Extreme", "Immediate", "new_substance")
    assert data["substance"]["class"] == "opioid" and data["substance"]["verdict"] == "analog"
    assert data["countries"] == ["CO"] and data["category"] == "Health"
    assert data["texts"]["es"]["headline"].startswith("Nueva sustancia")
    assert len(request["body"]) < 20_000
    assert b"PRIVATE" not in request["body"]
    assert request["headers"]["webhook-id"] == wait_for(lambda: _delivery(settings.database_url, "delivered")).id


def _delivery(url: str, status: str) -> Delivery | None:
    with Session(engine_for(url)) as session:
        return session.exec(select(Delivery).where(Delivery.status == status)).first()


def test_ordinary_findings_raise_no_alert(client, actors, settings):
    report(client, actors["lab_co"], [COCAINE, CAFFEINE], "ORD-1", sold_as="cocaine")
    assert alerts(settings.database_url) == []


def test_drafts_wait_for_an_analyst_who_publishes_edits_and_cancels(client, actors, settings, receiver, worker):
    sub = subscribe(client, actors["regional"], receiver.url())
    report(client, actors["lab_co"], NEW_CATHINONE, "CAT-1", name="3F-4-MeO-NEH")
    (alert,) = alerts(settings.database_url)
    assert (alert.status, alert.rule, alert.drug_class, alert.severity) == (
        "draft",
        "new_substance",
        "cathinone",
        "Moderate",
    )
    path = f"/api/v1/alerts/{alert.id}"
    # a lab may not see drafts; the Mexican authority may not review a Colombian alert
    assert client.get(path, headers=actors["lab_co"].headers).status_code == 404
    assert client.post(f"{path}:publish", headers=actors["authority_mx"].headers).status_code == 404
    assert client.post(f"{path}:publish", headers=actors["lab_co"].headers).status_code == 403

    published = client.post(f"{path}:publish", headers=actors["authority_co"].headers)
    assert published.status_code == 200 and published.json()["status"] == "published"
    first = verified(wait_for(lambda: receiver.received())[0], sub["secret"])
    assert first["type"] == "alert.published" and first["data"]["msg_type"] == "Alert"

    edited = client.patch(
        path,
        json={"headline": "Nueva catinona en Antioquia", "language": "es", "severity": "Severe"},
        headers=actors["authority_co"].headers,
    )
    assert edited.status_code == 200, edited.text
    second = verified(wait_for(lambda: receiver.received()[1:])[0], sub["secret"])
    assert second["type"] == "alert.updated" and second["data"]["msg_type"] == "Update"
    assert second["data"]["severity"] == "Severe"
    assert second["data"]["texts"]["es"]["headline"] == "Nueva catinona en Antioquia"
    assert second["data"]["references"] and first["data"]["identifier"] in second["data"]["references"][0]

    cancelled = client.post(f"{path}:cancel", headers=actors["authority_co"].headers)
    assert cancelled.json()["status"] == "cancelled"
    third = verified(wait_for(lambda: receiver.received()[2:])[0], sub["secret"])
    assert third["type"] == "alert.cancelled" and third["data"]["msg_type"] == "Cancel"
    versions = client.get(f"{path}/versions", headers=actors["authority_co"].headers).json()["items"]
    assert [v["msg_type"] for v in versions] == ["Alert", "Update", "Cancel"]
    assert len({r["headers"]["webhook-id"] for r in receiver.received()}) == 3
    assert client.post(f"{path}:publish", headers=actors["authority_co"].headers).status_code == 409


def test_dismissing_a_draft_sends_nothing(client, actors, settings, receiver, worker):
    subscribe(client, actors["regional"], receiver.url())
    report(client, actors["lab_co"], NEW_CATHINONE, "CAT-2")
    (alert,) = alerts(settings.database_url)
    assert (
        client.post(f"/api/v1/alerts/{alert.id}:dismiss", headers=actors["authority_co"].headers).status_code
        == 200
    )
    assert alerts(settings.database_url)[0].status == "dismissed"
    with Session(engine_for(settings.database_url)) as session:
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 0


def test_repeated_triggers_update_one_alert(client, actors, settings):
    for i in range(3):
        report(client, actors["lab_co"], NEW_CATHINONE, f"REP-{i}", seized=f"2026-11-1{i}")
    found = {a.rule: a for a in alerts(settings.database_url)}
    assert found["new_substance"].detection_count == 3
    assert found["cluster"].reasons[0].startswith("3 detections in Antioquia")
    report(client, actors["lab_mx"], NEW_CATHINONE, "REP-MX", country="MX", region="Jalisco")
    found = {a.rule: a for a in alerts(settings.database_url)}
    assert found["first_in_country"].countries == ["MX"]
    assert len(found) == 3


def test_first_detection_in_a_second_country_of_a_high_harm_analog(client, actors, settings, receiver, worker):
    sub = subscribe(client, actors["authority_mx"], receiver.url(), filters={"countries": ["MX"]})
    report(client, actors["lab_co"], NEW_NITAZENE, "N-CO")
    report(client, actors["lab_mx"], NEW_NITAZENE, "N-MX", country="MX", region="Sinaloa")
    # the Mexican authority only wants Mexican alerts: the first (Colombian) one is not for it
    (request,) = wait_for(lambda: receiver.received())
    data = verified(request, sub["secret"])["data"]
    assert data["rule"] == "first_in_country" and data["countries"] == ["MX"] and data["severity"] == "Extreme"


def test_unexpected_content_fentanyl_in_cocaine(client, actors, settings):
    report(client, actors["lab_co"], [COCAINE, FENTANYL], "UNEXP-1", sold_as="cocaína")
    found = {a.rule: a for a in alerts(settings.database_url)}
    unexpected = found["unexpected_content"]
    assert unexpected.substance_name == "fentanyl" and unexpected.severity == "Extreme"
    assert unexpected.status == "draft"  # rule 5 waits for an analyst even when Extreme
    assert "cocaine" not in {a.substance_name for a in found.values() if a.rule == "unexpected_content"}


def test_a_receiver_failing_twice_then_succeeding_gets_one_webhook_id(client, actors, settings, receiver, worker):
    receiver.behaviour["/flaky"] = [(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"}), 200]
    sub = subscribe(client, actors["regional"], receiver.url("/flaky"))
    report(client, actors["lab_co"], NEW_NITAZENE, "FLAKY-1")
    requests = wait_for(lambda: receiver.received("/flaky")[2:] and receiver.received("/flaky"))
    assert len({r["headers"]["webhook-id"] for r in requests}) == 1
    for request in requests:
        verified(request, sub["secret"])
    assert requests[1]["at"] - requests[0]["at"] >= 0.9  # Retry-After honoured
    delivery = wait_for(lambda: _delivery(settings.database_url, "delivered"))
    assert delivery.attempts == 3 and delivery.last_status == 200


def test_410_gone_disables_the_subscription(client, actors, settings, receiver, worker):
    receiver.behaviour["/gone"] = [410]
    sub = subscribe(client, actors["regional"], receiver.url("/gone"))
    report(client, actors["lab_co"], NEW_NITAZENE, "GONE-1")
    wait_for(lambda: _delivery(settings.database_url, "failed"))
    with Session(engine_for(settings.database_url)) as session:
        subscription = session.get(Subscription, sub["id"])
        assert not subscription.active and "410" in subscription.disabled_reason
    assert len(receiver.received("/gone")) == 1


def test_an_endpoint_failing_for_five_days_is_disabled(client, actors, settings, receiver, worker):
    receiver.behaviour["/down"] = [500]
    sub = subscribe(client, actors["regional"], receiver.url("/down"))
    with session_scope(engine_for(settings.database_url)) as session:
        subscription = session.get(Subscription, sub["id"])
        subscription.failing_since = utcnow() - timedelta(days=5, minutes=1)
        session.add(subscription)
    report(client, actors["lab_co"], NEW_NITAZENE, "DOWN-1")
    wait_for(lambda: receiver.received("/down"))

    def disabled():
        with Session(engine_for(settings.database_url)) as session:
            return not session.get(Subscription, sub["id"]).active

    wait_for(disabled)


def test_replay_sends_the_same_webhook_id_again(client, actors, settings, receiver, worker):
    sub = subscribe(client, actors["regional"], receiver.url())
    report(client, actors["lab_co"], NEW_NITAZENE, "REPLAY-1")
    delivery = wait_for(lambda: _delivery(settings.database_url, "delivered"))
    replay = client.post(f"/api/v1/deliveries/{delivery.id}:replay", headers=actors["regional"].headers)
    assert replay.status_code == 200
    requests = wait_for(lambda: receiver.received()[1:] and receiver.received())
    assert {r["headers"]["webhook-id"] for r in requests} == {delivery.id}
    verified(requests[1], sub["secret"])
    assert (
        client.post(f"/api/v1/deliveries/{delivery.id}:replay", headers=actors["lab_mx"].headers).status_code
        == 404
    )


def test_unsafe_webhook_targets_are_refused(client, actors, settings):
    settings.allow_loopback_webhooks = False
    for url, words in (
        ("http://example.org/hook", "https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.1.2.3/hook", "private"),
        ("https://[::1]/hook", "loopback"),
        ("https://user:pw@203.0.113.9/hook", "credentials"),
    ):
        response = client.post(
            "/api/v1/subscriptions", json={"channel": "webhook", "url": url}, headers=actors["regional"].headers
        )
        assert response.status_code == 422, url
        (error,) = response.json()["errors"]
        assert error["field"] == "url" and words in error["message"], (url, error)


def test_a_target_refused_at_send_time_is_not_contacted(client, actors, settings, receiver):
    subscribe(client, actors["regional"], receiver.url())  # accepted while loopback is allowed
    settings.allow_loopback_webhooks = False  # the node's policy changes before the send
    runner = start_scheduler(settings)
    try:
        report(client, actors["lab_co"], NEW_NITAZENE, "SSRF-1")
        failed = wait_for(lambda: _delivery(settings.database_url, "failed"))
        assert "https" in failed.last_error or "loopback" in failed.last_error
    finally:
        runner.shutdown(wait=False)
    assert receiver.received() == []


def test_filters_on_severity_and_class(client, actors, settings, receiver, worker):
    subscribe(client, actors["regional"], receiver.url("/severe"), filters={"min_severity": "Severe"})
    subscribe(client, actors["regional"], receiver.url("/cathinones"), filters={"classes": ["cathinone"]})
    report(client, actors["lab_co"], NEW_NITAZENE, "F-1")
    report(client, actors["lab_co"], NEW_CATHINONE, "F-2")
    (cathinone,) = [a for a in alerts(settings.database_url) if a.drug_class == "cathinone"]
    client.post(f"/api/v1/alerts/{cathinone.id}:publish", headers=actors["admin"].headers)
    wait_for(lambda: receiver.received("/severe") and receiver.received("/cathinones"))
    severe = [json.loads(r["body"])["data"]["substance"]["class"] for r in receiver.received("/severe")]
    cathinones = [json.loads(r["body"])["data"]["substance"]["class"] for r in receiver.received("/cathinones")]
    assert severe == ["opioid"] and cathinones == ["cathinone"]


def test_daily_digest_collects_alerts_into_one_delivery(client, actors, settings, receiver, worker):
    sub = subscribe(client, actors["regional"], receiver.url("/digest"), digest="daily")
    report(client, actors["lab_co"], NEW_NITAZENE, "D-1")
    with Session(engine_for(settings.database_url)) as session:
        assert session.exec(select(func.count()).select_from(DigestItem)).one() == 1
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 0
    assert run_digests(engine_for(settings.database_url), utcnow() + timedelta(days=1, hours=1)) == 1
    (request,) = wait_for(lambda: receiver.received("/digest"))
    payload = verified(request, sub["secret"])
    assert payload["type"] == "alert.digest" and payload["data"]["period"] == "daily"
    assert payload["data"]["alerts"][0]["severity"] == "Extreme"
    assert run_digests(engine_for(settings.database_url), utcnow() + timedelta(days=1, hours=2)) == 0


def test_the_alert_api_lists_and_shows_cap(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "API-1")
    listed = client.get("/api/v1/alerts", headers=actors["lab_mx"].headers).json()["items"]
    assert [a["severity"] for a in listed] == ["Extreme"]
    assert (
        client.get("/api/v1/alerts", params={"country": "MX"}, headers=actors["regional"].headers).json()["items"]
        == []
    )
    cap = client.get(f"/api/v1/alerts/{listed[0]['id']}.cap")
    assert cap.status_code == 200 and cap.headers["content-type"].startswith("application/cap+xml")
    assert b"<severity>Extreme</severity>" in cap.content
    with Session(engine_for(settings.database_url)) as session:
        assert session.exec(select(func.count()).select_from(AlertVersion)).one() == 1


def test_the_substance_history_read_off_the_components_is_the_history_of_the_detections(database_url):
    """history() counts off the place and day each component keeps of its detection. Over generated
    detections (three substances, two countries, regions and none, dated and undated ones reported
    either side of midnight UTC, a window edge on both sides), every answer equals the definition
    over the detections themselves: seen before, seen in the country, detections in the region
    (or with no region) since the window's start, by seizure date, else by the UTC day reported."""
    import random
    from datetime import UTC, date, datetime

    from ews.models import Detection, DetectionComponent, Organisation
    from ews.services.alerting import history

    rng = random.Random(5)
    engine = engine_for(database_url)
    window = 30
    with session_scope(engine) as session:
        lab = Organisation(name="history lab", kind="lab", country="CO")
        session.add(lab)
        session.flush()
        detections = []
        for number in range(80):
            reported = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(
                days=rng.randrange(-45, 10), hours=rng.choice([0, 1, 23]), minutes=rng.choice([0, 59])
            )
            detection = Detection(
                organisation_id=lab.id,
                external_ref=f"H-{number}",
                country=rng.choice(["CO", "PE"]),
                region=rng.choice([None, "Antioquia", "Cusco"]),
                seized_on=rng.choice([None, reported.date() - timedelta(days=rng.randrange(0, 40))]),
                created_at=reported,
            )
            session.add(detection)
            session.flush()
            key = rng.choice(["AAAAAAAAAAAAAA", "BBBBBBBBBBBBBB", "CCCCCCCCCCCCCC"])
            session.add(
                DetectionComponent(
                    detection_id=detection.id, inchikey=f"{key}-X-N", skeleton_key=key, verdict="analog"
                )
            )
            detections.append((detection, key))

    def day(detection: Detection) -> date:
        return detection.seized_on or detection.created_at.astimezone(UTC).date()

    checked = counted = 0
    with Session(engine) as session:
        for detection, key in detections:
            same = [d for d, k in detections if k == key]
            start = (detection.seized_on or detection.created_at.date()) - timedelta(days=window)
            expected = (
                not any(d.id != detection.id for d in same),
                not any(d.id != detection.id and d.country == detection.country for d in same),
                sum(
                    d.country == detection.country and d.region == detection.region and day(d) >= start
                    for d in same
                ),
            )
            assert history(session, key, detection, window) == expected, (detection, key)
            checked += 1
            counted += expected[2] > 1
    assert checked == 80 and counted > 10
