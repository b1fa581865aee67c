"""Batch uploads say what they did with every row: columns, total failure, duplicates — both databases."""

from __future__ import annotations

from ews.models import Detection
from ews.services.batches import CSV_COLUMNS
from tests.ews.test_detections_api import CAFFEINE, FENTANYL, count, detection

URL = "/api/v1/detections:batch"


def post_csv(client, actor, text: str, **headers):
    return client.post(URL, files={"file": ("batch.csv", text, "text/csv")}, headers={**actor.headers, **headers})


def test_an_unknown_csv_column_is_422_naming_it_and_the_accepted_ones(client, actors, settings):
    text = f"external_ref,country,seized_date,smiles\nU-1,CO,2026-11-01,{FENTANYL}\n"
    response = post_csv(client, actors["lab_co"], text)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    (error,) = problem["errors"]
    assert error["field"] == "file.columns[2]" and "'seized_date'" in error["message"]
    assert "seized_on" in error["message"] and "external_ref" in error["message"]
    assert "seized_date" in problem["detail"]
    assert count(settings.database_url, Detection) == 0  # nothing of the file was stored


def test_a_csv_without_a_structure_column_is_422(client, actors):
    response = post_csv(client, actors["lab_co"], "external_ref,country,name\nX,CO,fentanyl\n")
    assert response.status_code == 422
    assert "smiles" in response.json()["errors"][0]["message"]


def test_every_accepted_column_is_read(client, actors):
    values = {
        "external_ref": "ALL-1",
        "country": "CO",
        "region": "Antioquia",
        "form": "tablet",
        "sold_as": "ecstasy",
        "seized_on": "2026-10-01",
        "analyzed_on": "2026-10-03",
        "techniques": "GC-MS;FTIR",
        "confidence": "tentative",
        "smiles": FENTANYL,
        "inchi": "",
        "name": "fentanyl",
        "purity_percent": "7.5",
        "amount_mg": "2.5",
        "role": "active",
        "enantiomer_ratio": "0.5",
        "colour": "pink",
        "logo": "Tesla",
        "shape": "round",
        "mass_mg": "312.5",
        "diameter_mm": "9.1",
        "packaging": "zip bag",
        "case_ref": "C-1",
        "notes": "private",
    }
    assert set(values) == set(CSV_COLUMNS)
    text = ",".join(values) + "\n" + ",".join(values.values()) + "\n"
    response = post_csv(client, actors["lab_co"], text)
    assert response.status_code == 200, response.text
    stored = response.json()["results"][0]["detection"]
    appearance = stored["sample"].pop("appearance")
    assert appearance == {
        "colour": "pink",
        "logo": "Tesla",
        "shape": "round",
        "mass_mg": 312.5,
        "diameter_mm": 9.1,
        "packaging": "zip bag",
    }
    assert stored["sample"] | {"quantity": None, "purity_percent": None} == {
        "form": "tablet",
        "sold_as": "ecstasy",
        "seized_on": "2026-10-01",
        "analyzed_on": "2026-10-03",
        "country": "CO",
        "region": "Antioquia",
        "techniques": ["GC-MS", "FTIR"],
        "confidence": "tentative",
        "quantity": None,
        "purity_percent": None,
    }
    component = stored["components"][0]
    assert (component["name"], component["purity_percent"], component["verdict"]) == (
        "fentanyl",
        7.5,
        "controlled",
    )
    assert (component["amount_mg"], component["role"], component["enantiomer_ratio"]) == (2.5, "active", 0.5)
    assert (stored["external_ref"], stored["case_ref"], stored["notes"]) == ("ALL-1", "C-1", "private")


def test_a_batch_where_every_row_failed_is_422_with_each_rows_errors(client, actors, settings):
    text = f"external_ref,country,smiles\nF-1,XX,{FENTANYL}\nF-2,CO,C1CC(\n"
    response = post_csv(client, actors["lab_co"], text)
    assert response.status_code == 422
    problem = response.json()
    assert problem["summary"]["failed"] == 2 and problem["summary"]["created"] == 0
    fields = {e["field"] for e in problem["errors"]}
    assert {"[0].sample.country", "[1].components[0].smiles"} <= fields
    assert [r["source"] for r in problem["results"]] == ["line 2", "line 3"]
    json_rows = [detection("J-1", country="XX"), {"not": "a detection"}, "text"]
    response = client.post(URL, json=json_rows, headers=actors["lab_co"].headers)
    assert response.status_code == 422 and len(response.json()["results"]) == 3
    assert count(settings.database_url, Detection) == 0
    # one good row among bad ones: 200, the others reported
    response = client.post(URL, json=[detection("J-2"), {"not": "a detection"}], headers=actors["lab_co"].headers)
    assert response.status_code == 200 and [r["status"] for r in response.json()["results"]] == [201, 422]


def test_rows_without_reference_are_deduplicated_by_content_and_warned(client, actors, settings):
    text = (
        "country,seized_on,name,smiles\n"
        f"CO,2026-11-01,fentanyl,{FENTANYL}\n"
        f"CO,2026-11-01,caffeine,{CAFFEINE}\n"
        f"CO,2026-11-01,fentanyl,{FENTANYL}\n"
    )
    response = post_csv(client, actors["lab_co"], text)
    assert response.status_code == 200, response.text
    body = response.json()
    first, second, third = body["results"]
    assert (first["status"], second["status"], third["status"]) == (201, 201, 200)
    assert third["duplicate_of"] == 0 and third["detection"]["id"] == first["detection"]["id"]
    assert "line 2" in third["warnings"][0] and "stored once" in third["warnings"][0]
    assert "external_ref" in first["warnings"][0] and "external_ref" in second["warnings"][0]
    assert body["summary"] == {"created": 2, "replayed": 0, "duplicates": 1, "failed": 0, "warnings": 3}
    assert count(settings.database_url, Detection) == 2

    # the same JSON rows twice in one batch: one detection
    row = detection(None)
    del row["external_ref"]
    response = client.post(URL, json=[row, row], headers=actors["lab_co"].headers)
    assert [r["status"] for r in response.json()["results"]] == [201, 200]
    assert count(settings.database_url, Detection) == 3


def test_a_batch_idempotency_key_makes_the_whole_batch_retry_safe(client, actors, settings):
    text = f"country,smiles\nCO,{FENTANYL}\nCO,{CAFFEINE}\n"
    first = post_csv(client, actors["lab_co"], text, **{"Idempotency-Key": "BATCH-7"})
    again = post_csv(client, actors["lab_co"], text, **{"Idempotency-Key": "BATCH-7"})
    assert [r["status"] for r in first.json()["results"]] == [201, 201]
    assert [r["status"] for r in again.json()["results"]] == [200, 200]
    assert not any(r.get("warnings") for r in first.json()["results"])
    assert count(settings.database_url, Detection) == 2


def test_the_accepted_columns_are_in_the_openapi_description(client):
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    for column in CSV_COLUMNS:
        assert f"`{column}`" in operation["description"]
