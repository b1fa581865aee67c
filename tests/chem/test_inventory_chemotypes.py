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
from chem.match import match_text, reduced_n_oxide
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
        # endocannabinoid-system ligands: fatty acid amides and FAAH/MAGL inhibitors
        (
            "CCCCC/C=C\\C/C=C\\C/C=C\\C/C=C\\CCCC(=O)N[C@H](C)CO",
            "synthetic_cannabinoid",
            "endocannabinoid-modulator",
        ),  # (R)-methanandamide, line 1701
        (
            "CN(C)C(=O)n1nnnc1Cc1ccc(-c2ccccc2)cc1",
            "synthetic_cannabinoid",
            "endocannabinoid-modulator",
        ),  # LY2183240
        (
            "NC(=O)c1cccc(-c2cccc(OC(=O)NC3CCCCC3)c2)c1",
            "synthetic_cannabinoid",
            "endocannabinoid-modulator",
        ),  # URB597, line 2328
        # a CBD-type resorcinol on a pinene ring
        (
            "CCCCCCC(C)(C)c1cc(OC)c([C@@H]2C=C(CO)[C@@H]3C[C@H]2C3(C)C)c(OC)c1",
            "cannabinoid",
            "cannabidiol-type",
        ),  # HU-308, line 1380
        # tianeptine's MC5 metabolite, drawn with a charged sulfonyl
        ("CN1c2ccccc2C(NCCCCC(=O)O)c2ccc(Cl)cc2S1([O-])[O-]", "opioid", "tianeptine"),  # line 2282
        ("O=C1CCCCC1(O)c1ccccc1Cl", "arylcyclohexylamine", "ketamine-precursor"),  # line 48
        # ring-constrained tryptamines
        ("COc1ccc2[nH]cc(C[C@H]3CCCN3C)c2c1", "tryptamine", "tryptamine"),  # 5-MeO-MPMI, line 741
        ("CN(C)C1Cc2cccc3[nH]cc(c23)C1", "tryptamine", "tryptamine"),  # line 2219
        # an amine N-oxide is weighed by its amine (DMT)
        ("C[N+](C)([O-])CCc1c[nH]c2ccccc12", "tryptamine", "tryptamine"),  # DMT N-oxide, line 1810
        # benzhydryl-, GBR-type and 3-chloropropyl phenylpiperazines
        ("Clc1ccc(C(c2ccccc2)N2CCNCC2)cc1", "piperazine", "piperazine"),  # norchlorcyclizine, line 2132
        ("Fc1ccc(C(OCCN2CCN(CCCc3ccccc3)CC2)c2ccc(F)cc2)cc1", "piperazine", "piperazine"),  # vanoxerine
        ("ClCCCN1CCN(c2cccc(Cl)c2)CC1", "piperazine", "piperazine"),  # line 1144
        ("c1ccc(CC2CCNCC2)cc1", "piperidine_pyrrolidine", "pipradrol"),  # 4-benzylpiperidine, line 423
        ("Cc1oc2nc3c(c(NC(=O)CN4CCCC4=O)c2c1C)CCCC3", "piperidine_pyrrolidine", "racetam"),  # coluracetam
        ("COc1ccccc1CNC(C)Cc1ccc2occc2c1", "arylalkylamine", "arylalkylamine"),  # 5-APB-NBOMe, line 627
        ("NC1CCc2ccccc21", "aminoindane", "aminoindane"),  # 1-aminoindane, line 24
        ("COc1ccccc1N1CCN(C(c2ccccc2)C(O)c2ccccc2)CC1", "opioid", "piperazine-opioid"),  # line 99
        ("Cc1cccc(N(C(=O)c2ccccc2)C2CCN(C)CC2)c1", "opioid", "fentanyl-precursor"),  # line 1890
        ("Cc1nnc(CN)n1-c1ccc(Cl)cc1C(=O)c1ccccc1", "benzodiazepine", "benzodiazepine-precursor"),  # line 957
        ("CC=1NN=C2N(C(CC(N(C21)C2=CC=CC=C2)=O)=O)C", "benzodiazepine", "heteroaryl-diazepine"),  # line 2189
        # a 3-hydroxy pyridodiazepinone, whose canonical tautomer puts hydrogens on the pyridine
        ("O=C1Nc2ccc(Cl)nc2C(c2ccccc2Cl)=NC1O", "benzodiazepine", "heteroaryl-diazepine"),  # line 1583
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
        "CCCCC/C=C\\C/C=C\\CCCCCCCC(=O)NC(C)c1ccccc1",  # melinamide: a fatty amide on an aryl carbon
        "CCN(C)C(=O)Oc1cccc(C(C)N(C)C)c1",  # rivastigmine: an aryl carbamate, no biphenyl
        "CN1CCC[C@@H]1Cc1c[nH]c2ccc(CCS(=O)(=O)c3ccccc3)cc12",  # eletriptan: an MPMI with a triptan tail
        "OCCOCCN1CCN(C(c2ccccc2)c2ccc(Cl)cc2)CC1",  # hydroxyzine: an N-substituted benzhydrylpiperazine
        "CC(c1ccc(O)cc1)C(O)CN1CCC(Cc2ccccc2)CC1",  # ifenprodil: an N-substituted 4-benzylpiperidine
        "CC[C@@H](C(N)=O)N1CCCC1=O",  # levetiracetam: an alpha-branched racetam
        "C#CCN[C@@H]1CCc2ccccc21",  # rasagiline: an N-propargyl 1-aminoindane
        "CCN(CC)Cc1nccn1-c1ccc([N+](=O)[O-])cc1C(=O)c1ccccc1Cl",  # nizofenone: an imidazolyl benzophenone
        "CCCCCCCCCCCC[N+](C)(C)[O-]",  # lauramine oxide: an N-oxide whose amine is nothing of concern
    ],
)
def test_medicines_near_the_inventory_rules_are_not_analogs(library, smiles):
    assert match_text(smiles, library)["verdict"] in ("known", "no_match")


def test_an_n_oxide_names_its_amine_in_the_evidence(library):
    result = match_text("C[N+](C)([O-])CCc1c[nH]c2ccccc12", library)  # DMT N-oxide
    oxide = [m for m in result["matches"] if m.get("basis") == "n_oxide"]
    assert {m["kind"] for m in oxide} == {"similarity", "family"}
    assert any(m["substance"]["name"] == "DMT" and "N-oxide" in m["note"] for m in oxide)
    # ... once: the entry through the amine is not repeated as a plain similarity to DMT
    assert [m["kind"] for m in result["matches"] if m["substance"]["name"] == "DMT"] == ["similarity"]
    # aromatic and imine N-oxides are drugs of their own: no amine to weigh
    assert reduced_n_oxide(Chem.MolFromSmiles("Nc1cc(N2CCCCC2)nc(N)[n+]1[O-]")) is None  # minoxidil
    assert (
        reduced_n_oxide(Chem.MolFromSmiles("CNC1=Nc2ccc(Cl)cc2C(c2ccccc2)=[N+]([O-])C1")) is None
    )  # chlordiazepoxide


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
