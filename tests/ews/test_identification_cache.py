"""The node's identification table: a structure is matched once per node, and read back unchanged."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session, func, select

from ews.db import engine_for, session_scope
from ews.models import Identification
from ews.services import identify
from ews.services.identify import Identifier
from ews.services.library import LibraryHolder, _bump_version

STRUCTURES = [
    ("COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1N2C", "cocaine"),
    ("CC(=O)O[C@H]1C=C[C@H]2[C@H]3Cc4ccc(OC(C)=O)c5O[C@@H]1[C@]2(CCN3C)c45", None),
    ("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "fentanyl"),
    ("Cn1cnc2c1c(=O)n(C)c(=O)n2C", None),
    ("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21.Cl", "isotonitazene HCl"),
    ("CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21", None),  # JWH-018
    ("CC(CC1=CC=CC=C1)NC", None),
]


class Chemistry:
    """Counts the structures the chemistry really matched (the real function does the work)."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[str] = []
        real = identify.match_text

        def counted(text, *args, **kwargs):
            self.calls.append(text)
            return real(text, *args, **kwargs)

        monkeypatch.setattr(identify, "match_text", counted)


def _rows(url: str) -> int:
    with Session(engine_for(url)) as session:
        return session.exec(select(func.count()).select_from(Identification)).one()


@pytest.fixture
def holder(database_url, cache_dir):
    return LibraryHolder(engine_for(database_url), cache_dir=cache_dir)


def test_a_structure_is_matched_once_per_node_and_read_back_byte_for_byte(holder, database_url, monkeypatch):
    chemistry = Chemistry(monkeypatch)
    first, second = Identifier(holder), Identifier(holder)  # two API workers of one node
    fresh = [first.identify(s, "smiles", name=n, jurisdiction="CO") for s, n in STRUCTURES]
    assert len(chemistry.calls) == len(STRUCTURES)
    assert _rows(database_url) == len(STRUCTURES)

    shared = [second.identify(s, "smiles", name=n, jurisdiction="CO") for s, n in STRUCTURES]
    assert len(chemistry.calls) == len(STRUCTURES)  # the second worker ran no chemistry
    for made, read in zip(fresh, shared, strict=True):
        assert json.dumps(read) == json.dumps(made)
        assert json.dumps(read, sort_keys=True) == json.dumps(made, sort_keys=True)
    assert shared[2]["verdict"] == "controlled" and shared[3]["verdict"] == "known"


def test_the_key_holds_the_question_name_and_date(holder, monkeypatch):
    chemistry = Chemistry(monkeypatch)
    fentanyl = STRUCTURES[2][0]
    Identifier(holder).identify(fentanyl, "smiles", name=None, jurisdiction="CO")
    other = Identifier(holder)
    other.identify(fentanyl, "smiles", name=None, jurisdiction="MX")
    other.identify(fentanyl, "smiles", name="fenta", jurisdiction="CO")
    past = other.identify(fentanyl, "smiles", name=None, jurisdiction="CO", as_of=date(1960, 1, 1))
    assert len(chemistry.calls) == 4
    assert past["verdict"] != "controlled"  # fentanyl was listed in 1964: the date is part of the question


def test_a_new_library_version_matches_again_and_forgets_the_old_results(holder, database_url, monkeypatch):
    chemistry = Chemistry(monkeypatch)
    caffeine = STRUCTURES[3][0]
    before = Identifier(holder).identify(caffeine, "smiles", name=None, jurisdiction="CO")
    with session_scope(engine_for(database_url)) as session:
        _bump_version(session)
    holder.check_every = 0  # see the new version now rather than within two seconds
    after = Identifier(holder).identify(caffeine, "smiles", name=None, jurisdiction="CO")
    assert len(chemistry.calls) == 2
    assert json.dumps(after) == json.dumps(before)  # same library content, same answer
    with Session(engine_for(database_url)) as session:
        versions = session.exec(select(Identification.library_version)).all()
    assert versions == [holder.version]  # the row of the old version was deleted


def test_unreadable_structures_and_questions_are_not_stored(holder, database_url, client, actors):
    result = Identifier(holder).identify("C1CC(", "smiles", name=None, jurisdiction="CO")
    assert "error" in result
    response = client.post(
        "/api/v1/match",
        json={"structures": [{"smiles": STRUCTURES[5][0]}], "jurisdiction": "UN"},
        headers=actors["lab_co"].headers,
    )
    assert response.status_code == 200 and response.json()["results"][0]["verdict"] != "no_match"
    assert _rows(database_url) == 0


def test_a_posted_detection_is_answered_from_the_table_as_it_was_matched(
    client, actors, database_url, monkeypatch
):
    body = {"sample": {"form": "powder", "country": "CO"}, "components": [{"smiles": STRUCTURES[4][0]}]}
    headers = actors["lab_co"].headers
    first = client.post("/api/v1/detections", json={**body, "external_ref": "a"}, headers=headers)
    assert first.status_code == 201 and _rows(database_url) == 1
    client.app.state.node.identifier._cache.clear()  # as if another worker took the second request
    chemistry = Chemistry(monkeypatch)
    second = client.post("/api/v1/detections", json={**body, "external_ref": "b"}, headers=headers)
    assert second.status_code == 201 and chemistry.calls == []
    assert json.dumps(second.json()["components"][0]["match"]) == json.dumps(
        first.json()["components"][0]["match"]
    )
