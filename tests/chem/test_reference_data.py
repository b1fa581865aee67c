"""The bundled reference library: every row parses, matches its formula and carries its source."""

from __future__ import annotations

import csv
import re
from datetime import date
from importlib import resources

import pytest
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from chem.classes import CLASSES
from chem.library import (
    BUNDLED_KNOWN,
    BUNDLED_LISTS,
    BUNDLED_MEDICINES,
    ReferenceLibrary,
    bundled_substances,
    national_lists,
)
from chem.standardize import standardize_text

NATIONAL = national_lists()
FILES = (*BUNDLED_LISTS, BUNDLED_KNOWN, *NATIONAL)
CLAUSES = {"isomers", "stereoisomers", "esters", "ethers", "salts", "positional_isomers"}
INSTRUMENTS = {"1961 Single Convention", "1971 Convention", "1988 Convention"}
SCHEDULES = {
    "1961 Single Convention": {"I", "II", "IV"},
    "1971 Convention": {"I", "II", "III", "IV"},
    "1988 Convention": {"Table I", "Table II"},
}
ENTRY_INTO_FORCE = {
    "1961 Single Convention": date(1964, 12, 13),
    "1971 Convention": date(1976, 8, 16),
    "1988 Convention": date(1990, 11, 11),
}


def rows(name: str) -> list[dict]:
    text = resources.files("chem").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


ALL_ROWS = [(name, number, row) for name in FILES for number, row in enumerate(rows(name), start=2)]


@pytest.mark.parametrize(("name", "line", "row"), ALL_ROWS, ids=[f"{n}:{i}" for n, i, _ in ALL_ROWS])
def test_every_row_parses_and_matches_its_formula(name, line, row):
    assert row["id"] and re.fullmatch(r"[a-z0-9][a-z0-9\-]*", row["id"]), "ids are lowercase slugs"
    assert row["name"].strip()
    assert row["citation"].strip(), "every row carries its source"
    if not row["smiles"]:
        assert not row["formula"]
        return
    mol = Chem.MolFromSmiles(row["smiles"])
    assert mol is not None, f"unreadable SMILES {row['smiles']}"
    assert rdMolDescriptors.CalcMolFormula(mol) == row["formula"]
    assert not row.get("class") or row["class"] in CLASSES


@pytest.mark.parametrize("name", BUNDLED_LISTS)
def test_listings_have_instrument_schedule_date_and_clauses(name):
    for row in rows(name):
        assert row["jurisdiction"] == "UN"
        assert row["instrument"] in INSTRUMENTS
        assert row["schedule"] in SCHEDULES[row["instrument"]], row["id"]
        assert row["status"] in ("controlled", "precursor", "excepted")
        if row["status"] == "excepted":
            assert row["excepted_from"], row["id"]
            continue
        since = date.fromisoformat(row["controlled_since"])
        assert ENTRY_INTO_FORCE[row["instrument"]] <= since <= date.today(), row["id"]
        if row.get("controlled_until"):
            assert since < date.fromisoformat(row["controlled_until"]) <= date.today(), row["id"]
        assert set(filter(None, row["clauses"].split(";"))) <= CLAUSES, row["id"]
        assert (row["status"] == "precursor") == (row["instrument"] == "1988 Convention"), row["id"]


def test_ids_within_a_file_are_unique_per_listing():
    for name in FILES:
        keys = [(r["id"], r.get("instrument", ""), r.get("schedule", "")) for r in rows(name)]
        assert len(keys) == len(set(keys)), name


def test_references_between_rows_resolve():
    ids = {row["id"] for _, _, row in ALL_ROWS}
    for _, _, row in ALL_ROWS:
        for constituent in filter(None, (row.get("constituents") or "").split(";")):
            assert constituent in ids, f"{row['id']}: constituent {constituent}"
        if row.get("excepted_from"):
            assert row["excepted_from"] in ids


def test_the_library_merges_and_every_structure_standardizes():
    substances = bundled_substances()
    assert len(substances) > 4000
    for substance in substances:
        if substance.smiles and substance.source != f"bundled:{BUNDLED_MEDICINES}":
            standardize_text(substance.smiles)


def test_drugcentral_rows_parse_and_carry_source_approvals_and_licence():
    medicines = rows(BUNDLED_MEDICINES)
    assert len(medicines) > 3900
    for row in medicines:
        mol = Chem.MolFromSmiles(row["smiles"])
        assert mol is not None, row["id"]
        assert rdMolDescriptors.CalcMolFormula(mol) == row["formula"], row["id"]
        assert re.fullmatch(r"dc[0-9]+(-[a-z0-9\-]+)?", row["id"]), row["id"]
        assert "drugcentral.org/drugcard/" in row["citation"] and "CC BY-SA 4.0" in row["citation"]
        assert set(filter(None, row["approvals"].split(";"))) <= {"FDA", "EMA", "PMDA"}
    approved = {row["name"]: row["approvals"] for row in medicines}
    assert "FDA" in approved["ephedrine"] and "FDA" in approved["lidocaine"]
    licence = resources.files("chem").joinpath("data/DRUGCENTRAL-LICENSE.md").read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 4.0 International" in licence and "Avram" in licence


def test_a_medicine_that_a_list_controls_folds_into_the_listing(tmp_path):
    """Codeine is a 1961 Schedule II drug and a DrugCentral medicine: one substance, still controlled."""
    library = ReferenceLibrary.build(
        [s for s in bundled_substances() if s.name.lower() in ("codeine", "ephedrine", "caffeine")],
        cache_dir=tmp_path,
    )
    by_name = {s.name: s for s in library.substances}
    assert set(by_name) == {"codeine", "ephedrine", "caffeine"}
    assert by_name["codeine"].status == "controlled" and by_name["codeine"].category == "medicine"
    assert by_name["ephedrine"].status == "precursor"
    assert by_name["caffeine"].source == "bundled:known.csv"


def test_no_known_substance_is_a_controlled_one():
    controlled = {}
    for substance in bundled_substances():
        if substance.smiles and any(c.status in ("controlled", "precursor") for c in substance.controls):
            controlled[Chem.MolToInchiKey(Chem.MolFromSmiles(substance.smiles))] = substance.id
    for row in rows(BUNDLED_KNOWN):
        if row["smiles"]:
            key = Chem.MolToInchiKey(Chem.MolFromSmiles(row["smiles"]))
            assert key not in controlled or controlled[key] == row["id"], row["id"]


def test_the_issue_minimums_are_met():
    listed = rows("un_1961.csv") + rows("un_1971.csv") + rows("un_1988.csv")
    schedules = {(r["instrument"], r["schedule"]) for r in listed}
    assert schedules == {(i, s) for i, ss in SCHEDULES.items() for s in ss}
    assert len(rows(BUNDLED_KNOWN)) >= 200
    for name in ("caffeine", "levamisole", "phenacetin", "lidocaine", "procaine", "benzocaine", "xylazine"):
        assert any(r["name"].lower() == name for r in rows(BUNDLED_KNOWN)), name
    plants = {r["id"] for r in listed if not r["smiles"]}
    assert {"cannabis", "coca-leaf", "opium"} <= plants


def test_a_transfer_leaves_no_gap_and_no_overlap():
    """Where a listing ended by transfer, the substance's next listing starts that day."""
    for name in BUNDLED_LISTS:
        listings: dict[str, list[dict]] = {}
        for row in rows(name):
            if row["status"] != "excepted":
                listings.setdefault(row["id"], []).append(row)
        for substance, entries in listings.items():
            for ended in (e for e in entries if e.get("controlled_until")):
                assert any(e["controlled_since"] == ended["controlled_until"] for e in entries), substance


# --- national lists (chem/data/national) ------------------------------------------------------

NATIONAL_INSTRUMENTS = {
    "US": ("Controlled Substances Act (21 CFR 1308.1", {"I", "II", "III", "IV", "V"}),
    "CA": (
        "Controlled Drugs and Substances Act (S.C. 1996, c. 19), Schedule",
        {"I", "II", "III", "IV", "VI Part 1", "VI Part 2"},
    ),
    "BR": (
        "Portaria SVS/MS 344/1998, Lista",
        {"A1", "A2", "A3", "B1", "B2", "C1", "C2", "C3", "C5", "D1", "D2", "E", "F1", "F2", "F3", "F4"},
    ),
    "AR": ("Decreto 560/2019 (Argentina), Anexo I", {"Anexo I"}),
    "MX": ("Ley General de Salud (México), artículo 245", {"245-I", "245-II", "245-III", "245-IV", "245-V"}),
}


def test_every_national_file_names_one_jurisdiction_with_its_instrument_and_schedules():
    assert {"national/us_csa.csv", "national/br_344.csv", "national/ca_cdsa.csv"} <= set(NATIONAL)
    assert len(NATIONAL) >= 5
    for name in NATIONAL:
        listed = rows(name)
        (code,) = {r["jurisdiction"] for r in listed}
        prefix, schedules = NATIONAL_INSTRUMENTS[code]
        for row in listed:
            assert row["instrument"].startswith(prefix), (name, row["id"], row["instrument"])
            assert row["schedule"] in schedules, (name, row["id"], row["schedule"])
            assert row["status"] in ("controlled", "precursor"), row["id"]
            since = date.fromisoformat(row["controlled_since"])
            assert date(1964, 12, 13) <= since <= date.today(), row["id"]
            if row["controlled_until"]:
                assert since < date.fromisoformat(row["controlled_until"]) <= date.today(), row["id"]
            assert set(filter(None, row["clauses"].split(";"))) <= CLAUSES, row["id"]
            assert row["citation"].strip() and row["notes"].strip(), row["id"]


def test_a_national_row_for_a_substance_of_another_list_keeps_its_id_and_structure():
    """Rows merge by id: one substance, its UN and national controls side by side."""
    by_id = {}
    for name in (*BUNDLED_LISTS, BUNDLED_KNOWN):
        for row in rows(name):
            by_id.setdefault(row["id"], row)
    for name in NATIONAL:
        for row in rows(name):
            if row["id"] in by_id and row["smiles"]:
                other = Chem.MolToSmiles(Chem.MolFromSmiles(by_id[row["id"]]["smiles"]))
                assert Chem.MolToSmiles(Chem.MolFromSmiles(row["smiles"])) == other, (name, row["id"])


def test_national_rows_whose_date_is_not_verified_say_so():
    """A date anchored to the text we consulted, not the first listing, is marked UNVERIFIED in its notes."""
    anchors = {"US": "2024-04-01", "BR": "2025-07-31", "CA": "2024-02-20", "MX": "2011-06-07"}
    for name in NATIONAL:
        for row in rows(name):
            anchor = anchors.get(row["jurisdiction"])
            if anchor and row["controlled_since"] == anchor:
                assert "UNVERIFIED" in row["notes"], (name, row["id"])


def test_the_issue_substances_beyond_the_un_lists_are_in_the_us_schedules():
    us = {(r["id"], r["schedule"]) for r in rows("national/us_csa.csv")}
    for substance, schedule in (
        ("ketamine", "III"),
        ("carisoprodol", "IV"),
        ("tramadol", "IV"),
        ("testosterone", "III"),
        ("nandrolone", "III"),
        ("ghb", "I"),
        ("fentanyl", "II"),
        ("heroin", "I"),
        ("2c-e", "I"),
    ):
        assert (substance, schedule) in us, substance


def test_the_shipped_seed_covers_every_bundled_structure():
    """Edit a data file, rebuild the seed (python -m chem.data.build_drugcentral PATH --seed)."""
    import json

    seed = json.loads(resources.files("chem").joinpath("data/standardized-seed.json").read_text(encoding="utf-8"))
    missing = [s.name for s in bundled_substances() if s.smiles and s.smiles not in seed["entries"]]
    assert not missing, f"not in chem/data/standardized-seed.json: {missing[:10]}"
