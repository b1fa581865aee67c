"""Filters refuse what they do not know — API (422 problem+json) and pages (a visible error, the form kept)."""

from __future__ import annotations

import pytest

from ews.app import create_app
from tests.browser import console_errors, offsite_requests
from tests.ews.test_alerts import NEW_NITAZENE, report
from tests.ews.test_detections_api import FENTANYL, detection
from tests.support import post_form, running


def problem(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize(
    ("path", "params", "field", "accepted"),
    [
        ("/api/v1/detections", {"country": "Colombia"}, "country", "ISO 3166-1"),
        ("/api/v1/detections", {"country": "XX"}, "country", "ISO 3166-1"),
        ("/api/v1/detections", {"verdict": "illegal"}, "verdict", "controlled, precursor, analog"),
        ("/api/v1/detections", {"class": "opiates"}, "class", "opioid"),
        ("/api/v1/detections", {"since": "01/11/2026"}, "since", "date"),
        ("/api/v1/detections", {"since": "2026-11-05", "until": "2026-11-01"}, "until", "before"),
        ("/api/v1/detections", {"countri": "CO"}, "countri", "country"),
        ("/api/v1/alerts", {"severity": "High"}, "severity", "Extreme, Severe"),
        ("/api/v1/alerts", {"status": "open"}, "status", "draft, published"),
        ("/api/v1/alerts", {"country": "ZZ"}, "country", "ISO 3166-1"),
        ("/api/v1/alerts", {"class": "opiates"}, "class", "opioid"),
        ("/api/v1/alerts", {"jurisdiction": "CO"}, "jurisdiction", "severity"),
        ("/feeds/alerts.json", {"since": "2026-11-01"}, "since", "after"),
        ("/feeds/alerts.json", {"after": "not-a-cursor"}, "after", "cursor"),
        ("/feeds/alerts.atom", {"country": "CO"}, "country", "none"),
        ("/api/v1/substances", {"name": "fentanyl"}, "name", "q, "),
    ],
)
def test_api_filters_refuse_unknown_values_and_parameters(client, actors, path, params, field, accepted):
    body = problem(client.get(path, params=params, headers=actors["regional"].headers))
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert field in errors, body
    assert accepted in errors[field]


def test_a_known_filter_still_filters(client, actors):
    lab = actors["lab_co"]
    for ref, seized in (("F-1", "2026-11-01"), ("F-2", "2026-11-04")):
        body = detection(ref)
        body["sample"]["seized_on"] = seized
        body["components"] = [{"smiles": FENTANYL}]
        assert client.post("/api/v1/detections", json=body, headers=lab.headers).status_code == 201
    listed = client.get("/api/v1/detections", params={"since": "2026-11-02", "lang": "es"}, headers=lab.headers)
    assert [d["external_ref"] for d in listed.json()["items"]] == ["F-2"]
    assert client.get("/api/v1/alerts", params={"severity": "Extreme"}, headers=lab.headers).status_code == 200


def test_the_alerts_page_shows_a_filter_it_does_not_know_instead_of_every_alert(client, actors):
    report(client, actors["lab_co"], NEW_NITAZENE, "PAGE-1")
    assert "Extreme" in client.get("/alerts").text
    page = client.get("/alerts", params={"severity": "Catastrophic", "country": "Colombia"})
    assert page.status_code == 422
    assert 'id="form-errors"' in page.text and "Catastrophic" in page.text and "Extreme, Severe" in page.text
    assert "ISO 3166-1" in page.text
    assert 'value="Colombia"' in page.text and "<option selected>Catastrophic</option>" in page.text  # kept
    assert 'id="alerts"' not in page.text  # no list shown as if it were filtered
    unknown = client.get("/alerts", params={"sevrity": "Extreme"})
    assert unknown.status_code == 422 and "sevrity" in unknown.text
    fine = client.get("/alerts", params={"severity": "extreme", "country": "co", "lang": "fr"})
    assert fine.status_code == 200 and 'id="form-errors"' not in fine.text


def test_the_match_form_refuses_a_bad_date_or_jurisdiction_and_keeps_what_was_typed(client):
    page = post_form(client, "/match", {"structures": FENTANYL, "as_of": "31/12/2025", "jurisdiction": "Colombia"})
    assert page.status_code == 422
    assert "31/12/2025" in page.text and "YYYY-MM-DD" in page.text and 'value="Colombia"' in page.text
    assert "ISO 3166-1" in page.text and FENTANYL in page.text and 'id="results"' not in page.text
    ok = post_form(client, "/match", {"structures": FENTANYL, "as_of": "2025-12-31", "jurisdiction": "co"})
    assert ok.status_code == 200 and 'id="results"' in ok.text and 'value="CO"' in ok.text


def test_the_match_form_says_when_it_stopped_at_its_limit(client):
    from ews.web.public import MAX_FORM_STRUCTURES

    lines = [f"{'C' * (i % 9 + 1)}O sample-{i}" for i in range(MAX_FORM_STRUCTURES + 23)]
    page = post_form(client, "/match", {"structures": "\n".join(lines)})
    assert page.status_code == 200
    assert (
        f"Only the first {MAX_FORM_STRUCTURES} of {MAX_FORM_STRUCTURES + 23} structures were identified"
        in page.text
    )
    assert page.text.count('class="drawing"') == MAX_FORM_STRUCTURES
    spanish = post_form(client, "/match?lang=es", {"structures": "\n".join(lines)})
    assert f"las primeras {MAX_FORM_STRUCTURES} de {MAX_FORM_STRUCTURES + 23}" in spanish.text
    within = post_form(client, "/match", {"structures": "\n".join(lines[:3])})
    assert 'id="form-notices"' not in within.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_refused_filter_is_visible_in_the_browser(browser, settings):
    from selenium.webdriver.common.by import By

    with running(create_app(settings)) as base:
        browser.get(f"{base}/alerts?severity=Catastrophic&country=CO")
        box = browser.find_element(By.ID, "form-errors")
        assert box.is_displayed() and "Catastrophic" in box.text and "Extreme" in box.text
        assert browser.find_element(By.NAME, "country").get_attribute("value") == "CO"
        assert offsite_requests(browser) == []
        # the page answers 422 (the request was not understood); Chromium logs that status, nothing else
        assert [e for e in console_errors(browser) if "status of 422" not in e] == []


def test_the_match_endpoint_refuses_an_unknown_jurisdiction_or_date(client, actors):
    body = problem(
        client.post(
            "/api/v1/match",
            json={"smiles": FENTANYL, "jurisdiction": "Colombia", "as_of": "2026-13-01"},
            headers=actors["lab_co"].headers,
        )
    )
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert "UN or an ISO 3166-1 alpha-2 code" in errors["jurisdiction"] and "as_of" in errors


def test_a_language_chosen_with_lang_holds_for_the_form_it_shows(client):
    # The form posts to /match without a query string: the answer stays in the chosen language.
    from tests.ews.workspace_support import csrf_of

    page = client.get("/match", params={"lang": "es"})
    assert page.cookies.get("ews_lang") == "es"
    answer = client.post("/match", data={"structures": FENTANYL, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 200 and 'id="results"' in answer.text
    assert '<html lang="es">' in answer.text and "Identificar estructuras" in answer.text
    assert '<html lang="fr">' in client.get("/match", params={"lang": "fr"}).text  # a new choice wins
    assert '<html lang="fr">' in client.get("/alerts").text
