"""Chemotypes of the EUDA NPS inventory that the family rules reach, and the inventory itself.

The NPS below are rows of ``tests/data/validation/nps_inventory.csv`` (amberNPS
line in the comment); each family rule added for them is also checked against
a medicine that shares its fragment and must stay ``known`` or ``no_match``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdkit import Chem, rdBase

from chem.classes import CLASSES
from chem.families import load_families
from chem.library import ReferenceLibrary
from chem.match import match_text
from chem.screening import screen
from chem.standardize import standardize_text

INVENTORY = Path(__file__).resolve().parent.parent / "data" / "validation" / "nps_inventory.csv"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> ReferenceLibrary:
    return ReferenceLibrary.bundled(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(
    ("smiles", "drug_class", "family"),
    [
        # sulfonyl SCRAs beyond the quinolinyl/naphthyl sulfamoylbenzoates
        (
            "O=S(CCCC(F)(F)F)(OC1=CC=CC(OC2=CC=CC(C(F)(F)F)=C2C#N)=C1)=O",
            "synthetic_cannabinoid",
            "scra-sulfonyl-indole-2-carboxamide",
        ),  # BAY 59-3074, line 1021
        (
            "C12(CC3CC(CC(C1)C3)C2)NS(=O)(=O)C2=CC=C(C3=CC=CC=C23)OCCCCC",
            "synthetic_cannabinoid",
            "scra-sulfonyl-indole-2-carboxamide",
        ),  # adamantyl 4-pentyloxynaphthalene-1-sulfonamide, line 1005
        # indole-2-carboxamides
        (
            "O=C(C(N1)=C(CC)C2=C1C=CC(Cl)=C2)NCCC3=CC=C(N4CCCCC4)C=C3",
            "synthetic_cannabinoid",
            "scra-sulfonyl-indole-2-carboxamide",
        ),  # ORG 27569, line 1969
        # pyrazole carboxamides (already reached by the indole/indazole rule: kept as a regression)
        (
            "NC(=O)C(NC(=O)c1cc(-c2ccc(F)cc2)nn1CCCCCF)C(C)C",
            "synthetic_cannabinoid",
            "scra-indole-indazole",
        ),  # 5F-3,5-AB-PFUPPYCA
        (
            "CC(C)(C)C(NC(=O)c1cc(-c2ccc(F)cc2)nn1CCCC=C)C(N)=O",
            "synthetic_cannabinoid",
            "scra-indole-indazole",
        ),  # 3,5-ADB-4en-PFUPPYCA
        # tailed cores sold as SCRA precursors
        ("O=C(O)c1cn(Cc2ccc(F)cc2)c2ccccc12", "synthetic_cannabinoid", "scra-core"),  # line 1352
        ("FC(CN1C=CC2=CC=CC=C12)CCC", "synthetic_cannabinoid", "scra-core"),  # line 195
        # designer fentanyl precursors and the W-series
        ("FC1=CC=C(C=C1)NC1CCNCC1", "opioid", "fentanyl-precursor"),  # para-fluoro-4-AP, line 2011
        ("COC1=CC=C(NC2CCN(CCC3=CC=CC=C3)CC2)C=C1", "opioid", "fentanyl-precursor"),  # line 2030
        (
            "C1CCN(/C(=N\\S(=O)(=O)C2=CC=C(C=C2)Cl)/C1)CCC3=CC=C(C=C3)[N+](=O)[O-]",
            "opioid",
            "fentanyl-precursor",
        ),  # W-18, line 2340
        # benzofurans aminoalkylated on the furan ring
        ("CC(N)CC(O1)=CC2=C1C=CC=C2", "arylalkylamine", "benzofuran-aminoalkyl"),  # line 137
        ("O1C=C(C2=C1C=CC=C2)CC(C)NC", "arylalkylamine", "benzofuran-aminoalkyl"),  # line 352
        ("NCCC1=CC2=C(OCC2)C=C1", "arylalkylamine", "benzofuran-aminoalkyl"),  # 5-AEDB, line 624
    ],
)
def test_inventory_chemotypes_are_analogs_with_their_class(library, smiles, drug_class, family):
    result = match_text(smiles, library)
    assert result["verdict"] == "analog"
    assert result["class"] == drug_class
    assert family in {m["family"]["id"] for m in result["matches"] if m["kind"] == "family"}


@pytest.mark.parametrize(
    "smiles",
    [
        "CC(C)Nc1cccnc1N1CCN(C(=O)c2cc3cc(NS(C)(=O)=O)ccc3[nH]2)CC1",  # delavirdine: indole-2-carbonyl
        "O=C(O)c1nn(Cc2ccc(Cl)cc2Cl)c2ccccc12",  # lonidamine: benzylated indazole-3-carboxylic acid
        "O=C(O)COc1nn(Cc2ccccc2)c2ccccc12",  # bendazac
        "CN1CCC(N(Cc2ccccc2)c2ccccc2)CC1",  # bamipine: tertiary 4-anilinopiperidine
        "COc1ccc(CCN2CCC(Nc3nc4ccccc4n3Cc3ccc(F)cc3)CC2)cc1",  # astemizole: 4-aminopiperidine
        "NC(=O)C(c1ccccc1)(c1ccccc1)[C@@H]1CCN(CCc2ccc3c(c2)CCO3)C1",  # darifenacin: dihydrobenzofuranylethyl
        "NS(=O)(=O)Cc1noc2ccccc12",  # zonisamide: a sulfonamide, no SCRA
        "Cc1ccc(S(=O)(=O)NC(=O)NN2CC3CCCC3C2)cc1",  # gliclazide: arylsulfonyl, no W-series amidine
    ],
)
def test_medicines_near_the_inventory_rules_are_not_analogs(library, smiles):
    assert match_text(smiles, library)["verdict"] in ("known", "no_match")


def test_ring_rules_see_a_kekule_drawing_as_they_see_the_aromatic_one():
    # MEAI drawn with alternating bonds was renumbered during standardization and
    # then lost its ring perception to the first pattern fingerprint: no family.
    rule = {r.id: r for r in load_families()}["aminoindane"]
    for text in ("COC=1C=C2CC(CC2=CC1)N", "COc1ccc2c(c1)CC(N)C2"):
        mol = standardize_text(text).mol
        assert rule.matching_atoms(mol, screen(mol)) is not None, text


def test_inventory_rows_are_sourced_readable_and_unique():
    with open(INVENTORY, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 1500
    keys = set()
    with rdBase.BlockLogs():
        for row in rows:
            mol = Chem.MolFromSmiles(row["smiles"])
            assert mol is not None, row["id"]
            assert Chem.MolToInchiKey(mol) == row["inchikey"], row["id"]
            assert row["class"] in CLASSES or (
                row["class"] == "" and row["source_class"] in ("Unknown", "Plants & extracts")
            )
            assert (
                row["id"] in row["citation"].replace("line ", "amberNPS:")
                and "nps_classification.csv" in row["citation"]
            )
            keys.add(row["inchikey"])
    assert len(keys) == len(rows)
