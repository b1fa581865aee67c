"""Helpers for the workspace tests: people with accounts, signing in by browser and by TestClient."""

from __future__ import annotations

import re

from ews.db import engine_for, session_scope
from ews.models import Organisation
from ews.services.accounts import create_user
from tests.support import WAIT

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(url: str, organisation_id: str, email: str, roles=None, name: str | None = None) -> str:
    """A person in the organisation; returns the generated password."""
    with session_scope(engine_for(url)) as session:
        organisation = session.get(Organisation, organisation_id)
        _, password = create_user(session, organisation, email, roles, name=name)
    return password


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def client_sign_in(client, email: str, password: str):
    """Sign a TestClient in through the form; returns the response to the POST."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )


def browser_sign_in(browser, base: str, email: str, password: str, lang: str = "en") -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/login?lang={lang}")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    submit_and_wait(browser, browser.find_element(By.ID, "sign-in"))


def submit_and_wait(browser, element) -> None:
    """Click a button that loads a new page, and wait until the new page is there."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    element.click()

    def old_page_gone(_driver) -> bool:
        try:
            old.is_enabled()
        except WebDriverException:  # stale, or "does not belong to the document" mid-navigation: gone either way
            return True
        return False

    WebDriverWait(browser, WAIT).until(old_page_gone)
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
