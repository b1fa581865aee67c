"""Web pages in a real browser (Debian's Chromium driven by Selenium), against a real server on loopback."""

from __future__ import annotations

import shutil

import pytest

from ews.app import create_app
from tests.conftest import IN_CI
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE, report
from tests.support import running

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if IN_CI:
            pytest.fail("chromium and chromedriver are required under CI=true (.ci/run installs them)")
        pytest.skip("chromium not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_public_pages_and_the_identify_form(browser, client, actors, settings):
    from selenium.webdriver.common.by import By

    report(client, actors["lab_co"], NEW_NITAZENE, "WEB-1", name="nitazene nuevo")
    report(client, actors["lab_co"], NEW_CATHINONE, "WEB-2")  # a draft: must not show
    with running(create_app(settings)) as base:
        browser.get(f"{base}/")
        rows = browser.find_elements(By.CSS_SELECTOR, "#alerts tr")
        assert len(rows) == 2  # header and the one published alert
        assert "Extreme" in rows[1].text

        rows[1].find_element(By.TAG_NAME, "a").click()
        assert "New substance detected" in browser.find_element(By.ID, "headline").text
        assert browser.find_elements(By.CSS_SELECTOR, ".structure svg")

        browser.get(f"{browser.current_url}?lang=es")
        assert browser.find_element(By.ID, "headline").text.startswith("Nueva sustancia detectada")

        browser.get(f"{base}/match")
        box = browser.find_element(By.ID, "structures")
        box.send_keys("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21 isotonitazene\n")
        box.send_keys(NEW_NITAZENE + " unknown\n")
        box.send_keys("C1CC( typo\n")
        browser.find_element(By.ID, "submit").click()
        verdicts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#results .badge")]
        assert verdicts == ["controlled", "analog", "error"]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results svg")) == 2

        browser.get(f"{base}/alerts?severity=Moderate")
        assert not browser.find_elements(By.CSS_SELECTOR, "#alerts")
