"""The API documentation at /docs works with no other host: Swagger UI served by the node itself."""

from __future__ import annotations

import pytest

from ews.app import create_app
from tests.browser import console_errors, offsite_requests
from tests.support import WAIT, running


def test_docs_page_and_assets_are_local_and_redoc_is_not_served(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "://" not in page.text  # every URL on the page is this node's
    assert "<script>" not in page.text  # no inline script: a CSP of script-src 'self' holds
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/docs.js",
    ):
        assert asset in page.text
        assert client.get(asset).status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["openapi"].startswith("3.")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_docs_render_the_operations_in_a_browser_without_internet(browser, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with running(create_app(settings)) as base:
        browser.get(f"{base}/docs")
        operations = WebDriverWait(browser, WAIT).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        )
        paths = {o.get_attribute("data-path") or o.text for o in operations}
        assert "/api/v1/detections" in paths and "/api/v1/detections:batch" in paths
        assert offsite_requests(browser) == []
        assert console_errors(browser) == []
