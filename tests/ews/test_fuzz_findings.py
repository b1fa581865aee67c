"""What the schema-driven fuzzing (test_fuzz.py) found, each pinned with the concrete input.

- A NUL character (U+0000) in a JSON field, a query parameter, a path, a header or a CSV row reached
  PostgreSQL, which refuses it in text: 500 Internal Server Error (text/plain). Now 422 naming the field.
- ``?since=…&since=…`` silently used one of the values. Now 422 naming the parameter.
- The OpenAPI document described errors as FastAPI's ``HTTPValidationError`` in application/json and
  no 401/403/404 at all, and metrics, Atom feeds, CAP and CSV as JSON.
- Had anything still failed, the answer was Starlette's 500 in text/plain. Now problem details.
"""

from __future__ import annotations

import pytest

from tests.ews.test_detections_api import detection

NUL_DETAIL = "a NUL character (U+0000) is not accepted in text"


def problem(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


def fields(body: dict) -> list[str]:
    return [error["field"] for error in body["errors"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(external_ref="LAB-\x00-1"), "external_ref"),
        (lambda d: d.update(notes="seized\x00"), "notes"),
        (lambda d: d["components"][0].update(name="caf\x00feine"), "components[0].name"),
        (lambda d: d["sample"].update(region="Antio\x00quia"), "sample.region"),
    ],
)
def test_a_nul_character_in_a_detection_is_a_422_naming_the_field(client, actors, change, field):
    body = detection()
    change(body)
    answer = problem(client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers))
    assert fields(answer) == [field] and answer["detail"] == NUL_DETAIL
    listed = client.get("/api/v1/detections", headers=actors["lab_co"].headers).json()["items"]
    assert listed == []  # nothing was stored


def test_a_nul_character_in_query_path_or_header_is_a_422_naming_it(client, actors):
    headers = actors["lab_co"].headers
    assert fields(problem(client.get("/api/v1/detections?substance=A%00B", headers=headers))) == ["substance"]
    assert fields(problem(client.get("/api/v1/detections/A%00B", headers=headers))) == ["path"]
    assert fields(problem(client.get("/api/v1/deliveries?subscription_id=%00", headers=headers))) == [
        "subscription_id"
    ]
    retry = {**headers, "Idempotency-Key": "key\x00"}
    assert fields(problem(client.post("/api/v1/detections", json=detection(), headers=retry))) == [
        "idempotency-key"
    ]
    admin = actors["admin"].headers
    organisation = {"name": "Lab\x00", "kind": "lab", "country": "CO"}
    assert fields(problem(client.post("/api/v1/organisations", json=organisation, headers=admin))) == ["name"]


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, actors):
    body = detection("LAB-ESCAPED")
    body["notes"] = "\\u0000 is how JSON writes NUL"
    created = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert created.status_code == 201, created.text


def test_a_nul_in_one_row_of_a_csv_upload_fails_that_row_only(client, actors):
    csv = "external_ref,country,smiles\nNUL-\x001,CO,CCO\nFINE-2,CO,CCO\n"
    for upload in (
        {"content": csv.encode(), "headers": {"Content-Type": "text/csv"}},  # the whole body: refused at once
        {"files": {"file": ("batch.csv", csv.encode(), "text/csv")}},  # inside a form: row by row
    ):
        headers = {**actors["lab_co"].headers, **upload.pop("headers", {})}
        answer = client.post("/api/v1/detections:batch", headers=headers, **upload)
        if "content" in upload:
            assert fields(problem(answer)) == ["body"]
            assert "line 2" in problem(answer)["errors"][0]["message"]
            continue
        assert answer.status_code == 200, answer.text
        first, second = answer.json()["results"]
        assert first["status"] == 422 and [e["field"] for e in first["errors"]] == ["[0].external_ref"]
        assert second["status"] == 201


def test_a_nul_in_a_form_field_of_a_page_is_a_422(client):
    answer = problem(client.post("/login", data={"email": "a\x00@example.org", "password": "x"}))
    assert fields(answer) == ["email"]


def test_a_single_valued_query_parameter_given_twice_is_refused(client, actors):
    answer = problem(
        client.get("/api/v1/detections?since=2026-01-01&since=2026-06-01", headers=actors["lab_co"].headers)
    )
    assert answer["errors"] == [
        {"field": "since", "message": "'since' is given 2 times; it takes one value", "code": "repeated_parameter"}
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_openapi_document_says_errors_are_problem_details(client):
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("4XX", "503"):
                assert responses[code]["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, code)
            for code, response in responses.items():
                if code.startswith("4"):
                    assert list(response["content"]) == ["application/problem+json"], (method, path, code)
    paths = document["paths"]
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert list(paths["/feeds/alerts.atom"]["get"]["responses"]["200"]["content"]) == ["application/atom+xml"]
    assert list(paths["/api/v1/alerts/{alert_id}.cap"]["get"]["responses"]["200"]["content"]) == [
        "application/cap+xml"
    ]
    assert "text/csv" in paths["/api/v1/indicators"]["get"]["responses"]["200"]["content"]
    created = paths["/api/v1/detections"]["post"]["responses"]["201"]["links"]
    target = paths["/api/v1/detections/{detection_id}"]["get"]["operationId"]
    assert created[target] == {"operationId": target, "parameters": {"detection_id": "$response.body#/id"}}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unexpected_error_is_a_500_problem_without_the_cause(settings, actors, monkeypatch):
    """A fault injected into the detection search: problem details, not text/plain, and no internals."""
    from fastapi.testclient import TestClient

    from ews.app import create_app
    from ews.services import detections

    def broken(*args, **kwargs):
        raise RuntimeError("SECRET-INTERNAL-STATE")

    monkeypatch.setattr(detections, "search", broken)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        answer = problem(client.get("/api/v1/detections", headers=actors["lab_co"].headers), 500)
        assert answer["title"] == "Internal server error" and "SECRET" not in str(answer)
        assert client.get("/healthz").status_code == 200  # the node goes on


def test_a_csv_with_carriage_returns_only_is_read_line_by_line(client, actors):
    """Lines ended by a lone CR (old spreadsheet exports) failed the csv module: 500."""
    csv = "external_ref,country,smiles\rCR-1,CO,CCO\rCR-2,CO,CCCO\r"
    headers = {**actors["lab_co"].headers, "Content-Type": "text/csv"}
    answer = client.post("/api/v1/detections:batch", content=csv, headers=headers)
    assert answer.status_code == 200, answer.text
    assert [row["status"] for row in answer.json()["results"]] == [201, 201]


def test_a_csv_cell_over_the_parser_limit_is_a_422_naming_the_file(client, actors):
    csv = 'external_ref,country,smiles\nBIG-1,CO,"' + "C" * 200_000 + '"\n'
    headers = {**actors["lab_co"].headers, "Content-Type": "text/csv"}
    answer = problem(client.post("/api/v1/detections:batch", content=csv, headers=headers))
    assert fields(answer) == ["file"] and "field larger than field limit" in answer["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=0000-01", "from"),  # year 0 is no date: 500
        ("from=9999-12&to=9999-12", "to"),  # the month after 9999-12 is no date: 500
        ("to=0001-03", "to"),  # the default `from`, eleven months earlier, is no date: 500
    ],
)
def test_an_indicator_month_outside_the_calendar_is_a_422(client, actors, query, field):
    for path in ("/api/v1/indicators", "/api/v1/dashboard"):
        answer = problem(client.get(f"{path}?{query}", headers=actors["regional"].headers))
        assert field in fields(answer) and "1900-01 to 2999-12" in answer["errors"][0]["message"]


# The document gave most 2xx answers no schema (`{}` under application/json), so the fuzzing could not
# check a body; now each has one (ews/api/answers.py), and real answers are held to it here too.


def _documented(document: dict, method: str, path: str, status: str, media: str = "application/json"):
    import jsonschema_rs

    schema = document["paths"][path][method]["responses"][status]["content"][media]["schema"]
    return jsonschema_rs.Draft202012Validator({"components": document["components"], "allOf": [schema]})


def test_every_json_answer_of_the_document_has_a_schema(client):
    document = client.get("/openapi.json").json()
    bare = [
        (method, path, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        and response.get("content", {}).get("application/json", {"schema": 1})["schema"]
        in ({}, {"type": "object", "additionalProperties": True})
    ]
    assert bare == []
    dossier = document["paths"]["/api/v1/substances/{substance_id}/dossier"]["get"]["responses"]["200"]
    assert sorted(dossier["content"]) == ["application/pdf", "text/html"]  # it was also said to be JSON


def test_real_answers_fit_the_documented_schemas(client, actors):
    """A detection that raises an alert, the alert published, a subscription: each answer as documented."""
    document = client.get("/openapi.json").json()
    lab, authority = actors["lab_co"].headers, actors["authority_co"].headers
    created = client.post("/api/v1/detections", json=detection("SCHEMA-1"), headers=lab)
    assert created.status_code == 201, created.text
    answers = [("post", "/api/v1/detections", "201", created)]
    alert_id = client.get("/api/v1/alerts", headers=authority).json()["items"][0]["id"]
    published = client.post(f"/api/v1/alerts/{alert_id}:publish", headers=authority)
    answers.append(("post", "/api/v1/alerts/{alert_id}:publish", "200", published))
    subscribed = client.post(
        "/api/v1/subscriptions", json={"channel": "webhook", "url": "http://127.0.0.1:9/hook"}, headers=authority
    )
    answers.append(("post", "/api/v1/subscriptions", "201", subscribed))
    reads = [
        ("/api/v1/detections", "/api/v1/detections", lab),
        ("/api/v1/detections/{detection_id}", f"/api/v1/detections/{created.json()['id']}", authority),
        ("/api/v1/alerts", "/api/v1/alerts", lab),
        ("/api/v1/alerts/{alert_id}/versions", f"/api/v1/alerts/{alert_id}/versions", lab),
        ("/api/v1/subscriptions", "/api/v1/subscriptions", authority),
        ("/api/v1/substances", "/api/v1/substances?q=fentanyl", lab),
        ("/feeds/alerts.json", "/feeds/alerts.json", authority),
        ("/api/v1/indicators", "/api/v1/indicators", authority),
        ("/api/v1/node", "/api/v1/node", {}),
        ("/readyz", "/readyz", {}),
    ]
    for documented, url, headers in reads:
        answers.append(("get", documented, "200", client.get(url, headers=headers)))
    match = client.post("/api/v1/match", json={"smiles": "CCO"}, headers=lab)
    answers.append(("post", "/api/v1/match", "200", match))
    for method, path, status, answer in answers:
        assert str(answer.status_code) == status, (path, answer.text)
        errors = [e.message for e in _documented(document, method, path, status).iter_errors(answer.json())]
        assert errors == [], (method, path, errors)


# Real structures that take every path of the decision: listed, isomer and ester clauses, a generic
# definition, family rules, similarity with an MCS, an N-oxide, a precursor, a medicine, nothing known.
EVERY_KIND_OF_ANSWER = [
    ("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21.Cl", "isotonitazene hydrochloride"),
    ("CC(=O)O[C@H]1C=C[C@H]2[C@H]3Cc4ccc(OC(C)=O)c5O[C@@H]1[C@]2(CCN3C)c45", "heroin"),
    ("CN[C@@H](C)Cc1ccccc1", "methamphetamine"),
    ("CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1", "a new nitazene"),
    ("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccc(F)cc2)CC1", "a fentanyl analog"),
    ("CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", "JWH-018"),
    ("CCCCCn1nc(C(=O)N[C@H](C(=O)OC)C(C)(C)C)c2ccccc21", "a SCRA"),
    ("CC(NC(C)C)C(=O)c1ccc(Cl)cc1", "a cathinone"),
    ("C[N+]1([O-])CCC(CC1)N(C(=O)CC)c1ccccc1", "an N-oxide"),
    ("CC(=O)CC1=CC2=C(C=C1)OCO2", "PMK"),
    ("CC(=O)OC1=CC=CC=C1C(=O)O", "aspirin"),
    ("CCCCCCCCCCCCCCCC(=O)O", "palmitic acid"),
    ("C1CC( typo", "unreadable"),
]


@pytest.mark.parametrize("jurisdiction", ["UN", "US", "BR", "GB"])
def test_match_results_fit_the_documented_schema_to_their_nested_parts(client, actors, jurisdiction):
    """The match result is the public contract: its evidence, controls and class are typed in the
    document (not a bare object), and real answers of every kind fit it."""
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    evidence = components["MatchOf"]["properties"]
    assert evidence["kind"]["enum"] == ["identity", "generic", "similarity", "family"]
    assert evidence["score"]["maximum"] == 1
    assert "DrugClass" in str(components["MatchResult"]["properties"]["class"]) or "enum" in str(
        components["MatchResult"]["properties"]["class"]
    )
    structures = [{"smiles": smiles, "name": name} for smiles, name in EVERY_KIND_OF_ANSWER]
    answer = client.post(
        "/api/v1/match",
        json={"structures": structures, "jurisdiction": jurisdiction},
        headers=actors["lab_co"].headers,
    )
    assert answer.status_code == 200, answer.text
    errors = [e.message for e in _documented(document, "post", "/api/v1/match", "200").iter_errors(answer.json())]
    assert errors == []
    results = answer.json()["results"]
    kinds = {m["kind"] for r in results for m in r.get("matches", [])}
    assert kinds == {"identity", "generic", "similarity", "family"}, kinds
    assert {r.get("verdict") for r in results} >= {"controlled", "analog", "precursor", "known", "no_match"}
    # a detection's components carry the same typed match
    body = {
        "external_ref": f"TYPED-{jurisdiction}",
        "sample": {"form": "powder", "seized_on": "2026-11-20", "country": "CO"},
        "components": [{"smiles": smiles} for smiles, _ in EVERY_KIND_OF_ANSWER[:-1]],
    }
    created = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert created.status_code == 201, created.text
    errors = [
        e.message for e in _documented(document, "post", "/api/v1/detections", "201").iter_errors(created.json())
    ]
    assert errors == []


def test_the_documented_class_list_is_the_contracts():
    """ews/api/answers.py spells the class list out as a Literal (a null inside an enum made Swagger UI
    draw an unreadable control on /docs); it must stay the list chem/classes.py holds."""
    from typing import get_args

    from chem.classes import CLASSES
    from ews.api.answers import DrugClass

    assert set(get_args(DrugClass)) == CLASSES
