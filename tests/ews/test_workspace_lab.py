"""A lab in a real browser: report one detection (check, then save), upload a CSV, read its detections."""

from __future__ import annotations

import json

import httpx
import pytest

from ews.app import create_app
from tests.browser import console_errors, offsite_requests
from tests.ews.test_alerts import NEW_CATHINONE
from tests.ews.workspace_support import browser_sign_in, make_user, submit_and_wait
from tests.support import WAIT, running

BATCH = (
    "external_ref,country,seized_on,form,sold_as,smiles,name,purity_percent,case_ref\n"
    "B-1,CO,2026-11-02,tablet,ecstasy,CC(Cc1ccc2c(c1)OCO2)NC,MDMA,35,CASE-B1\n"
    "B-2,CO,2026-11-03,powder,,C1CC(,broken,,\n"
    "B-3,XX,2026-11-03,powder,,Cn1cnc2c1c(=O)n(C)c(=O)n2C,caffeine,,\n"
    "B-4,CO,2026-11-04,powder,cocaine,Cn1cnc2c1c(=O)n(C)c(=O)n2C,caffeine,60,\n"
    "B-4,CO,2026-11-04,powder,cocaine,CCN(CC)C(=O)C1CN(C)C2CC3=CNC4=CC=CC(=C34)C2=C1,LSD,0.1,\n"
)


def _cookies(browser) -> dict[str, str]:
    return {c["name"]: c["value"] for c in browser.get_cookies()}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lab_submits_a_detection_and_uploads_a_batch(browser, actors, settings, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url = settings.database_url
    password = make_user(url, actors["lab_co"].organisation_id, "quimica@lab-medellin.co", name="Dra. Gómez")
    other = make_user(url, actors["lab_co2"].organisation_id, "analista@lab-bogota.co")
    with running(create_app(settings)) as base:
        browser_sign_in(browser, base, "quimica@lab-medellin.co", password)
        browser.get(f"{base}/submit")
        assert browser.find_element(By.ID, "country").get_attribute("value") == "CO"  # the lab's country
        assert browser.find_element(By.CSS_SELECTOR, '#editor[data-target="molfile"]')
        browser.execute_script("arguments[0].value = '2026-11-20'", browser.find_element(By.ID, "seized_on"))
        Select(browser.find_element(By.ID, "form")).select_by_value("powder")
        browser.find_element(By.ID, "sold_as").send_keys("ketamine")
        browser.find_element(By.ID, "structure_0").send_keys(NEW_CATHINONE)
        browser.find_element(By.ID, "name_0").send_keys("3F-4-MeO-NEH")
        browser.find_element(By.ID, "purity_0").send_keys("41.5")
        browser.find_element(By.ID, "structure_1").send_keys("Cn1cnc2c1c(=O)n(C)c(=O)n2C")
        browser.find_element(By.ID, "external_ref").send_keys("MED-2026-0117")
        browser.find_element(By.ID, "case_ref").send_keys("CASE-PRIVATE-77")
        browser.find_element(By.CSS_SELECTOR, 'input[name="techniques"][value="GC-MS"]').click()
        # the seizure's profile: each component's role and amount per unit, and what the unit looks like
        Select(browser.find_element(By.ID, "role_0")).select_by_value("active")
        Select(browser.find_element(By.ID, "role_1")).select_by_value("adulterant")
        browser.find_element(By.ID, "amount_1").send_keys("-3")
        browser.find_element(By.ID, "logo").send_keys("Tesla")
        browser.find_element(By.ID, "colour").send_keys("pink")
        browser.find_element(By.ID, "tablet_mass_mg").send_keys("312,5")

        # a bad value is named by its field, and everything typed stays in the form
        submit_and_wait(browser, browser.find_element(By.ID, "check"))
        assert "components[1].amount_mg" in browser.find_element(By.ID, "form-errors").text
        assert all("status of 422" in e for e in console_errors(browser))  # the page's own answer, nothing else
        assert browser.find_element(By.ID, "logo").get_attribute("value") == "Tesla"
        assert Select(browser.find_element(By.ID, "role_1")).first_selected_option.get_attribute("value") == (
            "adulterant"
        )
        browser.find_element(By.ID, "amount_1").clear()
        browser.find_element(By.ID, "amount_1").send_keys("12,5")

        # check first: the match is shown and nothing is stored yet
        submit_and_wait(browser, browser.find_element(By.ID, "check"))
        verdicts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#check-results .verdict")]
        assert verdicts == ["analog", "known"]
        assert "no-detections" in httpx.get(f"{base}/detections", cookies=_cookies(browser), timeout=WAIT).text

        submit_and_wait(browser, browser.find_element(By.ID, "save"))
        assert "/detections/" in browser.current_url
        detection_url = browser.current_url
        assert browser.find_element(By.ID, "case-ref").text == "CASE-PRIVATE-77"
        assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#components td.role")] == [
            "active",
            "adulterant",
        ]
        assert browser.find_element(By.ID, "appearance-logo").text == "Tesla"
        detection_id = detection_url.rsplit("/", 1)[1]
        stored = httpx.get(
            f"{base}/api/v1/detections/{detection_id}", cookies=_cookies(browser), timeout=WAIT
        ).json()
        assert [(c["role"], c["amount_mg"]) for c in stored["components"]] == [
            ("active", None),
            ("adulterant", 12.5),
        ]
        assert stored["sample"]["appearance"] == {"colour": "pink", "logo": "Tesla", "mass_mg": 312.5}
        assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#components .verdict")] == [
            "analog",
            "known",
        ]
        assert not browser.find_elements(
            By.CSS_SELECTOR, "#alerts a"
        )  # its alert is a draft: labs don't see drafts

        # the list, filtered, and its CSV (private fields: this lab's own)
        browser.get(f"{base}/detections?verdict=analog&lang=es")
        rows = browser.find_elements(By.CSS_SELECTOR, "#detections tr")
        assert len(rows) == 2 and "MED-2026-0117" in rows[1].text and "20 nov 2026" in rows[1].text
        csv_text = httpx.get(
            base + browser.find_element(By.ID, "csv").get_attribute("href").removeprefix(base),
            cookies=_cookies(browser),
            timeout=WAIT,
        ).text
        lines = csv_text.splitlines()  # one row per component of the matching detection
        assert len(lines) == 3 and all("CASE-PRIVATE-77" in line for line in lines[1:])

        # a batch: per-row results with the errors named, and a results CSV
        batch = tmp_path / "batch.csv"
        batch.write_text(BATCH)
        browser.get(f"{base}/upload?lang=en")  # back from the Spanish list: a chosen language holds
        assert "purity_percent" in browser.find_element(By.ID, "columns").text
        browser.find_element(By.ID, "file").send_keys(str(batch))
        browser.find_element(By.ID, "upload").click()
        WebDriverWait(browser, WAIT).until(lambda d: d.find_elements(By.ID, "results"))
        assert "/upload/" in browser.current_url
        sent = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
        posts = [
            m["params"]
            for m in sent
            if m.get("method") == "Network.requestWillBeSent" and m["params"]["request"]["method"] == "POST"
        ]
        assert [p.get("type") for p in posts if "/upload" in p["request"]["url"]] == ["XHR"]  # upload.js sent it
        assert all(p["request"]["url"].startswith(base) for p in posts)
        results = browser.find_elements(By.CSS_SELECTOR, "#results tr")[1:]
        assert [r.get_attribute("data-status") for r in results] == ["201", "422", "422", "201"]
        assert "components[0].smiles" in results[1].text and "syntax error" in results[1].text
        assert "sample.country" in results[2].text and "ISO 3166" in results[2].text
        assert browser.find_element(By.ID, "summary").text.startswith("2 stored, 0 already stored, 2 failed")
        results_csv = httpx.get(
            base + browser.find_element(By.ID, "results-csv").get_attribute("href").removeprefix(base),
            cookies=_cookies(browser),
            timeout=WAIT,
        ).text.splitlines()
        assert results_csv[0] == "row,external_ref,status,detection_id,verdicts,errors"
        assert results_csv[4].startswith("4,B-4,201,") and "known;controlled" in results_csv[4]

        assert console_errors(browser) == []
        assert offsite_requests(browser) == []

        # another lab: no other lab's detection, no private field anywhere
        browser.delete_all_cookies()
        browser_sign_in(browser, base, "analista@lab-bogota.co", other)
        browser.get(detection_url)
        assert browser.find_element(By.TAG_NAME, "main").get_attribute("data-error") == "404"
        assert [e for e in console_errors(browser) if "404" not in e] == []  # the 404 itself is logged
        browser.get(f"{base}/detections")
        assert browser.find_elements(By.ID, "no-detections")
        for page in (f"{base}/alerts", f"{base}/"):
            browser.get(page)
            assert "CASE-PRIVATE" not in browser.page_source and "MED-2026-0117" not in browser.page_source
        assert console_errors(browser) == []
