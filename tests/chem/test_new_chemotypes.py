"""The chemotypes of the market the family rules now reach, decided end to end by the match engine."""

from __future__ import annotations

import pytest

from chem.library import ReferenceLibrary
from chem.match import match_text


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> ReferenceLibrary:
    return ReferenceLibrary.bundled(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(
    ("smiles", "drug_class", "family"),
    [
        (
            "Cc1ccc(C(=O)Oc2cccc3cccnc23)cc1S(=O)(=O)N1CCC(F)(F)CC1",
            "synthetic_cannabinoid",
            "scra-quinolinyl-sulfamoylbenzoate",
        ),  # 2F-QMPSB
        ("CCCCCn1cc(-c2nc(CN(CC)CC)cs2)c2ccccc21", "synthetic_cannabinoid", "scra-indole-indazole"),  # PTI-1
        ("CCCC(=O)C(NC)c1ccccc1", "cathinone", "cathinone"),  # isopentedrone
        ("Nc1ccc(Br)cc1C(=O)c1ccccc1F", "benzodiazepine", "benzodiazepine-precursor"),  # flubromazepam precursor
    ],
)
def test_new_chemotypes_are_analogs_with_their_class(library, smiles, drug_class, family):
    result = match_text(smiles, library)
    assert result["verdict"] == "analog"
    assert result["class"] == drug_class
    assert family in {m["family"]["id"] for m in result["matches"] if m["kind"] == "family"}


@pytest.mark.parametrize(
    "smiles",
    [
        "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",  # imatinib: no benzylpiperazine NPS
        "OCCN(CCO)c1nc(-c2ccccc2)c(-c2ccccc2)o1",  # ditazole: no aminorex
        "Nc1c(CC(=O)O)cccc1C(=O)c1ccc(Br)cc1",  # bromfenac: no benzodiazepine precursor
    ],
)
def test_medicines_near_the_new_rules_are_not_analogs(library, smiles):
    assert match_text(smiles, library)["verdict"] in ("known", "no_match")
