"""Labs report detections: idempotency, validation, roles, filters — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import httpx
from rdkit import Chem
from sqlmodel import Session, func, select

from ews.app import create_app
from ews.db import engine_for
from ews.models import AuditEntry, Detection, DetectionComponent
from tests.support import WAIT, running

ISOTONITAZENE_HCL = "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21.Cl"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
FENTANYL = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"


def detection(ref: str = "LAB-2026-0117", country: str = "CO", **overrides) -> dict:
    body = {
        "external_ref": ref,
        "sample": {
            "form": "powder",
            "sold_as": "heroin",
            "seized_on": "2026-11-20",
            "analyzed_on": "2026-11-25",
            "country": country,
            "region": "Antioquia",
            "techniques": ["GC-MS", "LC-HRMS"],
            "confidence": "confirmed",
        },
        "components": [
            {"smiles": ISOTONITAZENE_HCL, "name": "isotonitazene", "purity_percent": 12.5},
            {"smiles": CAFFEINE, "name": "caffeine"},
        ],
        "case_ref": f"CASE-SECRET-{ref}",
        "notes": f"NOTES-SECRET-{ref}",
    }
    body.update(overrides)
    return body


def count(url: str, model) -> int:
    with Session(engine_for(url)) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_a_lab_reports_a_detection_and_each_component_is_matched(client, actors, settings):
    response = client.post("/api/v1/detections", json=detection(), headers=actors["lab_co"].headers)
    assert response.status_code == 201, response.text
    body = response.json()
    iso, caffeine = body["components"]
    assert iso["verdict"] == "controlled" and iso["class"] == "opioid"
    assert iso["match"]["standardized"]["removed_fragments"] == ["Cl"]
    assert iso["match"]["controls"][0]["instrument"] == "1961 Single Convention"
    assert iso["match"]["jurisdiction"] == "CO"
    assert caffeine["verdict"] == "known"
    assert body["case_ref"] == "CASE-SECRET-LAB-2026-0117"
    with Session(engine_for(settings.database_url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "detection.create")).all()
    assert [a.object_id for a in audit] == [body["id"]]


def test_a_retry_returns_the_same_detection(client, actors, settings):
    headers = {**actors["lab_co"].headers, "Idempotency-Key": "7b0b0f5e-retry"}
    first = client.post("/api/v1/detections", json=detection(ref=None), headers=headers)
    again = client.post("/api/v1/detections", json=detection(ref=None), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    by_ref = client.post("/api/v1/detections", json=detection("REF-9"), headers=actors["lab_co"].headers)
    by_ref_again = client.post("/api/v1/detections", json=detection("REF-9"), headers=actors["lab_co"].headers)
    assert (by_ref.status_code, by_ref_again.status_code) == (201, 200)
    assert by_ref.json()["id"] == by_ref_again.json()["id"]
    assert count(settings.database_url, Detection) == 2


def test_a_key_reused_for_a_different_body_is_a_conflict(client, actors, settings):
    headers = actors["lab_co"].headers
    assert client.post("/api/v1/detections", json=detection("REF-1"), headers=headers).status_code == 201
    changed = detection("REF-1")
    changed["sample"]["region"] = "Cundinamarca"
    response = client.post("/api/v1/detections", json=changed, headers=headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert count(settings.database_url, Detection) == 1


def test_a_used_key_is_answered_by_the_stored_detection_without_a_second_write(client, actors, settings):
    """A submission is one transaction and a retry is told by the unique keys refusing the insert:
    the retry is answered with the stored detection, and nothing of it is kept (no second audit row)."""
    headers = {**actors["lab_co"].headers, "Idempotency-Key": "retry-once"}
    first = client.post("/api/v1/detections", json=detection("REF-7"), headers=headers)
    assert first.status_code == 201
    for _ in range(2):
        again = client.post("/api/v1/detections", json=detection("REF-7"), headers=headers)
        assert again.status_code == 200 and again.json() == first.json()
    assert count(settings.database_url, Detection) == 1
    with Session(engine_for(settings.database_url)) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "detection.create")).all()
        components = session.exec(select(DetectionComponent)).all()
    assert [a.object_id for a in audit] == [first.json()["id"]]
    assert len(components) == len(first.json()["components"])


def test_another_lab_may_use_the_same_external_ref(client, actors, settings):
    assert (
        client.post("/api/v1/detections", json=detection("SHARED"), headers=actors["lab_co"].headers).status_code
        == 201
    )
    assert (
        client.post("/api/v1/detections", json=detection("SHARED"), headers=actors["lab_mx"].headers).status_code
        == 201
    )
    assert count(settings.database_url, Detection) == 2


def test_concurrent_submissions_of_one_key_store_one_detection(settings, actors):
    """Eight threads race one Idempotency-Key against a real server: one detection, one 201."""
    app = create_app(settings)
    statuses: list[int] = []
    ids: list[str] = []
    lock = threading.Lock()
    with running(app) as base:
        barrier = threading.Barrier(8)

        def submit():
            barrier.wait()
            response = httpx.post(
                f"{base}/api/v1/detections",
                json=detection(ref=None),
                headers={**actors["lab_co"].headers, "Idempotency-Key": "race-1"},
                timeout=WAIT,
            )
            with lock:
                statuses.append(response.status_code)
                ids.append(response.json().get("id"))

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert len(set(ids)) == 1
    assert count(settings.database_url, Detection) == 1
    assert count(settings.database_url, DetectionComponent) == 2


def test_an_unreadable_structure_is_422_naming_the_component_and_nothing_is_stored(client, actors, settings):
    body = detection()
    body["components"][1] = {"smiles": "CC(C)(C)(C)(C)C", "name": "typo"}
    response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
    assert problem["errors"][0]["field"] == "components[1].smiles"
    assert "bad valence on atom 2 (C)" in problem["errors"][0]["message"]
    assert count(settings.database_url, Detection) == 0
    assert count(settings.database_url, DetectionComponent) == 0


def test_a_structure_read_once_is_not_trusted_when_it_was_unreadable(client, actors, settings):
    """Validation remembers the structures it read without error, never the ones it refused: an
    unreadable SMILES sent again is refused again, next to a readable one accepted each time."""
    for attempt in range(3):
        body = detection(f"READ-{attempt}")
        body["components"][1] = {"smiles": "C1CC", "name": "unclosed ring"}
        response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "components[1].smiles"
        assert "unclosed ring" in response.json()["errors"][0]["message"]
    for attempt in range(2):
        response = client.post(
            "/api/v1/detections", json=detection(f"READ-OK-{attempt}"), headers=actors["lab_co"].headers
        )
        assert response.status_code == 201, response.text
    assert count(settings.database_url, Detection) == 2


def test_invalid_fields_are_each_named(client, actors):
    body = detection()
    body["sample"]["country"] = "XX"
    body["sample"]["form"] = "gaseous"
    body["components"][0]["purity_percent"] = 140
    body["components"][1] = {"name": "no structure"}
    response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"sample.country", "sample.form", "components[0].purity_percent", "components[1]"} <= fields
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "ISO 3166" in messages and "powder" in messages


def test_molfile_and_inchi_components_are_accepted(client, actors):
    body = detection("FORMATS")
    mol = Chem.MolFromSmiles(FENTANYL)
    body["components"] = [
        {"molfile": Chem.MolToMolBlock(mol), "name": "fentanyl"},
        {"inchi": Chem.MolToInchi(Chem.MolFromSmiles(CAFFEINE)), "name": "caffeine"},
    ]
    response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert response.status_code == 201, response.text
    assert [c["verdict"] for c in response.json()["components"]] == ["controlled", "known"]


def test_an_oversized_body_is_413(client, actors, settings):
    body = detection()
    body["notes"] = "x" * (settings.max_body_bytes + 10)
    response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert count(settings.database_url, Detection) == 0


def test_authentication_and_roles(client, actors):
    assert client.post("/api/v1/detections", json=detection()).status_code == 401
    bad = client.post("/api/v1/detections", json=detection(), headers={"Authorization": "Bearer ews_nope"})
    assert bad.status_code == 401 and bad.headers["content-type"].startswith("application/problem+json")
    forbidden = client.post("/api/v1/detections", json=detection(), headers=actors["authority_co"].headers)
    assert forbidden.status_code == 403
    assert client.get("/api/v1/organisations", headers=actors["lab_co"].headers).status_code == 403


def test_who_sees_what(client, actors):
    created = client.post("/api/v1/detections", json=detection("VIS-1"), headers=actors["lab_co"].headers).json()
    path = f"/api/v1/detections/{created['id']}"

    own = client.get(path, headers=actors["lab_co"].headers).json()
    assert own["case_ref"] == "CASE-SECRET-VIS-1" and own["notes"] == "NOTES-SECRET-VIS-1"
    assert client.get(path, headers=actors["lab_co2"].headers).status_code == 404
    assert client.get(path, headers=actors["authority_mx"].headers).status_code == 404
    for reader in ("authority_co", "regional", "admin"):
        seen = client.get(path, headers=actors[reader].headers)
        assert seen.status_code == 200, reader
        assert "case_ref" not in seen.json() and "notes" not in seen.json() and "external_ref" not in seen.json()
    listed = client.get("/api/v1/detections", headers=actors["lab_co2"].headers).json()
    assert listed["items"] == []


def test_revoked_keys_stop_working(client, actors, settings):
    from ews.db import session_scope
    from ews.models import ApiKey
    from ews.services.admin import revoke_key

    lab = actors["lab_mx"]
    assert client.get("/api/v1/detections", headers=lab.headers).status_code == 200
    with session_scope(engine_for(settings.database_url)) as session:
        key = session.exec(select(ApiKey).where(ApiKey.organisation_id == lab.organisation_id)).one()
        revoke_key(session, key.id)
    client.app.state.node.keys._entries.clear()  # the cache would forget it within 2 s anyway
    assert client.get("/api/v1/detections", headers=lab.headers).status_code == 401


def test_filters_and_cursor_pagination(client, actors):
    lab = actors["lab_co"]
    for i in range(5):
        body = detection(f"PAGE-{i}")
        body["components"] = [{"smiles": FENTANYL if i % 2 else CAFFEINE, "name": "x"}]
        body["sample"]["seized_on"] = f"2026-11-0{i + 1}"
        assert client.post("/api/v1/detections", json=body, headers=lab.headers).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/detections", params=params, headers=lab.headers).json()
        seen += [d["external_ref"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"PAGE-{i}" for i in (4, 3, 2, 1, 0)]
    opioids = client.get("/api/v1/detections", params={"class": "opioid"}, headers=lab.headers).json()
    assert sorted(d["external_ref"] for d in opioids["items"]) == ["PAGE-1", "PAGE-3"]
    known = client.get("/api/v1/detections", params={"verdict": "known"}, headers=lab.headers).json()
    assert len(known["items"]) == 3
    dated = client.get(
        "/api/v1/detections", params={"since": "2026-11-02", "until": "2026-11-03"}, headers=lab.headers
    ).json()
    assert sorted(d["external_ref"] for d in dated["items"]) == ["PAGE-1", "PAGE-2"]
    by_substance = client.get("/api/v1/detections", params={"substance": "fentanyl"}, headers=lab.headers).json()
    assert len(by_substance["items"]) == 2
    bad = client.get("/api/v1/detections", params={"class": "opiates", "cursor": "!!"}, headers=lab.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "class"


def test_batch_json_one_bad_row_spares_the_others(client, actors, settings):
    rows = [detection("B-1"), detection("B-2"), detection("B-3")]
    rows[1]["components"][0]["smiles"] = "C1CC("
    response = client.post("/api/v1/detections:batch", json=rows, headers=actors["lab_co"].headers)
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == [201, 422, 201]
    assert body["results"][1]["errors"][0]["field"] == "[1].components[0].smiles"  # the row, then the field
    assert body["summary"] == {"created": 2, "replayed": 0, "duplicates": 0, "failed": 1, "warnings": 0}
    assert count(settings.database_url, Detection) == 2


def test_batch_csv_and_sdf_uploads(client, actors, settings):
    csv_text = (
        "external_ref,country,region,form,seized_on,name,smiles,purity_percent,techniques\n"
        f"CSV-1,CO,Antioquia,powder,2026-11-01,fentanyl,{FENTANYL},4.5,GC-MS;FTIR\n"
        f"CSV-1,CO,Antioquia,powder,2026-11-01,caffeine,{CAFFEINE},,GC-MS;FTIR\n"
        "CSV-2,CO,Antioquia,tablet,2026-11-02,broken,C1CC(,,GC-MS\n"
    )
    response = client.post(
        "/api/v1/detections:batch",
        files={"file": ("batch.csv", csv_text, "text/csv")},
        headers=actors["lab_co"].headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    assert len(results[0]["detection"]["components"]) == 2
    assert results[0]["detection"]["sample"]["techniques"] == ["GC-MS", "FTIR"]

    block = Chem.MolToMolBlock(Chem.MolFromSmiles(FENTANYL))
    sdf = f"fentanyl\n{block.split(chr(10), 1)[1]}> <country>\nMX\n\n> <external_ref>\nSDF-1\n\n$$$$\n"
    response = client.post(
        "/api/v1/detections:batch",
        content=sdf,
        headers={**actors["lab_mx"].headers, "content-type": "chemical/x-mdl-sdfile"},
    )
    assert response.status_code == 200, response.text
    (only,) = response.json()["results"]
    assert only["status"] == 201 and only["detection"]["components"][0]["verdict"] == "controlled"
    assert count(settings.database_url, Detection) == 2


def test_match_endpoint_stores_nothing(client, actors, settings):
    response = client.post(
        "/api/v1/match",
        json={"structures": [{"smiles": FENTANYL}, {"smiles": "C1CC("}], "jurisdiction": "UN"},
        headers=actors["lab_co"].headers,
    )
    assert response.status_code == 200
    good, bad = response.json()["results"]
    assert good["verdict"] == "controlled" and "error" in bad
    single = client.post("/api/v1/match", json={"smiles": CAFFEINE, "name": "x"}, headers=actors["lab_co"].headers)
    assert single.json()["match"]["verdict"] == "known" and single.json()["match"]["name"] == "x"
    mirrored = client.post(
        "/api/v1/match",
        json={"components": [{"smiles": FENTANYL}], "jurisdiction": "CO"},
        headers=actors["lab_co"].headers,
    ).json()
    assert mirrored["components"][0]["match"]["jurisdiction"] == "CO"
    neither = client.post("/api/v1/match", json={"jurisdiction": "UN"}, headers=actors["lab_co"].headers)
    assert neither.status_code == 422
    assert count(settings.database_url, Detection) == 0


def test_substances_by_name_and_structure(client, actors):
    headers = actors["lab_co"].headers
    by_name = client.get("/api/v1/substances", params={"q": "fentanyl"}, headers=headers).json()
    assert by_name["items"][0]["name"] == "fentanyl"
    exact = client.get(
        "/api/v1/substances", params={"smiles": FENTANYL + ".Cl", "mode": "exact"}, headers=headers
    ).json()
    assert [i["id"] for i in exact["items"]] == ["fentanyl"]
    similar = client.get(
        "/api/v1/substances", params={"smiles": FENTANYL, "mode": "similarity", "threshold": 0.6}, headers=headers
    ).json()
    assert similar["items"][0]["id"] == "fentanyl" and len(similar["items"]) > 3
    assert all(i["score"] >= 0.6 for i in similar["items"])
    anilidopiperidines = client.get(
        "/api/v1/substances",
        params={"smiles": "O=C(*)N(c1ccccc1)C1CCNCC1", "mode": "substructure", "status": "controlled"},
        headers=headers,
    ).json()
    names = {i["name"] for i in anilidopiperidines["items"]}
    assert {"fentanyl", "carfentanil", "acetylfentanyl"} <= names and "morphine" not in names
    detail = client.get("/api/v1/substances/isotonitazene", headers=headers).json()
    assert detail["controls"][0]["controlled_since"] == "2021-04-14"
    assert client.get("/api/v1/substances/nope", headers=headers).status_code == 404


def test_health_readiness_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    metrics = client.get("/metrics").text
    assert "ews_http_requests_total" in metrics
    assert 'route="/readyz"' in metrics
