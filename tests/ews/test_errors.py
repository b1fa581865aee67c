"""Errors name the exact field, all at once; atom numbers and JSON positions say how they count."""

from __future__ import annotations

from datetime import date, timedelta

from rdkit import Chem

from ews.models import Detection
from tests.ews.test_detections_api import ISOTONITAZENE_HCL, count, detection


def problem(response) -> dict:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def test_a_date_error_names_the_date_field_not_the_sample(client, actors):
    lab = actors["lab_co"]
    future = detection("E-1")
    future["sample"]["seized_on"] = (date.today() + timedelta(days=3)).isoformat()
    future["sample"]["analyzed_on"] = None
    assert list(fields(problem(client.post("/api/v1/detections", json=future, headers=lab.headers)))) == [
        "sample.seized_on"
    ]
    backwards = detection("E-2")
    backwards["sample"]["analyzed_on"] = "2026-11-01"  # seized 2026-11-20
    errors = fields(problem(client.post("/api/v1/detections", json=backwards, headers=lab.headers)))
    assert list(errors) == ["sample.analyzed_on"] and "before seized_on" in errors["sample.analyzed_on"]


def test_every_invalid_field_and_unreadable_structure_is_reported_together(client, actors, settings):
    body = detection("E-3")
    body["sample"]["country"] = "Colombia"
    body["sample"]["form"] = "rock"
    body["components"][1]["smiles"] = "CC(C)(C)(C)C"
    body["components"].append({"inchi": "InChI=garbage"})
    errors = fields(problem(client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)))
    assert set(errors) == {"sample.country", "sample.form", "components[1].smiles", "components[2].inchi"}
    assert "atom 2 (C)" in errors["components[1].smiles"]
    assert count(settings.database_url, Detection) == 0


def test_atom_numbers_in_messages_count_from_1_and_say_so_shared_atoms_from_0(client, actors):
    body = detection("E-4")
    body["components"] = [{"smiles": "OCC(C)(C)(C)(C)C"}]  # the third atom written is the pentavalent carbon
    message = fields(problem(client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)))[
        "components[0].smiles"
    ]
    assert "atom 3 (C)" in message and "numbered from 1" in message
    result = client.post(
        "/api/v1/match", json={"smiles": ISOTONITAZENE_HCL.removesuffix(".Cl")}, headers=actors["lab_co"].headers
    ).json()["results"][0]
    atoms = Chem.MolFromSmiles(result["standardized"]["smiles"]).GetNumAtoms()
    shared = [m["shared_atoms"] for m in result["matches"] if m.get("shared_atoms")]
    assert shared and all(0 <= i < atoms for indices in shared for i in indices)
    assert any(0 in indices for indices in shared)  # indices start at 0


def test_malformed_json_names_line_and_column(client, actors):
    text = '{\n  "sample": {"country": "CO"},\n  "components": [{"smiles": "CCO"},]\n}'
    lab = {**actors["lab_co"].headers, "content-type": "application/json"}
    for path in ("/api/v1/detections", "/api/v1/detections:batch"):
        (error,) = problem(client.post(path, content=text, headers=lab))["errors"]
        assert error["field"] == "body" and error["code"] == "json_invalid"
        assert "line 3, column 36" in error["message"], error["message"]
