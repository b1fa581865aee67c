"""Seizure profiles: stored and validated, linked across labs and countries, clusters and their alert."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from chem.profiles import LINK_THRESHOLD, compare
from ews.app import create_app
from ews.db import engine_for
from ews.models import Alert, FeedEntry
from tests.browser import console_errors, offsite_requests
from tests.support import WAIT, running

MDMA = "CNC(C)Cc1ccc2OCOc2c1"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
LACTOSE = "OC[C@H]1O[C@@H](O[C@H]2[C@H](O)[C@@H](O)C(O)O[C@@H]2CO)[C@H](O)[C@@H](O)[C@H]1O"
# MDMA route markers (reductive amination of PMK / Leuckart)
PMK = "CC(=O)Cc1ccc2OCOc2c1"  # 3,4-methylenedioxyphenyl-2-propanone, unreacted precursor
MDA = "CC(N)Cc1ccc2OCOc2c1"  # by-product
N_FORMYL_MDMA = "CC(Cc1ccc2OCOc2c1)N(C)C=O"  # Leuckart intermediate
MDP2P_ALCOHOL = "CC(O)Cc1ccc2OCOc2c1"  # reductive-amination by-product
ISOTONITAZENE = "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21"
NITAZENE_PRECURSOR = "CCN(CC)CCNc1ccc([N+](=O)[O-])cc1N"  # N1-(2-diethylaminoethyl)-4-nitro-o-phenylenediamine


def tablet(ref, country, amounts, adulterant=CAFFEINE, logo="Tesla", mass=312.0, seized="2026-10-02"):
    """An MDMA tablet whose route markers come in ``amounts`` (mg per tablet)."""
    mdma, adulterant_mg, pmk, mda, formyl, alcohol = amounts
    components = [
        {"smiles": MDMA, "name": "MDMA", "amount_mg": mdma, "role": "active", "enantiomer_ratio": 50},
        {"smiles": adulterant, "amount_mg": adulterant_mg, "role": "adulterant"},
        {"smiles": LACTOSE, "name": "lactose", "role": "diluent"},
        {"smiles": PMK, "name": "PMK", "amount_mg": pmk, "role": "impurity"},
        {"smiles": MDA, "name": "MDA", "amount_mg": mda, "role": "by_product"},
        {"smiles": N_FORMYL_MDMA, "name": "N-formyl-MDMA", "amount_mg": formyl, "role": "by_product"},
        {"smiles": MDP2P_ALCOHOL, "name": "MDP-2-P alcohol", "amount_mg": alcohol, "role": "by_product"},
    ]
    return {
        "external_ref": ref,
        "sample": {
            "form": "tablet",
            "seized_on": seized,
            "country": country,
            "sold_as": "éxtasis",
            "appearance": {
                "colour": "pink",
                "logo": logo,
                "shape": "round",
                "mass_mg": mass,
                "diameter_mm": 9.0,
                "packaging": "zip bag",
            },
        },
        "components": components,
        "case_ref": "PRIVATE-CASE",
        "notes": "PRIVATE-NOTES",
    }


BATCH_A = (118.0, 20.0, 0.60, 0.35, 0.08, 0.020)
BATCH_A_AGAIN = (109.0, 21.5, 0.66, 0.31, 0.09, 0.018)  # the same batch: a few % on majors, more on traces
BATCH_B = (95.0, 20.0, 0.05, 1.10, 0.40, 0.300)  # another batch of the same route and press


def post(client, actor, body, status=201):
    response = client.post("/api/v1/detections", json=body, headers=actor.headers)
    assert response.status_code == status, response.text
    return response.json()


def test_a_profile_is_stored_returned_and_shared_without_private_fields(client, actors, settings):
    created = post(client, actors["lab_co"], tablet("PROFILE-1", "CO", BATCH_A))
    got = client.get(f"/api/v1/detections/{created['id']}", headers=actors["authority_co"].headers).json()
    assert got["sample"]["appearance"] == {
        "colour": "pink",
        "logo": "Tesla",
        "shape": "round",
        "mass_mg": 312.0,
        "diameter_mm": 9.0,
        "packaging": "zip bag",
    }
    roles = [(c["role"], c["amount_mg"]) for c in got["components"]]
    assert roles[0] == ("active", 118.0) and roles[2] == ("diluent", None) and roles[4] == ("by_product", 0.35)
    assert got["components"][0]["enantiomer_ratio"] == 50
    assert got["components"][3]["substance"] is not None  # PMK: identified like any other component
    assert "case_ref" not in got
    with Session(engine_for(settings.database_url)) as session:
        entry = session.exec(select(FeedEntry).where(FeedEntry.kind == "detection")).one()
    assert entry.payload["sample"]["appearance"]["logo"] == "Tesla"
    assert [c["role"] for c in entry.payload["components"]][:2] == ["active", "adulterant"]
    assert "PRIVATE" not in str(entry.payload)


def test_the_profile_fields_are_documented_in_openapi(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    component = schemas["ComponentIn"]["properties"]
    assert "active, adulterant, diluent, impurity, by_product, unknown" in component["role"]["description"]
    assert component["amount_mg"]["examples"] == [95.0] and "enantiomer_ratio" in component
    appearance = schemas["AppearanceIn"]
    assert set(appearance["properties"]) == {"colour", "logo", "shape", "mass_mg", "diameter_mm", "packaging"}
    assert appearance["examples"][0]["logo"] == "Tesla"


def test_bad_profile_fields_are_422_naming_the_field(client, actors):
    body = tablet("PROFILE-BAD", "CO", BATCH_A)
    body["components"][0]["role"] = "main"
    body["components"][1]["amount_mg"] = -3
    body["sample"]["appearance"]["diameter_mm"] = 0
    body["sample"]["appearance"]["weight"] = 300
    response = client.post("/api/v1/detections", json=body, headers=actors["lab_co"].headers)
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["components[0].role"].startswith("must be one of active, adulterant, diluent, impurity")
    assert "components[1].amount_mg" in errors
    assert "sample.appearance.diameter_mm" in errors
    assert "sample.appearance.weight" in errors
    listed = client.get("/api/v1/detections", headers=actors["lab_co"].headers).json()["items"]
    assert listed == []


def test_seizures_of_one_batch_are_linked_across_labs_and_countries_and_not_with_another_batch(client, actors):
    a_co = post(client, actors["lab_co"], tablet("A-CO", "CO", BATCH_A))
    b_co = post(client, actors["lab_co2"], tablet("B-CO", "CO", BATCH_B, seized="2026-10-05"))
    a_mx = post(client, actors["lab_mx"], tablet("A-MX", "MX", BATCH_A_AGAIN, mass=305.0, seized="2026-10-20"))

    regional = actors["regional"].headers
    links = client.get(f"/api/v1/detections/{a_mx['id']}/links", headers=regional).json()
    assert [item["detection"]["id"] for item in links] == [a_co["id"]]
    link = links[0]
    assert link["score"] >= LINK_THRESHOLD
    shared = {"MDMA", "caffeine", "3,4-methylenedioxyphenyl-2-propanone", "tenamfetamine", "logo", "mass_mg"}
    assert shared <= set(link["shared"])
    assert link["detection"]["sample"]["country"] == "CO"
    assert link["detection"]["sample"]["seized_on"] == "2026-10-02"
    assert "case_ref" not in str(link) and "PRIVATE" not in str(link)
    # the other batch is linked to neither
    assert client.get(f"/api/v1/detections/{b_co['id']}/links", headers=regional).json() == []
    back = client.get(f"/api/v1/detections/{a_co['id']}/links", headers=regional).json()
    assert [item["detection"]["id"] for item in back] == [a_mx["id"]]


def test_links_show_only_detections_the_caller_may_see(client, actors):
    a_co = post(client, actors["lab_co"], tablet("V-CO", "CO", BATCH_A))
    a_co2 = post(client, actors["lab_co2"], tablet("V-CO2", "CO", BATCH_A_AGAIN))
    a_mx = post(client, actors["lab_mx"], tablet("V-MX", "MX", BATCH_A_AGAIN, seized="2026-10-21"))

    def linked(actor, detection):
        response = client.get(f"/api/v1/detections/{detection['id']}/links", headers=actors[actor].headers)
        return response.status_code, sorted(
            i["detection"]["id"] for i in response.json()
        ) if response.is_success else []

    assert linked("regional", a_co) == (200, sorted([a_co2["id"], a_mx["id"]]))
    assert linked("authority_co", a_co) == (200, [a_co2["id"]])  # not Mexico's
    assert linked("authority_mx", a_mx) == (200, [])  # both links lead to Colombia
    assert linked("lab_co", a_co) == (200, [])  # a lab reads only its own detections
    assert linked("lab_mx", a_co)[0] == 404  # nor may it ask about another lab's
    assert client.get(f"/api/v1/detections/{a_co['id']}/links").status_code == 401


def nitazene_powder(ref, country, purity, precursor, caffeine, seized):
    return {
        "external_ref": ref,
        "sample": {"form": "powder", "seized_on": seized, "country": country, "sold_as": "heroin"},
        "components": [
            {"smiles": ISOTONITAZENE, "name": "isotonitazene", "purity_percent": purity, "role": "active"},
            {"smiles": CAFFEINE, "purity_percent": caffeine, "role": "adulterant"},
            {"smiles": PARACETAMOL, "purity_percent": 30.0, "role": "adulterant"},
            {"smiles": NITAZENE_PRECURSOR, "purity_percent": precursor, "role": "impurity"},
        ],
    }


def test_a_cross_border_cluster_of_an_opioid_raises_one_alert(client, actors, settings):
    post(client, actors["lab_co"], nitazene_powder("N-1", "CO", 4.0, 0.20, 12.0, "2026-09-01"))
    post(client, actors["lab_co2"], nitazene_powder("N-2", "CO", 4.2, 0.19, 12.5, "2026-09-15"))
    assert not [a for a in _alerts(settings) if a.rule == "linked_cluster"]  # one country: no such alert
    third = post(client, actors["lab_mx"], nitazene_powder("N-3", "MX", 3.9, 0.21, 11.8, "2026-10-01"))
    post(client, actors["lab_mx"], nitazene_powder("N-4", "MX", 4.1, 0.20, 12.2, "2026-10-09"))
    raised = [a for a in _alerts(settings) if a.rule == "linked_cluster"]
    assert len(raised) == 1
    alert = raised[0]
    assert alert.countries == ["CO", "MX"] and alert.severity == "Severe" and alert.detection_count == 4
    assert "Colombia" in alert.headline and "Mexico" in alert.headline
    assert "perfil químico" in alert.texts["es"]["headline"]

    clusters = client.get("/api/v1/clusters").json()["items"]
    assert len(clusters) == 1 and clusters[0]["countries"] == ["CO", "MX"] and clusters[0]["size"] == 4
    graph = client.get(f"/api/v1/clusters/{clusters[0]['id']}").json()
    assert len(graph["nodes"]) == 4 and len(graph["links"]) == 6
    assert graph["timeline"] == [{"month": "2026-09", "detections": 2}, {"month": "2026-10", "detections": 2}]
    assert graph["alert_id"] == alert.id
    assert third["id"] in {n["id"] for n in graph["nodes"]}
    assert "PRIVATE" not in str(graph)


def _alerts(settings) -> list[Alert]:
    with Session(engine_for(settings.database_url)) as session:
        return list(session.exec(select(Alert)).all())


def test_csv_batches_carry_profile_columns(client, actors):
    csv_text = (
        "external_ref,country,form,seized_on,logo,colour,shape,mass_mg,diameter_mm,name,smiles,amount_mg,role\n"
        f"CSV-P1,CO,tablet,2026-10-01,Tesla,pink,round,310,9.0,MDMA,{MDMA},112,active\n"
        f"CSV-P1,CO,tablet,2026-10-01,Tesla,pink,round,310,9.0,caffeine,{CAFFEINE},20,adulterant\n"
        f"CSV-P2,CO,tablet,2026-10-02,Tesla,pink,round,310,9.0,MDMA,{MDMA},112,main\n"
    )
    response = client.post(
        "/api/v1/detections:batch",
        files={"file": ("batch.csv", csv_text, "text/csv")},
        headers=actors["lab_co"].headers,
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422]
    stored = results[0]["detection"]
    assert stored["sample"]["appearance"] == {
        "colour": "pink",
        "logo": "Tesla",
        "shape": "round",
        "mass_mg": 310.0,
        "diameter_mm": 9.0,
    }
    assert [(c["role"], c["amount_mg"]) for c in stored["components"]] == [("active", 112.0), ("adulterant", 20.0)]
    assert results[1]["errors"][0]["field"] == "[1].components[0].role"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cluster_pages_draw_the_link_chart_and_timeline(browser, client, actors, settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    post(client, actors["lab_co"], nitazene_powder("W-1", "CO", 4.0, 0.20, 12.0, "2026-09-01"))
    post(client, actors["lab_mx"], nitazene_powder("W-2", "MX", 4.1, 0.21, 12.3, "2026-10-03"))
    post(client, actors["lab_mx"], nitazene_powder("W-3", "MX", 3.9, 0.20, 11.9, "2026-10-12"))
    with running(create_app(settings)) as base:
        browser.get(f"{base}/clusters?lang=es")
        assert "Incautaciones vinculadas" in browser.find_element(By.TAG_NAME, "h1").text
        rows = browser.find_elements(By.CSS_SELECTOR, "#clusters tr")
        assert len(rows) == 2 and "CO, MX" in rows[1].text
        rows[1].find_element(By.TAG_NAME, "a").click()
        WebDriverWait(browser, WAIT).until(
            lambda d: d.find_element(By.ID, "link-chart").get_attribute("data-ready") == "true"
        )
        assert len(browser.find_elements(By.CSS_SELECTOR, "#link-chart circle.seizure")) == 3
        assert len(browser.find_elements(By.CSS_SELECTOR, "#link-chart line.link")) == 3
        assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline rect.month")) == 2
        assert "PRIVATE" not in browser.page_source
        assert offsite_requests(browser) == []
        assert console_errors(browser) == []


def test_links_cross_the_federation_on_shared_fields(client, actors, settings, tmp_path, sqlite_template):
    """Mexico's node reports a seizure; this node imports it from the detections feed and links it."""
    import shutil

    from fastapi.testclient import TestClient

    from ews.config import Settings
    from ews.db import session_scope
    from ews.services.federation import Federation, register_peer
    from tests.conftest import make_actor

    path = tmp_path / "node-mx.db"
    shutil.copy(sqlite_template, path)
    settings_mx = Settings(
        database_url=f"sqlite:///{path}", cache_dir=settings.cache_dir, node_id="node-mx", scheduler="off"
    )
    lab_mx = make_actor(settings_mx.database_url, "lab", "MX", "Laboratorio Monterrey")
    partner = make_actor(settings_mx.database_url, "regional", None, "partner")
    with TestClient(create_app(settings_mx)) as client_mx:
        post(client_mx, lab_mx, tablet("FED-MX", "MX", BATCH_A_AGAIN, seized="2026-10-20"))
        page = client_mx.get("/feeds/detections.json", headers=partner.headers).json()
    assert "PRIVATE" not in str(page) and page["items"][0]["data"]["sample"]["appearance"]["logo"] == "Tesla"

    local = post(client, actors["lab_co"], tablet("FED-CO", "CO", BATCH_A))
    state = client.app.state.node
    federation = Federation(settings, state.engine, state.alerting, state.identifier)
    try:
        with session_scope(state.engine) as session:
            peer = register_peer(session, "https://ews.mx.example", "token")
            imported = federation.import_detection(session, peer, page["items"][0])
            assert imported is not None
            imported_id = imported.id
    finally:
        federation.shutdown()
    links = client.get(f"/api/v1/detections/{local['id']}/links", headers=actors["regional"].headers).json()
    assert [item["detection"]["id"] for item in links] == [imported_id]
    assert links[0]["detection"]["origin"]["node"] == "node-mx"
    assert links[0]["detection"]["sample"]["country"] == "MX"
    assert {"MDMA", "logo"} <= set(links[0]["shared"])


def test_concurrent_seizures_linking_to_one_earlier_seizure_make_one_cluster(client, actors, settings):
    """Six labs' reports of one batch race against a real server: all stored, one cluster of seven."""
    import threading

    import httpx

    from ews.models import ClusterMember, LinkCluster

    post(client, actors["lab_co"], tablet("RACE-0", "CO", BATCH_A))
    statuses: list[int] = []
    lock = threading.Lock()
    with running(create_app(settings)) as base:
        barrier = threading.Barrier(6)

        def submit(number: int) -> None:
            barrier.wait()
            response = httpx.post(
                f"{base}/api/v1/detections",
                json=tablet(f"RACE-{number + 1}", "CO", BATCH_A_AGAIN),
                headers=actors["lab_co2"].headers,
                timeout=WAIT,
            )
            with lock:
                statuses.append(response.status_code)

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [201] * 6
    with Session(engine_for(settings.database_url)) as session:
        clusters = session.exec(select(LinkCluster)).all()
        members = session.exec(select(ClusterMember)).all()
    assert len(clusters) == 1 and clusters[0].size == 7
    assert len(members) == 7 and {m.cluster_id for m in members} == {clusters[0].id}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_transactions_clustering_one_seizure_at_once_merge_instead_of_failing(client, actors, settings):
    """The second transaction waits on the first's membership row, then merges its committed cluster."""
    import threading

    from sqlalchemy import text

    from ews.models import ClusterMember, Detection, DetectionComponent, LinkCluster
    from ews.services.links import Linker
    from tests.support import wait_for

    ids = [
        post(client, actors["lab_co"], tablet(f"TX-{n}", "CO", amounts))["id"]
        for n, amounts in enumerate((BATCH_A, BATCH_B, (90.0, 40.0, 0.9, 0.02, 0.7, 0.1)))
    ]
    engine = client.app.state.node.engine
    linker = Linker()

    def load(session, detection_id):
        detection = session.get(Detection, detection_id)
        parts = list(
            session.exec(select(DetectionComponent).where(DetectionComponent.detection_id == detection_id))
        )
        return detection, parts

    first = Session(engine)
    detection, parts = load(first, ids[1])
    linker._cluster(first, detection, [ids[0]], parts)  # not committed yet
    failures: list[BaseException] = []

    def second() -> None:
        with Session(engine) as session:
            try:
                detection, parts = load(session, ids[2])
                linker._cluster(session, detection, [ids[0]], parts)
                session.commit()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                failures.append(error)

    thread = threading.Thread(target=second)
    thread.start()

    def waiting() -> bool:
        with engine.connect() as probe:  # a new transaction each time: pg_stat_activity is a snapshot
            # this database only: the server is shared, and another test's lock wait is not ours
            count = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            return bool(count.scalar())

    wait_for(waiting, what="the second transaction to wait on the first one's lock")
    first.commit()
    first.close()
    thread.join(timeout=WAIT)
    assert not thread.is_alive(), "the second transaction never finished"
    assert failures == []
    with Session(engine) as session:
        clusters = session.exec(select(LinkCluster)).all()
        members = session.exec(select(ClusterMember)).all()
    assert len(clusters) == 1 and clusters[0].size == 3
    assert sorted(m.detection_id for m in members) == sorted(ids)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_transactions_joining_one_cluster_at_once_do_not_deadlock(client, actors, settings):
    """Both add members to one committed cluster, then both count it: the cluster's row lock is
    taken before any member row refers to it, so the second waits instead of deadlocking.

    Each transaction pauses before counting until the other has come as far, or waits on a lock.
    Were the member rows written first, both would hold a key-share lock on the cluster row and
    ask for its update lock: PostgreSQL would end one of them with "deadlock detected"."""
    import threading

    from sqlalchemy import text

    from ews.models import ClusterMember, Detection, DetectionComponent, LinkCluster
    from ews.services.links import Linker
    from tests.support import wait_for

    ids = [post(client, actors["lab_co"], tablet(f"JOIN-{n}", "CO", BATCH_A))["id"] for n in range(2)]
    ids += [
        post(client, actors["lab_co"], tablet(f"JOIN-{n + 2}", "CO", amounts, logo=logo))["id"]
        for n, (amounts, logo) in enumerate(((BATCH_B, "Rolex"), ((90.0, 40.0, 0.9, 0.02, 0.7, 0.1), "Apple")))
    ]
    engine = client.app.state.node.engine
    with Session(engine) as session:
        members = {m.detection_id: m.cluster_id for m in session.exec(select(ClusterMember))}
    assert set(members) == set(ids[:2]), "the first two form a cluster, the other two are in none"

    arrived: set[str] = set()
    finished: set[str] = set()
    failures: list[BaseException] = []

    def lock_waiting() -> bool:
        with engine.connect() as probe:
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
            return bool(waiting.scalar())

    class Pausing(Linker):
        def _summarise(self, session, cluster):
            me = threading.current_thread().name
            arrived.add(me)
            wait_for(lambda: (arrived | finished) - {me} or lock_waiting())
            super()._summarise(session, cluster)

    def join(detection_id: str) -> None:
        try:
            with Session(engine) as session:
                detection = session.get(Detection, detection_id)
                parts = list(
                    session.exec(select(DetectionComponent).where(DetectionComponent.detection_id == detection_id))
                )
                Pausing()._cluster(session, detection, [ids[0]], parts)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            failures.append(error)
        finally:
            finished.add(threading.current_thread().name)

    threads = [threading.Thread(target=join, args=(i,), name=i) for i in ids[2:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT)  # each may pause for up to WAIT before it counts
    assert not any(thread.is_alive() for thread in threads), "a transaction never finished"
    assert failures == []
    with Session(engine) as session:
        clusters = session.exec(select(LinkCluster)).all()
        members = {m.detection_id: m.cluster_id for m in session.exec(select(ClusterMember))}
    assert len(clusters) == 1 and clusters[0].size == 4
    assert set(members) == set(ids) and set(members.values()) == {clusters[0].id}


def test_the_candidate_shortcut_never_skips_a_profile_that_could_link():
    """links._most_features bounds Profile.features from above for every mix of roles, verdicts and traits:
    a candidate skipped by it is one compare() would have refused."""
    from itertools import product
    from types import SimpleNamespace

    from chem.profiles import MIN_FEATURES
    from ews.services.links import _most_features, _profile, is_main

    kinds = [
        (None, "controlled"),
        (None, "known"),
        ("active", "known"),
        ("adulterant", "analog"),
        ("diluent", "known"),
    ]
    appearances = [
        None,
        {},
        {"packaging": "bag"},
        {"colour": "pink", "logo": "Tesla"},
        {"mass_mg": 312.0, "shape": ""},
    ]
    checked = skipped = 0
    for size in (1, 2, 3):
        for mix in product(kinds, repeat=size):
            components = [
                SimpleNamespace(
                    skeleton_key=f"K{i}",
                    role=role,
                    verdict=verdict,
                    purity_percent=None,
                    amount_mg=None,
                    enantiomer_ratio=None,
                )
                for i, (role, verdict) in enumerate(mix)
            ]
            if not any(is_main(c) for c in components):
                continue  # never a candidate: the query asks for a main component
            for appearance in appearances:
                features = _profile(appearance, components).features
                assert _most_features(appearance, components) >= features
                checked += 1
                skipped += _most_features(appearance, components) < MIN_FEATURES
    assert checked > 100 and skipped > 0


def test_a_cached_candidate_profile_is_made_anew_when_a_verdict_changes(client, actors, settings):
    """Candidate profiles are kept per process under the stamp a database trigger gives every row of a
    detection. Re-identification rewriting a stored component's verdict (here: caffeine, reported without
    a role, becomes controlled) restamps the detection, and the profile read next is made anew; so does
    a changed appearance."""
    from ews.models import Detection, DetectionComponent
    from ews.services.links import _components_by_detection, candidates, profile_of

    body = tablet("CACHE-1", "CO", BATCH_A)
    body["components"][1].pop("role")  # caffeine without a role: an adulterant while its verdict is "known"
    created = post(client, actors["lab_co"], body)
    engine = engine_for(settings.database_url)
    newcomer = Detection(organisation_id=actors["lab_co"].organisation_id, country="CO")

    def component(session, position):
        return session.exec(
            select(DetectionComponent).where(
                DetectionComponent.detection_id == created["id"], DetectionComponent.position == position
            )
        ).one()

    def profile_now():
        with Session(engine) as session:
            mdma_key = component(session, 0).skeleton_key
            (profile,) = [p for i, p in candidates(session, newcomer, {mdma_key}) if i == created["id"]]
        return profile

    def made_afresh():
        with Session(engine) as session:
            detection = session.get(Detection, created["id"])
            return profile_of(detection, _components_by_detection(session, [created["id"]])[created["id"]])

    with Session(engine) as session:
        caffeine_key = component(session, 1).skeleton_key
    first = profile_now()
    assert {c.key: c.role for c in first.components}[caffeine_key] == "adulterant"
    assert profile_now() is first  # the same stamp: the kept profile

    with Session(engine) as session:  # what reidentify._apply writes when the library changes
        caffeine = component(session, 1)
        assert caffeine.verdict == "known"
        caffeine.verdict = "controlled"
        session.add(caffeine)
        session.commit()
    second = profile_now()
    assert second is not first
    assert {c.key: c.role for c in second.components}[caffeine_key] == "active"
    assert second == made_afresh()
    assert profile_now() is second

    with Session(engine) as session:
        detection = session.get(Detection, created["id"])
        detection.appearance = {**detection.appearance, "colour": "green"}
        session.add(detection)
        session.commit()
    third = profile_now()
    assert third.appearance.colour == "green" and second.appearance.colour != "green"
    assert third == made_afresh()


def test_the_candidates_query_never_leaves_out_a_seizure_the_full_comparison_links(client, actors, settings):
    """The candidates query leaves out, in the database, detections that cannot have the features a link
    needs (links._most_features). Over many generated seizures of a few recipes (real structures, random
    roles, amounts, traits and packaging), every pair that compare() links when every stored detection is
    compared with every other is still among the candidates; and the filter does leave some out."""
    import random

    from ews.models import Detection
    from ews.services.links import _components_by_detection, candidates, is_main, profile_of

    rng = random.Random(12)
    drugs = [MDMA, ISOTONITAZENE]
    others = [CAFFEINE, PARACETAMOL, LACTOSE, PMK, MDA, N_FORMYL_MDMA, MDP2P_ALCOHOL, NITAZENE_PRECURSOR]
    roles = [None, "adulterant", "diluent", "impurity", "by_product", "unknown"]
    recipes = [
        (rng.choice(drugs), rng.sample(others, rng.randint(0, 4)), [rng.choice(roles) for _ in range(4)])
        for _ in range(8)
    ]
    traits = {"colour": "pink", "logo": "Tesla", "shape": "round", "mass_mg": 300.0, "diameter_mm": 9.0}
    for number in range(90):
        drug, extra, extra_roles = rng.choice(recipes)
        kept = [s for s in extra if rng.random() < 0.85]
        components = [
            {"smiles": drug, "role": rng.choice(["active", None]), "purity_percent": rng.uniform(20, 40)}
        ]
        for smiles, role in zip(kept, extra_roles, strict=False):
            component: dict = {"smiles": smiles}
            if role:
                component["role"] = role
            if rng.random() < 0.8:
                component["purity_percent"] = rng.uniform(0.5, 20) * rng.uniform(0.9, 1.1)
            components.append(component)
        sample: dict = {"form": "tablet", "seized_on": "2026-10-02", "country": "CO"}
        shown = {k: v for k, v in traits.items() if rng.random() < 0.25}
        if rng.random() < 0.15:
            shown["packaging"] = "zip bag"  # not a trait a profile counts
        if shown or rng.random() < 0.5:
            sample["appearance"] = shown
        post(
            client,
            actors["lab_co"],
            {"external_ref": f"PROP-{number}", "sample": sample, "components": components},
        )

    engine = engine_for(settings.database_url)
    with Session(engine) as session:
        detections = session.exec(select(Detection)).all()
        parts = _components_by_detection(session, [d.id for d in detections])
        profiles_of = {d.id: profile_of(d, parts[d.id]) for d in detections}
        mains = {d.id: {c.skeleton_key for c in parts[d.id] if is_main(c)} for d in detections}
        linked = left_out = 0
        for detection in detections:
            if not mains[detection.id]:
                continue
            found = {c[0] for c in candidates(session, detection, mains[detection.id])}
            for other in detections:
                if other.id == detection.id or not mains[detection.id] & mains[other.id]:
                    continue
                if compare(profiles_of[detection.id], profiles_of[other.id]).linked:
                    linked += 1
                    assert other.id in found, (parts[detection.id], parts[other.id], other.appearance)
                elif other.id not in found:
                    left_out += 1
    assert linked > 20 and left_out > 20
