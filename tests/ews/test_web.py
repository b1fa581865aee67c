"""Web pages in a real browser (Debian's Chromium driven by Selenium), against a real server on loopback."""

from __future__ import annotations

import pytest

from ews.app import create_app
from tests.browser import console_errors, offsite_requests
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE, report
from tests.support import WAIT, running


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_public_pages_and_the_identify_form(browser, client, actors, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    report(client, actors["lab_co"], NEW_NITAZENE, "WEB-1", name="nitazene nuevo")
    report(client, actors["lab_co"], NEW_CATHINONE, "WEB-2")  # a draft: must not show
    with running(create_app(settings)) as base:
        browser.get(f"{base}/")
        rows = browser.find_elements(By.CSS_SELECTOR, "#alerts tr")
        assert len(rows) == 2  # header and the one published alert
        assert "Extreme" in rows[1].text

        rows[1].find_element(By.TAG_NAME, "a").click()
        headline = WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "headline"))[0]
        assert "New substance detected" in headline.text
        assert browser.find_elements(By.CSS_SELECTOR, ".structure svg")

        browser.get(f"{browser.current_url}?lang=es")
        assert browser.find_element(By.ID, "headline").text.startswith("Nueva sustancia detectada")

        browser.get(f"{base}/match")
        box = browser.find_element(By.ID, "structures")
        box.send_keys("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21 isotonitazene\n")
        box.send_keys(NEW_NITAZENE + " unknown\n")
        box.send_keys("C1CC( typo\n")
        browser.find_element(By.ID, "submit").click()
        badges = WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .badge"))
        verdicts = [e.text for e in badges]
        assert verdicts == ["controlada", "análogo", "error"]  # the language chosen above holds
        assert "(listada)" in browser.find_element(By.ID, "results").text  # how the listing reaches it, in Spanish
        # an identity says how it reaches the structure too (two entries of one name stay apart)
        assert "identidad: isotonitazene (listada)" in browser.find_element(By.ID, "results").text
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results svg")) == 2

        assert offsite_requests(browser) == []
        assert console_errors(browser) == []

        browser.get(f"{base}/alerts?severity=Moderate")
        assert not browser.find_elements(By.CSS_SELECTOR, "#alerts")
