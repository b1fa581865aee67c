"""The dossier for expedited control: HTML and PDF, in English and Spanish, with every section."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.ews.test_profiles import CAFFEINE, PARACETAMOL, post

# unlisted 4-pentyloxy nitazene with a piperidine (an analog: high-harm family, in no schedule)
NEW_NITAZENE = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"
PRECURSOR = "CCN(CC)CCNc1ccc([N+](=O)[O-])cc1N"


def seizure(ref, country, seized, purity, region=None):
    return {
        "external_ref": ref,
        "sample": {
            "form": "powder",
            "sold_as": "heroína",
            "seized_on": seized,
            "country": country,
            "region": region,
        },
        "components": [
            {
                "smiles": NEW_NITAZENE,
                "name": "N-piperidino pentyloxynitazene",
                "purity_percent": purity,
                "role": "active",
            },
            {"smiles": CAFFEINE, "purity_percent": 20.0, "role": "adulterant"},
            {"smiles": PARACETAMOL, "purity_percent": 35.0, "role": "adulterant"},
            {"smiles": PRECURSOR, "purity_percent": 0.3, "role": "impurity"},
        ],
        "case_ref": "PRIVATE-CASE",
    }


@pytest.fixture
def reported(client, actors):
    first = post(client, actors["lab_co"], seizure("D-1", "CO", "2026-08-14", 5.0, "Antioquia"))
    post(client, actors["lab_co2"], seizure("D-2", "CO", "2026-09-03", 5.2))
    post(client, actors["lab_mx"], seizure("D-3", "MX", "2026-09-20", 4.9, "Sinaloa"))
    return first["components"][0]["match"]["standardized"]["inchikey"]


SECTIONS = {
    "en": [
        "Identity",
        "Chemistry and nearest controlled analogs",
        "Legal status by jurisdiction",
        "Generic definitions that cover it",
        "Detections by country and month",
        "First detections",
        "Forms and what it was sold as",
        "Co-occurring substances",
        "Linked clusters",
        "Alerts issued",
        "Provenance",
    ],
    "es": [
        "Identidad",
        "Química y análogos fiscalizados más próximos",
        "Situación jurídica por jurisdicción",
        "Definiciones genéricas que la abarcan",
        "Detecciones por país y mes",
        "Primeras detecciones",
        "Formas y cómo se vendió",
        "Sustancias concurrentes",
        "Conglomerados vinculados",
        "Alertas emitidas",
        "Procedencia",
    ],
}


def test_dossier_html_has_every_section_with_the_figures(client, actors, reported):
    response = client.get(f"/api/v1/substances/{reported}/dossier", headers=actors["authority_co"].headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    for title in SECTIONS["en"]:
        assert title in html, title
    assert reported in html and "InChI=1S/" in html and "C26H34N4O3" in html
    assert "<svg" in html and "<script" not in html and "style=" not in html  # the CSP forbids inline styles
    assert "2026-08" in html and "2026-09" in html and "Mexico" in html and "Colombia" in html
    assert "caffeine" in html and "heroína" in html
    assert "PRIVATE" not in html
    spanish = client.get(f"/api/v1/substances/{reported}/dossier?lang=es", headers=actors["regional"].headers).text
    for title in SECTIONS["es"]:
        assert title in spanish, title
    assert "México" in spanish and "análogo de una sustancia fiscalizada" in spanish
    for lang, title in (("pt", "Situação jurídica por jurisdição"), ("fr", "Statut juridique par juridiction")):
        page = client.get(f"/api/v1/substances/{reported}/dossier?lang={lang}", headers=actors["admin"].headers)
        assert title in page.text and f'lang="{lang}"' in page.text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_dossier_pdf_text_carries_the_sections(client, actors, reported, lang):
    response = client.get(
        f"/api/v1/substances/{reported}/dossier?format=pdf&lang={lang}", headers=actors["admin"].headers
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    for title in SECTIONS[lang]:
        assert title in flat, title
    assert "C26H34N4O3" in flat and "Sinaloa" in flat
    if lang == "es":
        assert "Situación jurídica" in flat and "heroína" in flat  # accents survive the font


def test_dossier_of_a_listed_substance_and_who_may_fetch_it(client, actors):
    response = client.get("/api/v1/substances/fentanyl/dossier", headers=actors["regional"].headers)
    assert response.status_code == 200
    assert "1961 Single Convention" in response.text and "InChI=1S/C22H28N2O" in response.text
    assert client.get("/api/v1/substances/fentanyl/dossier", headers=actors["lab_co"].headers).status_code == 403
    assert client.get("/api/v1/substances/fentanyl/dossier").status_code == 401
    missing = client.get("/api/v1/substances/no-such-thing/dossier", headers=actors["admin"].headers)
    assert missing.status_code == 404
