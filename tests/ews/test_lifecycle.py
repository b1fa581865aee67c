"""The alert lifecycle: no answers without a library, alerts that follow their facts and the
library, cancellation visible everywhere, lab text as evidence only, one edit one version.

Real databases (SQLite and PostgreSQL), a real webhook receiver, CAP parsed strictly.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from cap_tools import MsgType
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from alerts.channels.base import OutboundMessage
from alerts.mail import build_message
from ews.config import Settings
from ews.db import engine_for, session_scope, utcnow
from ews.models import Alert, AlertVersion, Delivery, Detection, DetectionComponent
from ews.scheduler import start_scheduler
from ews.services.alerting import send_due_updates
from ews.services.library import import_list
from ews.services.reidentify import reidentify
from tests.conftest import _admin_execute, _url_for, make_actor
from tests.ews.test_alerts import FENTANYL, NEW_CATHINONE, NEW_NITAZENE, alerts, report, subscribe, verified
from tests.ews.test_feeds_cap import parse_cap
from tests.support import WAIT, WebhookReceiver, post_form, wait_for

ATOM = "{http://www.w3.org/2005/Atom}"
PROBLEM = "application/problem+json"


# --- a node without a library -----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def unloaded_url(request, tmp_path):
    """A database migrated but never loaded with a reference library."""
    from ews.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'unloaded.db'}"
        upgrade(url)
        yield url
        return
    request.getfixturevalue("pg_template")  # skips (or fails under CI) when PostgreSQL is absent
    name = f"ews_u_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = _url_for(name)
    upgrade(url)
    yield url
    engine_for(url).dispose()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fentanyl(ref: str) -> dict:
    return {
        "external_ref": ref,
        "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO", "sold_as": "heroína"},
        "components": [{"smiles": FENTANYL}],
    }


def _refused(response, what: str) -> None:
    assert response.status_code == 503, (what, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith(PROBLEM), what
    assert int(response.headers["retry-after"]) > 0, what
    body = response.json()
    assert body["status"] == 503 and "library" in body["detail"] and "ews library load" in body["detail"], what


def test_a_node_without_a_library_refuses_to_identify_and_raises_no_alert(unloaded_url, cache_dir):
    from ews.app import create_app
    from ews.services.library import load_bundled

    settings = Settings(
        database_url=unloaded_url, cache_dir=cache_dir, node_id="test-node", base_url="http://testserver"
    )
    lab = make_actor(unloaded_url, "lab", "CO")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        _refused(ready, "readyz")
        _refused(client.post("/api/v1/detections", json=_fentanyl("F-1"), headers=lab.headers), "detections")
        _refused(
            client.post("/api/v1/detections:batch", json=[_fentanyl("F-2")], headers=lab.headers),
            "detections:batch",
        )
        _refused(client.post("/api/v1/match", json={"smiles": FENTANYL}, headers=lab.headers), "api match")
        form = post_form(client, "/match", {"structures": FENTANYL})  # a page: the refusal as a page
        assert form.status_code == 503 and int(form.headers["retry-after"]) > 0
        assert "ews library load" in form.text
        home = client.get("/", params={"lang": "es"})
        assert home.status_code == 200 and "No hay ninguna biblioteca de referencia cargada" in home.text
        with Session(engine_for(unloaded_url)) as session:
            assert session.exec(select(func.count()).select_from(Detection)).one() == 0
            assert session.exec(select(func.count()).select_from(Alert)).one() == 0

        # once a library is loaded (by another process), this one picks it up by itself
        load_bundled(engine_for(unloaded_url), cache_dir)
        wait_for(lambda: client.get("/readyz").status_code == 200)
        assert "status-banner" not in client.get("/").text
        stored = client.post("/api/v1/detections", json=_fentanyl("F-3"), headers=lab.headers)
        assert stored.status_code == 201, stored.text
        assert stored.json()["components"][0]["verdict"] == "controlled"
        assert all(a.rule != "new_substance" for a in alerts(unloaded_url))


# --- re-identification when the library changes ------------------------------------------------


def _national_list(tmp_path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "lista_nacional.csv"
    lines = ["name,smiles,class,status,schedule,controlled_since"]
    lines += [f"{name},{smiles},opioid,{status},I,2026-12-01" for name, smiles, status in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_national_list_that_controls_a_new_substance_updates_its_alert(client, actors, settings, tmp_path):
    report(client, actors["lab_co"], NEW_NITAZENE, "RE-1")
    (alert,) = alerts(settings.database_url)
    assert (alert.status, alert.verdict) == ("published", "analog")
    engine = engine_for(settings.database_url)
    import_list(engine, _national_list(tmp_path, [("pentiloxinitazeno", NEW_NITAZENE, "controlled")]), "CO")
    result = reidentify(engine, settings)
    assert result.changed == 1 and result.updated_alerts == [alert.id] and not result.cancelled_alerts

    with Session(engine) as session:
        component = session.exec(select(DetectionComponent)).one()
        assert component.verdict == "controlled" and component.substance_name == "pentiloxinitazeno"
        versions = session.exec(
            select(AlertVersion).where(AlertVersion.alert_id == alert.id).order_by(col(AlertVersion.version))
        ).all()
    assert [v.msg_type for v in versions] == ["Alert", "Update"]
    (updated,) = alerts(settings.database_url)
    assert updated.verdict == "controlled" and "pentiloxinitazeno" in updated.headline
    assert "under control" in updated.description and "CO" in updated.description
    cap = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap").content)
    assert cap.msg_type == MsgType.UPDATE and versions[0].identifier in cap.references
    # a second pass finds nothing more to change and sends nothing
    again = reidentify(engine, settings)
    assert again.changed == 0 and again.updated_alerts == []


def test_a_library_that_now_knows_a_substance_cancels_its_alert(client, actors, settings, tmp_path):
    report(client, actors["lab_co"], NEW_CATHINONE, "RE-2")
    (alert,) = alerts(settings.database_url)
    assert client.post(f"/api/v1/alerts/{alert.id}:publish", headers=actors["admin"].headers).status_code == 200
    engine = engine_for(settings.database_url)
    import_list(engine, _national_list(tmp_path, [("reference standard X", NEW_CATHINONE, "known")]), "CO")
    result = reidentify(engine, settings)
    assert result.cancelled_alerts == [alert.id]
    shown = client.get(f"/api/v1/alerts/{alert.id}", headers=actors["admin"].headers).json()
    assert shown["status"] == "cancelled" and shown["msg_type"] == "Cancel"
    cap = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap").content)
    assert cap.msg_type == MsgType.CANCEL and alert.id in cap.references
    assert cap.infos[0].description.startswith(
        "Withdrawn: the reference library now identifies this substance as a known substance (reference standard X)."
    )
    assert cap.infos[1].description.startswith("Retirada:")


# --- alerts follow their facts ------------------------------------------------------------------


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def worker(settings):
    settings.dispatch_interval = 0.2
    runner = start_scheduler(settings)
    yield runner
    runner.shutdown(wait=False)


def _updates(receiver: WebhookReceiver, alert_id: str) -> list[dict]:
    bodies = [json.loads(r["body"]) for r in receiver.received()]
    return [b for b in bodies if b["type"] == "alert.updated" and b["data"]["id"] == alert_id]


def test_a_second_country_joining_sends_one_coalesced_update(client, actors, settings, receiver, worker):
    settings.alert_update_interval = 3600  # the whole burst falls inside one interval
    sub = subscribe(client, actors["regional"], receiver.url())
    report(client, actors["lab_co"], NEW_NITAZENE, "BURST-0", seized="2026-11-20")
    (network,) = alerts(settings.database_url)
    assert network.status == "published" and network.facts["first_seen"] == "2026-11-20"
    burst = [
        ("lab_co", "CO", "Antioquia", "2026-11-21"),
        ("lab_mx", "MX", "Sinaloa", "2026-11-02"),  # reported later, seized earlier
        ("lab_mx", "MX", "Sinaloa", "2026-11-22"),
        ("lab_co2", "CO", "Bogotá", "2026-11-23"),
        ("lab_co", "CO", "Antioquia", "2026-11-24"),
    ]
    for index, (lab, country, region, seized) in enumerate(burst, start=1):
        report(client, actors[lab], NEW_NITAZENE, f"BURST-{index}", country=country, region=region, seized=seized)
    engine = engine_for(settings.database_url)
    with Session(engine) as session:
        pending = session.get(Alert, network.id)
        assert pending.update_due_at is not None and pending.version == 1  # waiting, not sent
        assert pending.countries == ["CO", "MX"] and pending.detection_count == 6
    assert "Mexico" in pending.headline and "Colombia" in pending.headline
    assert pending.facts["first_seen"] == "2026-11-02"
    assert send_due_updates(engine, worker_alerting(settings), now=utcnow() + timedelta(seconds=1)) == 0

    assert send_due_updates(engine, worker_alerting(settings), now=utcnow() + timedelta(seconds=3601)) == 1
    (update,) = wait_for(lambda: _updates(receiver, network.id))
    data = verified(next(r for r in receiver.received() if json.loads(r["body"]) == update), sub["secret"])["data"]
    assert data["msg_type"] == "Update" and data["version"] == 2
    assert data["countries"] == ["CO", "MX"] and data["detection_count"] == 6
    assert {"country": "MX", "region": "Sinaloa"} in data["regions"]
    assert "México" in data["texts"]["es"]["headline"] and data["first_seen"] == "2026-11-02"
    assert "2026-11-02" in data["description"]
    cap = parse_cap(client.get(f"/api/v1/alerts/{network.id}.cap").content)
    assert cap.msg_type == MsgType.UPDATE and [a.area_desc.split(":")[0] for a in cap.infos[0].areas] == [
        "Colombia",
        "Mexico",
    ]
    parameters = {str(getattr(p.value_name, "value", p.value_name)): p.value for p in cap.infos[0].parameters}
    assert str(getattr(parameters["firstSeen"], "value", parameters["firstSeen"])) == "2026-11-02"
    # federated peers read the same Update in the feed
    feed = client.get("/feeds/alerts.json").json()["items"]
    assert [(i["id"], i["version"]) for i in feed if i["id"] == network.id] == [(network.id, 1), (network.id, 2)]
    # nothing else is due: one Update for the whole burst
    assert send_due_updates(engine, worker_alerting(settings), now=utcnow() + timedelta(days=1)) == 0
    with Session(engine) as session:
        sent = session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.alert_id == network.id, Delivery.event_type == "alert.updated")
        ).one()
    assert sent == 1


def worker_alerting(settings: Settings):
    from ews.app import build_node

    return build_node(settings).alerting


def test_the_worker_sends_a_due_update_by_itself(client, actors, settings, receiver, worker):
    settings.alert_update_interval = 0.5
    subscribe(client, actors["regional"], receiver.url())
    report(client, actors["lab_co"], NEW_NITAZENE, "W-0")
    (network,) = alerts(settings.database_url)
    report(client, actors["lab_mx"], NEW_NITAZENE, "W-1", country="MX", region="Sinaloa")
    (update,) = wait_for(lambda: _updates(receiver, network.id))
    assert update["data"]["countries"] == ["CO", "MX"]


def test_a_count_that_doubles_is_material_and_one_more_is_not(client, actors, settings):
    from ews.services.alerting import doubled

    assert doubled(2, 1) and doubled(8, 4) and not doubled(7, 4)
    settings.alert_update_interval = 3600
    report(client, actors["lab_co"], NEW_NITAZENE, "C-0")
    report(client, actors["lab_co"], NEW_NITAZENE, "C-1")  # 2 detections: the count doubled
    (network,) = [a for a in alerts(settings.database_url) if a.rule == "new_substance"]
    assert network.update_due_at is not None and "2 detection" in network.description


# --- a cancelled alert says so everywhere -------------------------------------------------------


def test_a_cancelled_alert_says_so_everywhere(client, actors, settings):
    report(client, actors["lab_co"], NEW_NITAZENE, "X-1")
    (alert,) = alerts(settings.database_url)
    page = client.get(f"/alerts/{alert.id}")
    assert 'data-status="published"' in page.text and "status-banner" not in page.text
    assert (
        client.post(f"/api/v1/alerts/{alert.id}:cancel", headers=actors["authority_co"].headers).status_code == 200
    )

    for lang, words in (("en", "This alert has been cancelled"), ("es", "Esta alerta ha sido cancelada")):
        page = client.get(f"/alerts/{alert.id}", params={"lang": lang})
        assert page.status_code == 200 and '<main data-status="cancelled">' in page.text
        assert words in page.text
    shown = client.get(f"/api/v1/alerts/{alert.id}", headers=actors["lab_mx"].headers).json()
    assert shown["status"] == "cancelled" and shown["cancelled"] is True and shown["msg_type"] == "Cancel"

    feed = [i for i in client.get("/feeds/alerts.json").json()["items"] if i["id"] == alert.id]
    assert [i["version"] for i in feed] == [1, 2]
    first, cancel = feed
    assert cancel["title"].startswith("Cancelled: ") and "cancelled" in cancel["categories"]
    assert cancel["data"]["status"] == "cancelled" and "superseded_by" not in cancel
    assert first["superseded_by"]["version"] == 2 and "cancelled" not in first["categories"]
    assert first["superseded_by"]["links"]["api"].endswith(f"/api/v1/alerts/{alert.id}")

    for path in ("/feeds/alerts.atom", "/feeds/alerts.cap.atom"):
        root = ET.fromstring(client.get(path).content)
        (entry,) = root.findall(f"{ATOM}entry")
        assert entry.findtext(f"{ATOM}title").startswith("Cancelled: ")
        assert "cancelled" in [c.get("term") for c in entry.findall(f"{ATOM}category")]
    cap = parse_cap(client.get(f"/api/v1/alerts/{alert.id}.cap").content)
    assert cap.msg_type == MsgType.CANCEL

    versions = client.get(f"/api/v1/alerts/{alert.id}/versions", headers=actors["lab_mx"].headers).json()["items"]
    assert [(v["msg_type"], v["current"]) for v in versions] == [("Alert", False), ("Cancel", True)]
    assert versions[0]["superseded_by"]["version"] == 2
    # the page lists both versions; the first is superseded by the current one, and its CAP is still there.
    # The language chosen above (es) holds until another is chosen.
    page = client.get(f"/alerts/{alert.id}").text
    assert '<html lang="es">' in page and 'data-version="1"' in page
    page = client.get(f"/alerts/{alert.id}", params={"lang": "en"}).text
    assert 'data-version="1"' in page and "superseded by version" in page
    assert parse_cap(client.get(f"/api/v1/alerts/{alert.id}/versions/1.cap").content).msg_type == MsgType.ALERT
    assert client.get(f"/api/v1/alerts/{alert.id}/versions/9.cap").status_code == 404


# --- lab text is evidence, not a headline --------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_a_lab_name_never_reaches_a_headline_and_is_escaped_everywhere(client, actors, settings):
    report(
        client,
        actors["lab_co"],
        NEW_NITAZENE,
        "XSS-1",
        name=SCRIPT,
        sold_as=f"heroína {SCRIPT}",
        region="Antioquia",
    )
    found = alerts(settings.database_url)
    assert {a.rule for a in found} >= {"new_substance", "unexpected_content"}
    for alert in found:
        for language, text in alert.texts.items():
            assert "script" not in text["headline"].lower(), (alert.rule, language)
            assert "C" in text["headline"]  # the formula stands for the unnamed substance
        assert alert.substance_name is None
    network = next(a for a in found if a.rule == "new_substance")
    formula = network.facts["formula"]
    assert network.headline.startswith(f"New substance detected: {formula} (opioid)")
    assert "Reported by the laboratory as “<script>alert(1)</script>”" in network.description
    assert "not translated" in network.description
    assert "redacción del laboratorio, sin traducir" in network.texts["es"]["description"]
    unexpected = next(a for a in found if a.rule == "unexpected_content")
    assert "sold as another drug" in unexpected.headline and "heroína" in unexpected.description

    page = client.get(f"/alerts/{network.id}").text
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    atom = client.get("/feeds/alerts.atom").content
    assert SCRIPT.encode() not in atom and b"&lt;script&gt;" in atom
    cap_xml = client.get(f"/api/v1/alerts/{network.id}.cap").content
    assert SCRIPT.encode() not in cap_xml
    assert SCRIPT in parse_cap(cap_xml).infos[0].description  # escaped, so it reads back as text

    data = client.get(f"/api/v1/alerts/{network.id}", headers=actors["admin"].headers).json()
    mail = build_message(
        OutboundMessage(
            id="dlv-xss",
            kind="alert",
            event_type="alert.published",
            target="analyst@health.example.org",
            payload={"type": "alert.published", "timestamp": utcnow().isoformat(), "data": data},
        ),
        "ews@example.org",
        settings.base_url,
        None,
    )
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_content()
    assert SCRIPT not in html and "&lt;script&gt;" in html


# --- one edit, one version ----------------------------------------------------------------------


def test_an_edit_of_three_languages_is_one_version(client, actors, settings):
    report(client, actors["lab_co"], NEW_CATHINONE, "ED-1")
    (alert,) = alerts(settings.database_url)
    headers = actors["authority_co"].headers
    client.post(f"/api/v1/alerts/{alert.id}:publish", headers=headers)
    edit = {
        "texts": {
            "en": {"headline": "New cathinone in Antioquia"},
            "es": {"headline": "Nueva catinona en Antioquia", "description": "Catinona no fiscalizada."},
            "fr": {"headline": "Nouvelle cathinone à Antioquia"},
        }
    }
    response = client.patch(f"/api/v1/alerts/{alert.id}", json=edit, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["msg_type"] == "Update"
    assert body["headline"] == "New cathinone in Antioquia"
    assert body["texts"]["es"]["description"] == "Catinona no fiscalizada."
    assert body["texts"]["fr"]["headline"] == "Nouvelle cathinone à Antioquia"
    # the same edit again changes nothing, so it is no new version
    assert client.patch(f"/api/v1/alerts/{alert.id}", json=edit, headers=headers).json()["version"] == 2
    versions = client.get(f"/api/v1/alerts/{alert.id}/versions", headers=headers).json()["items"]
    assert [v["msg_type"] for v in versions] == ["Alert", "Update"]
    bad = client.patch(f"/api/v1/alerts/{alert.id}", json={"texts": {"de": {"headline": "Neu"}}}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("texts")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_cancelled_alert_page_in_a_browser(browser, client, actors, settings):
    from selenium.webdriver.common.by import By

    from ews.app import create_app
    from tests.browser import console_errors, offsite_requests
    from tests.support import running

    report(client, actors["lab_co"], NEW_NITAZENE, "BR-1", name=SCRIPT)
    (alert,) = alerts(settings.database_url)
    client.post(f"/api/v1/alerts/{alert.id}:cancel", headers=actors["authority_co"].headers)
    with running(create_app(settings)) as base:
        browser.get(f"{base}/alerts/{alert.id}?lang=fr")
        main = browser.find_element(By.TAG_NAME, "main")
        assert main.get_attribute("data-status") == "cancelled"
        banner = browser.find_element(By.ID, "status-banner")
        assert banner.is_displayed() and "Cette alerte a été annulée" in banner.text
        assert SCRIPT in main.text  # shown as text, never run
        assert "script" not in browser.find_element(By.ID, "headline").text.lower()
        assert browser.execute_script("return document.querySelectorAll('main script').length") == 0
        assert offsite_requests(browser) == []
        assert console_errors(browser) == []


def test_ews_library_import_reidentifies_and_a_running_node_follows(tmp_path, cache_dir):
    from ews.app import create_app
    from tests.ews.test_cli import ews

    url = f"sqlite:///{tmp_path}/cli.db"
    env = {**os.environ, "EWS_CACHE_DIR": str(cache_dir), "EWS_DATABASE_URL": url, "EWS_NODE_ID": "test-node"}
    ews("db", "upgrade", env=env, check=0)
    ews("library", "load", env=env, check=0)
    lab = make_actor(url, "lab", "CO")
    settings = Settings(database_url=url, cache_dir=cache_dir, node_id="test-node", base_url="http://testserver")
    with TestClient(create_app(settings)) as client:
        report(client, lab, NEW_NITAZENE, "CLI-1")
        (alert,) = alerts(url)
        national = _national_list(tmp_path, [("pentiloxinitazeno", NEW_NITAZENE, "controlled")])
        result = ews("library", "import", str(national), "--jurisdiction", "CO", env=env, check=0)
        assert "1 changed; alerts updated 1" in result.stderr, result.stderr

        def verdict() -> str:
            body = {"smiles": NEW_NITAZENE, "jurisdiction": "CO"}
            return client.post("/api/v1/match", json=body, headers=lab.headers).json()["match"]["verdict"]

        wait_for(lambda: verdict() == "controlled")  # this process rebuilt its library by itself
    (updated,) = alerts(url)
    assert updated.version == 2 and updated.verdict == "controlled"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_several_workers_send_each_due_update_once(client, actors, settings):
    import threading

    settings.alert_update_interval = 3600
    report(client, actors["lab_co"], NEW_NITAZENE, "MW-1")
    report(client, actors["lab_co"], NEW_CATHINONE, "MW-2")
    for alert in alerts(settings.database_url):
        if alert.status == "draft":
            client.post(f"/api/v1/alerts/{alert.id}:publish", headers=actors["admin"].headers)
    report(client, actors["lab_mx"], NEW_NITAZENE, "MW-3", country="MX", region="Sinaloa")
    report(client, actors["lab_mx"], NEW_CATHINONE, "MW-4", country="MX", region="Jalisco")
    engine = engine_for(settings.database_url)
    with Session(engine) as session:
        due = session.exec(select(Alert.id).where(col(Alert.update_due_at).is_not(None))).all()
    assert len(due) == 2
    workers = [worker_alerting(settings) for _ in range(4)]
    start, sent, errors = threading.Barrier(len(workers)), [], []

    def run(alerting) -> None:
        start.wait()
        try:
            sent.append(send_due_updates(engine, alerting, now=utcnow() + timedelta(seconds=3601)))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT)
    assert errors == [] and sum(sent) == 2
    with Session(engine) as session:
        for alert_id in due:
            types = session.exec(
                select(AlertVersion.msg_type)
                .where(AlertVersion.alert_id == alert_id)
                .order_by(col(AlertVersion.version))
            ).all()
            assert types == ["Alert", "Update"], alert_id


def test_after_a_quiet_spell_a_burst_settles_into_one_update(client, actors, settings):
    from sqlalchemy import update

    settings.alert_update_interval = 60
    report(client, actors["lab_co"], NEW_NITAZENE, "Q-0")
    (network,) = alerts(settings.database_url)
    engine = engine_for(settings.database_url)
    with session_scope(engine) as session:  # the Alert went out two hours ago
        session.execute(
            update(AlertVersion)
            .where(col(AlertVersion.alert_id) == network.id)
            .values(sent_at=utcnow() - timedelta(hours=2))
        )
    before = utcnow()
    report(client, actors["lab_mx"], NEW_NITAZENE, "Q-1", country="MX", region="Sinaloa")
    after = utcnow()
    report(client, actors["lab_mx"], NEW_NITAZENE, "Q-2", country="MX", region="Jalisco")
    report(client, actors["lab_co2"], NEW_NITAZENE, "Q-3", country="CO", region="Bogotá")
    with Session(engine) as session:
        due = session.get(Alert, network.id).update_due_at
    settle = timedelta(seconds=10)
    assert before + settle <= due <= after + settle  # set by the first change; the others rode along
    alerting = worker_alerting(settings)
    assert send_due_updates(engine, alerting, now=due - timedelta(milliseconds=1)) == 0  # still settling
    assert send_due_updates(engine, alerting, now=due) == 1
    with Session(engine) as session:
        alert = session.get(Alert, network.id)
        assert alert.version == 2 and alert.update_due_at is None
        snapshot = session.exec(
            select(AlertVersion.snapshot).where(AlertVersion.alert_id == network.id, AlertVersion.version == 2)
        ).one()
    assert {r["region"] for r in snapshot["regions"]} == {"Antioquia", "Sinaloa", "Jalisco", "Bogotá"}
