"""The laws of the Americas through the service: the library stored in the database, the API and the form."""

from __future__ import annotations

import json
import os
import re

from chem.library import bundled_jurisdictions
from tests.ews.test_cli import ews
from tests.support import post_form

KETAMINE = "CNC1(CCCCC1=O)c1ccccc1Cl"
ADB_HEXINACA = "CCCCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21"


def test_the_match_api_answers_from_a_countrys_law(client, actors):
    headers = actors["lab_co"].headers
    us = client.post(
        "/api/v1/match", json={"smiles": KETAMINE, "jurisdiction": "US", "as_of": "2026-01-01"}, headers=headers
    ).json()["match"]
    assert us["verdict"] == "controlled" and us["jurisdiction"] == "US"
    assert [
        (c["jurisdiction"], c["instrument"], c["schedule"], c["controlled_since"], c["basis"])
        for c in us["controls"]
    ] == [("US", "Controlled Substances Act (21 CFR 1308.13)", "III", "1999-08-12", "listed")]
    un = client.post(
        "/api/v1/match", json={"smiles": KETAMINE, "jurisdiction": "UN", "as_of": "2026-01-01"}, headers=headers
    ).json()["match"]
    assert un["verdict"] == "known" and un["controls"] == []
    brazil = client.post(
        "/api/v1/match",
        json={"smiles": ADB_HEXINACA, "jurisdiction": "BR", "as_of": "2026-01-01"},
        headers=headers,
    ).json()["match"]
    assert brazil["verdict"] == "controlled"
    assert [c["definition"] for c in brazil["controls"]] == ["br-f2-b6-indazole-indole-3-carboxamides"]


def test_the_match_form_offers_and_answers_the_bundled_jurisdictions(client):
    page = client.get("/match")
    assert page.status_code == 200
    offered = re.findall(r'<option value="([A-Z]{2})">', page.text)
    assert offered == list(bundled_jurisdictions()) and {"UN", "US", "BR", "CA", "AR", "MX"} <= set(offered)
    answer = post_form(
        client,
        "/match",
        {"structures": f"{ADB_HEXINACA} adb-hexinaca", "as_of": "2026-01-01", "jurisdiction": "br"},
    )
    assert answer.status_code == 200
    assert "Portaria SVS/MS 344/1998" in answer.text and 'value="BR"' in answer.text


def test_ews_match_jurisdiction_us_names_the_us_instrument(tmp_path, cache_dir):
    env = {**os.environ, "EWS_CACHE_DIR": str(cache_dir), "EWS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    args = ("match", "--smiles", KETAMINE, "--as-of", "2026-01-01", "--format", "json")
    us = json.loads(ews(*args, "--jurisdiction", "US", env=env, check=0).stdout)
    assert us["verdict"] == "controlled"
    assert [(c["jurisdiction"], c["instrument"], c["schedule"]) for c in us["controls"]] == [
        ("US", "Controlled Substances Act (21 CFR 1308.13)", "III")
    ]
    assert json.loads(ews(*args, env=env, check=0).stdout)["verdict"] == "known"  # UN by default
    table = ews(*args[:-2], "--jurisdiction", "br", "--format", "table", env=env, check=0).stdout
    assert "Portaria SVS/MS 344/1998, Lista C1" in table
