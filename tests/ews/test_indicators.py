"""Indicators on a fixture whose answers are worked out by hand below (docs/indicators.md defines them)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from ews.db import engine_for, session_scope
from ews.models import Alert, AlertDetection, Detection, DetectionComponent, Organisation

A = ("AAAAAAAAAAAAAA-AAAAAAAAAA-N", "controlled", "opioid", "isotonitazene", "isotonitazene")
H = ("HHHHHHHHHHHHHH-HHHHHHHHHH-N", "controlled", "opioid", "heroin", "heroin")
B = ("BBBBBBBBBBBBBB-BBBBBBBBBB-N", "analog", "opioid", None, "nitazene analog B")
C = ("CCCCCCCCCCCCCC-CCCCCCCCCC-N", "analog", "cathinone", None, "cathinone analog C")
CAFFEINE = ("RYYVLZVUVIJVGH-UHFFFAOYSA-N", "known", "stimulant", "caffeine", "caffeine")
LEVAMISOLE = ("HLFSDGLLUJUHTE-SNVBAGLBSA-N", "known", None, "levamisole", "levamisole")
KETAMINE = ("YQEZLKZALYSWHR-UHFFFAOYSA-N", "known", "arylcyclohexylamine", "ketamine", "ketamine")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# id, country, seized_on, reported, sold_as, origin, [(substance, purity)]
SAMPLES = [
    ("d1", "CO", date(2026, 1, 5), at("2026-01-10T12:00"), "heroin", None, [(A, 10.0), (CAFFEINE, None)]),
    (
        "d2",
        "CO",
        date(2026, 1, 20),
        at("2026-01-22T12:00"),
        "Heroína",
        None,
        [(H, 40.0), (B, 5.0), (CAFFEINE, None)],
    ),
    ("d3", "CO", date(2026, 1, 25), at("2026-02-01T09:00"), "pills", None, [(A, 20.0), (LEVAMISOLE, None)]),
    (
        "d4",
        "MX",
        date(2026, 2, 3),
        at("2026-02-04T00:00"),
        "cocaine",
        None,
        [(C, 30.0), (LEVAMISOLE, 3.0), (CAFFEINE, 2.0)],
    ),
    ("d5", "MX", None, at("2026-02-15T10:00"), None, None, [(A, 50.0)]),
    ("d6", "CO", date(2026, 3, 2), at("2026-03-09T08:00"), None, "peer-node", [(B, 15.0)]),
    ("d7", "MX", date(2025, 12, 30), at("2026-01-02T08:00"), None, None, [(B, 12.0)]),
    ("d8", "CO", date(2026, 3, 10), at("2026-03-11T08:00"), "ketamina", None, [(KETAMINE, 80.0), (CAFFEINE, 5.0)]),
]


def fill(url: str) -> None:
    with session_scope(engine_for(url)) as db:
        org = db.exec(select(Organisation)).first()
        for id_, country, seized, reported, sold_as, origin, _parts in SAMPLES:
            db.add(
                Detection(
                    id=id_,
                    organisation_id=org.id,
                    country=country,
                    seized_on=seized,
                    created_at=reported,
                    sold_as=sold_as,
                    origin_node=origin,
                    origin_id=id_ if origin else None,
                )
            )
        db.flush()
        for id_, *_, parts in SAMPLES:
            for position, ((key, verdict, klass, substance_id, name), purity) in enumerate(parts):
                db.add(
                    DetectionComponent(
                        id=f"{id_}-{position}",
                        detection_id=id_,
                        position=position,
                        name=name,
                        inchikey=key,
                        skeleton_key=key[:14],
                        verdict=verdict,
                        drug_class=klass,
                        substance_id=substance_id,
                        substance_name=name if substance_id else None,
                        purity_percent=purity,
                    )
                )
        alerts = [
            ("x", "published", at("2026-01-10T18:00"), ["d1", "d3"]),
            ("y", "published", at("2026-02-04T12:00"), ["d4"]),
            ("z", "draft", None, ["d2"]),
        ]
        for alert_id, status, published_at, detections in alerts:
            db.add(
                Alert(
                    id=alert_id,
                    dedup_key=alert_id,
                    rule="new_substance",
                    status=status,
                    severity="Severe",
                    urgency="Immediate",
                    certainty="Observed",
                    event="e",
                    headline="h",
                    substance_key=alert_id,
                    published_at=published_at,
                )
            )
            db.flush()
            for detection_id in detections:
                db.add(
                    AlertDetection(
                        alert_id=alert_id,
                        component_id=f"{detection_id}-0",
                        detection_id=detection_id,
                        country="CO",
                    )
                )


@pytest.fixture
def filled(client, actors, settings):
    fill(settings.database_url)
    return client


def rows_by_cell(body: dict) -> dict:
    return {(r["month"], r["country"]): r for r in body["rows"]}


def test_indicators_counted_by_hand(filled, actors):
    answer = filled.get("/api/v1/indicators?from=2026-01&to=2026-03", headers=actors["regional"].headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["filters"] == {"from": "2026-01", "to": "2026-03", "country": None, "class": None}
    assert datetime.fromisoformat(body["read_at"]) <= datetime.now(UTC)
    rows = rows_by_cell(body)
    assert sorted(rows) == [("2026-01", "CO"), ("2026-02", "MX"), ("2026-03", "CO")]

    jan = rows[("2026-01", "CO")]
    assert jan["detections"] == 3  # d1, d2, d3 (d3 reported in February, seized in January)
    assert jan["substances"] == 3  # A, H, B
    assert jan["new_substances"] == 2  # A and H; B was first seen in Mexico in December
    assert jan["first_in_country"] == 3
    assert (jan["sold_as_stated"], jan["sold_as_recognised"], jan["sold_as_differs"]) == (3, 2, 1)
    assert jan["sold_as_differs_share"] == 0.5  # "heroin" held a nitazene; "Heroína" held heroin; "pills" unknown
    assert jan["adulterants"] == [
        {"name": "caffeine", "samples": 2, "share": 0.667},
        {"name": "levamisole", "samples": 1, "share": 0.333},
    ]
    assert jan["purity"][0] == {"substance": "isotonitazene", "n": 2, "median": 15.0, "q1": 12.5, "q3": 17.5}
    assert {p["substance"] for p in jan["purity"]} == {"isotonitazene", "heroin", "nitazene analog B"}
    assert jan["seizure_to_report_days"] == {"n": 3, "median": 5.0, "p90": 6.6}  # 5, 2 and 7 days
    assert jan["report_to_alert_hours"] == {"n": 1, "median": 6.0, "p90": 6.0}  # d3 came after publication

    feb = rows[("2026-02", "MX")]
    assert (feb["detections"], feb["substances"], feb["new_substances"], feb["first_in_country"]) == (2, 2, 1, 2)
    assert feb["sold_as_differs_share"] == 1.0
    assert feb["seizure_to_report_days"] == {"n": 1, "median": 1.0, "p90": 1.0}  # d5 has no seizure date
    assert feb["report_to_alert_hours"]["median"] == 12.0
    assert [a["name"] for a in feb["adulterants"]] == ["caffeine", "levamisole"]

    mar = rows[("2026-03", "CO")]
    assert (mar["detections"], mar["imported"], mar["substances"], mar["new_substances"]) == (2, 1, 1, 0)
    assert mar["first_in_country"] == 0
    assert mar["sold_as_differs_share"] == 0.0  # sold as ketamina, found ketamine (the main active)
    assert mar["adulterants"] == [{"name": "caffeine", "samples": 1, "share": 0.5}]
    assert {p["substance"]: p["median"] for p in mar["purity"]} == {"nitazene analog B": 15.0, "ketamine": 80.0}
    assert mar["seizure_to_report_days"] == {"n": 2, "median": 4.0, "p90": 6.4}
    assert mar["report_to_alert_hours"] is None


def test_filters_by_class_and_country(filled):
    body = filled.get("/api/v1/indicators?from=2026-01&to=2026-03&class=cathinone").json()
    assert [(r["month"], r["country"], r["detections"], r["new_substances"]) for r in body["rows"]] == [
        ("2026-02", "MX", 1, 1)
    ]
    body = filled.get("/api/v1/indicators?from=2026-01&to=2026-03&country=co").json()
    assert body["filters"]["country"] == "CO"
    assert [(r["month"], r["country"]) for r in body["rows"]] == [("2026-01", "CO"), ("2026-03", "CO")]
    december = filled.get("/api/v1/indicators?from=2025-12&to=2025-12").json()
    assert [(r["country"], r["new_substances"]) for r in december["rows"]] == [("MX", 1)]


def test_who_sees_the_detail(filled, actors):
    public = rows_by_cell(filled.get("/api/v1/indicators?from=2026-01&to=2026-03").json())
    assert public[("2026-01", "CO")]["detail"] and public[("2026-01", "CO")]["adulterants"]
    small = public[("2026-02", "MX")]  # two detections: counts only
    assert small["detail"] is False and small["adulterants"] is None and small["sold_as"] is None
    assert small["detections"] == 2 and small["sold_as_differs_share"] == 1.0
    authority = rows_by_cell(
        filled.get("/api/v1/indicators?from=2026-01&to=2026-03", headers=actors["authority_co"].headers).json()
    )
    assert authority[("2026-03", "CO")]["detail"] is True
    assert authority[("2026-02", "MX")]["detail"] is False


def test_csv_states_its_filters_and_read_time(filled, actors):
    answer = filled.get(
        "/api/v1/indicators?from=2026-01&to=2026-03&format=csv", headers=actors["regional"].headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0] == "# ews indicators"
    assert lines[1] == "# filters: from=2026-01, to=2026-03, country=, class="
    assert lines[2].startswith("# read_at: ")
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in lines if not line.startswith("#")))))
    assert [(r["month"], r["country"], r["detections"]) for r in rows] == [
        ("2026-01", "CO", "3"),
        ("2026-02", "MX", "2"),
        ("2026-03", "CO", "2"),
    ]
    assert rows[0]["seizure_to_report_days_p90"] == "6.6"
    assert rows[0]["adulterants"] == "caffeine=2; levamisole=1"


def test_bad_filters_are_named(client):
    answer = client.get("/api/v1/indicators?class=opiods")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    error = answer.json()["errors"][0]
    assert (
        error["field"] == "class" and "opioid" in error["message"] and "synthetic_cannabinoid" in error["message"]
    )
    answer = client.get("/api/v1/indicators?from=2026-13&to=2026-01&country=XX")
    assert {e["field"] for e in answer.json()["errors"]} == {"from", "country"}
    answer = client.get("/api/v1/indicators?from=2026-05&to=2026-01")
    assert answer.json()["errors"][0]["field"] == "from"
    assert client.get("/api/v1/indicators?format=xml").status_code == 422
    assert client.get("/api/v1/indicators?class=&country=").status_code == 200  # an empty form field: no filter


def test_dashboard_charts(filled, actors):
    body = filled.get("/api/v1/dashboard?from=2026-01&to=2026-03", headers=actors["regional"].headers).json()
    charts = body["charts"]
    assert charts["by_class"] == [
        {"month": "2026-01", "class": "opioid", "detections": 3},
        {"month": "2026-02", "class": "cathinone", "detections": 1},
        {"month": "2026-02", "class": "opioid", "detections": 1},
        {"month": "2026-03", "class": "opioid", "detections": 1},
    ]
    assert charts["new_by_quarter"] == [{"quarter": "2026-Q1", "new_substances": 3}]
    assert charts["first_by_country"] == [
        {"country": "CO", "first_in_country": 3, "new_substances": 2, "detections": 5},
        {"country": "MX", "first_in_country": 2, "new_substances": 1, "detections": 2},
    ]
    assert charts["delays"][0]["report_to_alert_hours_median"] == 6.0
    assert {"sold_as": "heroin", "found": "isotonitazene", "samples": 1} in charts["sold_as"]
    assert charts["adulterants"][0] == {"adulterant": "caffeine", "samples": 4, "share": 0.571}
    answer = filled.get("/api/v1/dashboard?from=2026-01&to=2026-03&chart=new_by_quarter&format=csv")
    lines = answer.text.splitlines()
    assert lines[1].startswith("# filters: from=2026-01") and lines[-2:] == ["quarter,new_substances", "2026-Q1,3"]
    assert filled.get("/api/v1/dashboard?chart=pie").status_code == 422


def test_a_new_detection_is_counted_at_once(filled, settings):
    before = rows_by_cell(filled.get("/api/v1/indicators?from=2026-01&to=2026-03").json())
    assert before[("2026-03", "CO")]["detections"] == 2
    with session_scope(engine_for(settings.database_url)) as db:
        org = db.exec(select(Organisation)).first()
        db.add(Detection(id="d9", organisation_id=org.id, country="CO", seized_on=date(2026, 3, 20)))
    after = rows_by_cell(filled.get("/api/v1/indicators?from=2026-01&to=2026-03").json())
    assert after[("2026-03", "CO")]["detections"] == 3


def test_roles_when_reported_decide_actives_and_adulterants():
    from ews.services.indicators import Part, Sample, actives, adulterants

    def part(position, verdict, name, role=None, purity=None):
        return Part(position, name.upper(), verdict, None, name, name, purity, role)

    inferred = Sample("s", "CO", date(2026, 1, 1), None, at("2026-01-02T00:00"), None, None)
    inferred.components = [part(0, "known", "ketamine", purity=60.0), part(1, "known", "caffeine", purity=5.0)]
    assert [p.name for p in actives(inferred)] == ["ketamine"]
    assert [p.name for p in adulterants(inferred)] == ["caffeine"]
    declared = Sample("t", "CO", date(2026, 1, 1), None, at("2026-01-02T00:00"), None, None)
    declared.components = [
        part(0, "controlled", "cocaine", "active"),
        part(1, "known", "caffeine", "adulterant"),
        part(2, "known", "mannitol", "diluent"),
        part(3, "known", "lidocaine", "unknown"),
    ]
    assert [p.name for p in actives(declared)] == ["cocaine"]
    assert [p.name for p in adulterants(declared)] == ["caffeine"]  # a diluent is not an adulterant
    unknown = Sample("u", "CO", date(2026, 1, 1), None, at("2026-01-02T00:00"), None, None)
    unknown.components = [part(0, "controlled", "cocaine", "unknown"), part(1, "known", "caffeine", "unknown")]
    assert [p.name for p in adulterants(unknown)] == ["caffeine"]  # "unknown" everywhere: inferred


def test_substance_monthly_counts_and_who_sees_first_detection_details(filled, actors):
    body = filled.get("/api/v1/substances/isotonitazene/monthly").json()
    assert body["rows"] == [
        {"month": "2026-01", "country": "CO", "detections": 2},
        {"month": "2026-02", "country": "MX", "detections": 1},
    ]
    assert body["read_at"] and body["substance"]["name"] == "isotonitazene"
    csv_text = filled.get("/api/v1/substances/isotonitazene/monthly?format=csv").text
    assert csv_text.splitlines()[-2:] == ["2026-01,CO,2", "2026-02,MX,1"]
    assert filled.get("/api/v1/substances/no-such-thing/monthly").status_code == 404

    from ews.auth import Principal
    from ews.services.substances import Sighting, first_by_country

    found = [
        Sighting("d1", "CO", "Antioquia", date(2026, 1, 5), date(2026, 1, 5), at("2026-01-10T12:00"), None),
        Sighting("d5", "MX", None, date(2026, 2, 15), None, at("2026-02-15T10:00"), None),
    ]
    public = first_by_country(found, None)
    assert public == [
        {"country": "CO", "month": "2026-01", "detections": 1},
        {"country": "MX", "month": "2026-02", "detections": 1},
    ]
    colombia = Principal("o", "Observatorio", "authority", "CO", "k", frozenset({"authority"}))
    mine = first_by_country(found, colombia)
    assert mine[0]["date"] == "2026-01-05" and mine[0]["region"] == "Antioquia"
    assert "date" not in mine[1]  # Mexico's first detection: its month only


def test_a_signed_in_analyst_reads_the_api_with_the_pages_session_but_never_writes(filled, actors, settings):
    """The dashboard fetches the API from the browser: a signed-in person sees what their role sees."""
    from tests.ews.workspace_support import client_sign_in, make_user

    url = "/api/v1/indicators?from=2026-01&to=2026-03"
    assert rows_by_cell(filled.get(url).json())[("2026-03", "CO")]["detail"] is False  # public: counts only
    password = make_user(settings.database_url, actors["authority_co"].organisation_id, "ana@odc.gov.co")
    assert client_sign_in(filled, "ana@odc.gov.co", password).status_code == 303
    signed_in = rows_by_cell(filled.get(url).json())
    assert signed_in[("2026-03", "CO")]["detail"] is True  # the authority's own country, in full
    assert signed_in[("2026-02", "MX")]["detail"] is False  # another country's small cell stays closed
    refused = filled.post("/api/v1/subscriptions", json={"channel": "email", "address": "ana@odc.gov.co"})
    assert refused.status_code == 401  # a cookie alone never changes state through the API
