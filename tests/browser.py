"""A real headless Chromium (Debian's, driven by Selenium) that can reach loopback only.

``--host-resolver-rules`` makes every other host fail to resolve at once, so a
page that asks another host for anything shows it in the browser log, which
``offsite_requests`` reads for tests to assert on.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import WAIT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if IN_CI:
            pytest.fail("chromium and chromedriver are required under CI=true (make test installs them)")
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
        "--window-size=1280,900",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT)  # Chromium on a loaded machine can take a while to load a page
    driver.set_script_timeout(WAIT)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    """Severe entries of the browser console since the last call (errors, failed loads)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def offsite_requests(driver) -> list[str]:
    """URLs the page requested from any host other than loopback, since the last call."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http://", "https://", "ws://", "wss://")) and url.split("/")[2].split(":")[
                0
            ] not in ("127.0.0.1", "localhost"):
                urls.append(url)
    return urls
