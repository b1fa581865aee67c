"""Every page in a real Chromium: nothing from another host, no console error, no serious axe-core finding;
and the dashboard and substance pages drawing their charts from the API."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from bench.pages import page_routes, populate
from ews.app import create_app
from ews.db import engine_for
from ews.models import Alert
from ews.services.library import LibraryHolder
from tests.browser import console_errors, offsite_requests
from tests.support import WAIT, running, wait_for

AXE = Path(__file__).resolve().parents[2] / "ews" / "static" / "vendor" / "axe.min.js"
SIGN_IN_STATUSES = (401, 403)


@pytest.fixture
def filled(settings):
    engine = engine_for(settings.database_url)
    populate(engine, LibraryHolder(engine).get(), detections=400, alerts=40, seed=3)
    with Session(engine) as db:
        alert = db.exec(select(Alert).where(col(Alert.status) == "published")).first()
    assert alert is not None
    return {"alert_id": alert.id, "substance_id": "isotonitazene"}


def axe_violations(browser) -> list[str]:
    """Serious and critical axe-core findings on the loaded page (axe injected from the vendored file)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets`")
    browser.execute_script(AXE.read_text())
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations)).catch(e => done(String(e)));"
    )
    assert isinstance(found, list), found
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def settle(browser) -> None:
    """Wait until the page's scripts have drawn what they fetch (charts, Swagger UI)."""
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    wait_for(
        lambda: browser.execute_script(
            "const n = document.querySelector('[data-ready], #dashboard, #monthly');"
            "if (document.getElementById('swagger-ui')) return !!document.querySelector('#swagger-ui .info');"
            "return !n || !!n.dataset.ready;"
        )
    )


def settled_violations(browser) -> list:
    """The page's axe violations once it has stopped drawing: Swagger UI fades its buttons in, so a
    violation seen mid-drawing is read again (up to 30 s); one that stays is returned."""
    readings: list = []

    def accessible() -> bool:
        readings.append(axe_violations(browser))
        return not readings[-1]

    with contextlib.suppress(AssertionError):
        wait_for(accessible, timeout=30)
    return readings[-1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_offline_accessible_and_quiet(browser, settings, filled):
    app = create_app(settings)
    routes = page_routes(app, filled)
    assert {"/", "/alerts", "/match", "/substances", "/dashboard", "/docs"} <= set(routes)
    assert f"/alerts/{filled['alert_id']}" in routes and "/substances/isotonitazene" in routes
    routes += ["/dashboard?lang=es", "/substances?q=nitazene", "/substances/isotonitazene?lang=fr"]
    checked = []
    with running(app) as base:
        for route in routes:
            status = httpx.get(base + route, timeout=WAIT, follow_redirects=False).status_code
            if status in SIGN_IN_STATUSES or 300 <= status < 400:
                continue  # needs a signed-in person: covered where sign-in exists
            assert status == 200, route
            browser.get(base + route)
            settle(browser)
            assert offsite_requests(browser) == [], route
            assert console_errors(browser) == [], route
            assert settled_violations(browser) == [], route
            checked.append(route)
    assert len(checked) >= 9


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dashboard_draws_every_chart_from_the_api(browser, settings, filled):
    from selenium.webdriver.common.by import By

    with running(create_app(settings)) as base:
        browser.get(f"{base}/dashboard?class=opioid&lang=es")
        wait_for(lambda: browser.find_element(By.ID, "dashboard").get_attribute("data-ready") == "true")
        figures = browser.find_elements(By.CSS_SELECTOR, "figure.chart")
        assert [f.get_attribute("data-chart") for f in figures] == [
            "by_class",
            "new_by_quarter",
            "first_by_country",
            "delays",
            "sold_as",
            "adulterants",
        ]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-by_class rect.bar")) > 10
        legend = browser.find_element(By.CSS_SELECTOR, "#chart-by_class .legend").text
        assert legend == "opioide"  # the class filter holds, in the page's language
        shaded = browser.find_elements(
            By.CSS_SELECTOR, "#chart-first_by_country path.country:not([data-value='0'])"
        )
        assert shaded, "the map shows the countries with first detections"
        assert browser.find_element(By.CSS_SELECTOR, "#chart-by_class .read-at").get_attribute("datetime")
        disclosure = browser.find_element(By.CSS_SELECTOR, "#chart-new_by_quarter details.data")
        disclosure.find_element(By.TAG_NAME, "summary").click()  # the numbers, for keyboards and screen readers
        cells = disclosure.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert cells and cells[0].text.startswith("20")
        assert "opioide" in browser.find_element(By.CSS_SELECTOR, "#chart-by_class .filters-text").text
        link = browser.find_element(By.CSS_SELECTOR, "#chart-adulterants a.csv").get_attribute("href")
        assert "chart=adulterants" in link and "class=opioid" in link
        csv_text = httpx.get(link, timeout=WAIT).text
        assert (
            csv_text.splitlines()[1].startswith("# filters: from=") and "class=opioid" in csv_text.splitlines()[1]
        )
        assert csv_text.splitlines()[2].startswith("# read_at: ")
        assert offsite_requests(browser) == [] and console_errors(browser) == []

        browser.get(f"{base}/dashboard?class=nonsense")
        assert "nonsense" in browser.find_element(By.CSS_SELECTOR, ".problem").text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_substance_search_and_page(browser, settings, filled):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    with running(create_app(settings)) as base:
        browser.get(f"{base}/substances")
        box = browser.find_element(By.ID, "q")
        box.send_keys("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21")  # isotonitazene, pasted
        searched_from = browser.find_element(By.TAG_NAME, "html")
        browser.find_element(By.ID, "search").click()
        # the form is a GET: wait for the page it leaves to go, then for the answer's rows
        WebDriverWait(browser, WAIT).until(staleness_of(searched_from))
        first = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#substances tbody tr a"))[0]
        assert first.text == "isotonitazene"
        results = browser.find_element(By.TAG_NAME, "html")
        first.click()
        WebDriverWait(browser, WAIT).until(staleness_of(results))
        wait_for(lambda: browser.find_element(By.ID, "monthly").get_attribute("data-ready") == "true")
        assert browser.find_element(By.ID, "name").text == "isotonitazene"
        assert browser.find_element(By.ID, "inchikey").text == "OIOQREYBGDAYGT-UHFFFAOYSA-N"
        assert "CND decision 64/1" in browser.find_element(By.ID, "controls").text
        assert browser.find_elements(By.CSS_SELECTOR, "#monthly rect.bar")
        analogs = browser.find_elements(By.CSS_SELECTOR, "#analogs li")
        assert analogs and "metonitazene" in analogs[0].text
        assert browser.find_elements(By.CSS_SELECTOR, "#analogs li .structure svg")
        assert browser.find_elements(By.CSS_SELECTOR, "#firsts tbody tr")
        assert offsite_requests(browser) == [] and console_errors(browser) == []

        browser.get(f"{base}/substances?q=OIOQREYBGDAYGT-UHFFFAOYSA-N")
        assert browser.find_element(By.CSS_SELECTOR, "#substances tbody tr a").text == "isotonitazene"
        browser.get(f"{base}/substances?q=heroína")
        assert not browser.find_elements(By.ID, "substances")
        browser.get(f"{base}/substances?q=diamorphine")
        assert browser.find_element(By.CSS_SELECTOR, "#substances tbody tr a").text == "heroin"


def _contrast_on_white(rgb: str) -> float:
    """WCAG contrast ratio of a CSS ``rgb(r, g, b)`` colour against white."""
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_documents_authorize_button_is_readable(browser, settings):
    """Swagger UI draws its Authorize button green on white at 2.1:1; ews's stylesheet darkens it to
    at least 4.5:1. Read from the drawn page, once the button's colour transition is over (axe-core
    reported it only now and then, as the button faded in)."""
    with running(create_app(settings)) as base:
        browser.get(base + "/docs")
        settle(browser)
        colour = "return getComputedStyle(document.querySelector('#swagger-ui .btn.authorize')).color;"
        wait_for(lambda: browser.execute_script("return !!document.querySelector('#swagger-ui .btn.authorize')"))
        readings: list[float] = []
        wait_for(
            lambda: readings.append(_contrast_on_white(browser.execute_script(colour))) or readings[-1] >= 4.5
        )
        assert readings[-1] >= 4.5
