"""Analysts in a real browser: sign in, publish, dismiss, edit four languages as one version, cancel."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session, col, select

from ews.app import create_app
from ews.db import engine_for
from ews.models import Alert, AlertVersion, AuditEntry
from tests.browser import console_errors, offsite_requests
from tests.ews.test_alerts import NEW_CATHINONE, report
from tests.ews.workspace_support import browser_sign_in, make_user, submit_and_wait
from tests.support import WAIT, running, wait_for

CHLORO_CATHINONE = "CCCCC(NCC)C(=O)c1ccc(OC)c(Cl)c1"
LONGER_CATHINONE = "CCCCCC(NCC)C(=O)c1ccc(OC)c(F)c1"


def _all(url: str) -> list[Alert]:
    with Session(engine_for(url)) as session:
        return list(session.exec(select(Alert)).all())


def _get(url: str, alert_id: str) -> Alert:
    with Session(engine_for(url)) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert


def _versions(url: str, alert_id: str) -> list[AlertVersion]:
    with Session(engine_for(url)) as session:
        return list(
            session.exec(
                select(AlertVersion).where(AlertVersion.alert_id == alert_id).order_by(col(AlertVersion.version))
            ).all()
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_analyst_publishes_dismisses_edits_and_cancels_in_the_browser(browser, client, actors, settings):
    from selenium.webdriver.common.by import By

    url = settings.database_url
    report(client, actors["lab_co"], NEW_CATHINONE, "REV-1", name="3F-4-MeO-NEH")
    report(client, actors["lab_co"], CHLORO_CATHINONE, "REV-2")
    report(client, actors["lab_mx"], LONGER_CATHINONE, "REV-3", country="MX", region="Jalisco")
    drafts = {a.countries[0]: a for a in _all(url) if a.status == "draft"}
    password = make_user(url, actors["authority_co"].organisation_id, "ana@odc.gov.co", name="Ana Ruiz")

    with running(create_app(settings)) as base:
        browser.get(f"{base}/review")
        assert "/login" in browser.current_url  # signed out: sent to sign in, then back
        browser_sign_in(browser, base, "ana@odc.gov.co", password)
        assert "Ana Ruiz" in browser.find_element(By.ID, "whoami").text
        assert "Observatorio de Drogas de Colombia" in browser.find_element(By.ID, "who-org").text

        browser.get(f"{base}/review")
        queue = browser.find_elements(By.CSS_SELECTOR, "#queue > li")
        # the Colombian analyst sees the two Colombian drafts, not the Mexican one
        assert len(queue) == 2 and drafts["MX"].id not in browser.page_source
        assert queue[0].find_elements(By.CSS_SELECTOR, ".structure svg")
        colombian = [a for a in _all(url) if a.countries == ["CO"]]
        first = next(a for a in colombian if "Cl" not in (a.smiles or ""))
        second = next(a for a in colombian if "Cl" in (a.smiles or ""))

        # publish by clicking; the public JSON feed carries it
        submit_and_wait(browser, browser.find_element(By.ID, f"publish-{first.id}"))
        assert browser.find_element(By.ID, "done").text == "Published."
        wait_for(
            lambda: (
                first.id in {i["id"] for i in httpx.get(f"{base}/feeds/alerts.json", timeout=WAIT).json()["items"]}
            )
        )
        assert _get(url, first.id).status == "published"

        # dismissing needs a reason; the reason and the person land in the audit log
        browser.find_element(By.ID, f"reason-{second.id}").send_keys("duplicate of a confirmed case")
        submit_and_wait(browser, browser.find_element(By.ID, f"dismiss-{second.id}"))
        assert browser.find_element(By.ID, "done").text == "Dismissed."
        assert _get(url, second.id).status == "dismissed"
        assert browser.find_element(By.ID, "review-empty")

        # edit all four languages of the published alert: ONE new version, one CAP Update
        browser.get(f"{base}/alerts/{first.id}")
        assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-status") == "published"
        submit_and_wait(browser, browser.find_element(By.ID, "edit"))
        new = {
            "en": "Fluorinated cathinone in Antioquia",
            "es": "Catinona fluorada en Antioquia",
            "pt": "Catinona fluorada em Antioquia",
            "fr": "Cathinone fluorée à Antioquia",
        }
        for lang, headline in new.items():
            box = browser.find_element(By.ID, f"headline_{lang}")
            box.clear()
            box.send_keys(headline)
        submit_and_wait(browser, browser.find_element(By.ID, "save"))
        assert browser.find_element(By.ID, "done").text == "Saved."
        versions = _versions(url, first.id)
        assert [v.msg_type for v in versions] == ["Alert", "Update"]
        assert {lang: versions[-1].snapshot["texts"][lang]["headline"] for lang in new} == new
        history = browser.find_elements(By.CSS_SELECTOR, "#versions tr")
        assert len(history) == 3 and "en: headline" in history[1].text and "fr: headline" in history[1].text
        cap = httpx.get(f"{base}/api/v1/alerts/{first.id}.cap", timeout=WAIT).text
        assert "<msgType>Update</msgType>" in cap and "Cathinone fluorée à Antioquia" in cap

        # cancel from its page; the page says so at the top, in the page's language
        browser.find_element(By.ID, "cancel-reason").send_keys("laboratory retracted the result")
        submit_and_wait(browser, browser.find_element(By.ID, "cancel"))
        assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-status") == "cancelled"
        browser.get(f"{base}/alerts/{first.id}?lang=es")
        assert browser.find_element(By.ID, "status-banner").text.startswith("Esta alerta ha sido cancelada")
        assert [v.msg_type for v in _versions(url, first.id)] == ["Alert", "Update", "Cancel"]

        # an older version says it was superseded
        browser.get(f"{base}/alerts/{first.id}?version=1&lang=fr")
        assert "remplacée par la version 3" in browser.find_element(By.ID, "version-banner").text

        assert console_errors(browser) == []
        assert offsite_requests(browser) == []

    with Session(engine_for(url)) as session:
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.object_id).in_([first.id, second.id]))
        ).all()
    by_action = {e.action: e.detail for e in entries if "user" in e.detail}
    assert {"alert.publish", "alert.dismiss", "alert.edit", "alert.cancel"} <= set(by_action)
    assert all(
        d["user"]["email"] == "ana@odc.gov.co" and d["user"]["name"] == "Ana Ruiz" for d in by_action.values()
    )
    assert by_action["alert.dismiss"]["reason"] == "duplicate of a confirmed case"
