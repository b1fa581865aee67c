"""Every workspace page in Chromium, in each language: no console error, nothing from another host;
sign-in limits and CSRF refusals as a person meets them."""

from __future__ import annotations

import pytest

from ews.app import create_app
from tests.browser import console_errors, offsite_requests
from tests.ews.test_alerts import NEW_CATHINONE, NEW_NITAZENE, report
from tests.ews.workspace_support import browser_sign_in, make_user, submit_and_wait
from tests.support import running


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_workspace_page_loads_cleanly_in_every_language(browser, client, actors, settings):
    from selenium.webdriver.common.by import By

    url = settings.database_url
    published = report(client, actors["lab_co"], NEW_NITAZENE, "PAGE-1", name="nitazene")  # Extreme: published
    detection_id = published["id"]
    report(client, actors["lab_co"], NEW_CATHINONE, "PAGE-2")  # a draft
    alerts = client.get("/api/v1/alerts", headers=actors["authority_co"].headers).json()["items"]
    draft = next(a["id"] for a in alerts if a["status"] == "draft")
    public = next(a["id"] for a in alerts if a["status"] == "published")
    analyst = make_user(url, actors["authority_co"].organisation_id, "ana@odc.gov.co", name="Ana")
    chemist = make_user(url, actors["lab_co"].organisation_id, "q@lab.co", name="Químico")

    with running(create_app(settings)) as base:
        for lang in ("en", "es", "pt", "fr"):
            browser.get(f"{base}/login?lang={lang}")
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            browser.get(f"{base}/alerts/{public}?lang={lang}")
            assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-status") == "published"
            browser.get(f"{base}/alerts/{draft}?lang={lang}")  # not for the public: a page, not JSON
            assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-error") == "404"
        assert all("404" in e for e in console_errors(browser))

        browser_sign_in(browser, base, "ana@odc.gov.co", analyst)
        for lang in ("en", "es", "pt", "fr"):
            for path in (
                "/review",
                f"/review/{draft}/edit",
                f"/alerts/{draft}",
                f"/alerts/{public}",
                "/detections",
                f"/detections/{detection_id}",
            ):
                browser.get(f"{base}{path}?lang={lang}")
                assert browser.find_element(By.TAG_NAME, "h1").text, path
        assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-error") is None
        assert console_errors(browser) == []
        assert offsite_requests(browser) == []

        browser.delete_all_cookies()
        browser_sign_in(browser, base, "q@lab.co", chemist)
        for lang in ("en", "es", "pt", "fr"):
            for path in ("/submit", "/upload", "/detections", f"/detections/{detection_id}"):
                browser.get(f"{base}{path}?lang={lang}")
                assert browser.find_element(By.TAG_NAME, "h1").text, path
        assert browser.find_element(By.ID, "case-ref").text == "PRIVATE-CASE"  # the lab's own
        assert console_errors(browser) == []
        assert offsite_requests(browser) == []

        # a form whose CSRF token was removed is refused
        browser.get(f"{base}/submit")
        browser.execute_script("document.querySelector('#submit-form input[name=csrf_token]').remove()")
        browser.find_element(By.ID, "structure_0").send_keys("CCO")
        submit_and_wait(browser, browser.find_element(By.ID, "check"))
        assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-error") == "403"
        assert browser.find_elements(By.ID, "csrf-refused")
        console_errors(browser)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_sign_ins_are_rate_limited_in_the_browser(browser, actors, settings):
    from selenium.webdriver.common.by import By

    password = make_user(settings.database_url, actors["lab_co"].organisation_id, "q@lab.co")
    with running(create_app(settings)) as base:
        for attempt in range(5):
            browser_sign_in(browser, base, "q@lab.co", f"not-the-password-{attempt}", lang="es")
            assert (
                browser.find_element(By.ID, "login-message").text == "El correo o la contraseña no son correctos."
            )
        browser_sign_in(browser, base, "q@lab.co", password, lang="es")
        assert browser.find_element(By.ID, "login-message").text.startswith("Demasiados intentos fallidos")
        assert not browser.find_elements(By.ID, "whoami")
        assert offsite_requests(browser) == []
