"""What bench/validation.py says about its held-out false positives: the evidence behind each, and the rate
less those an NPS inventory lists or a national law controls."""

from __future__ import annotations

from collections import Counter

from bench.validation import Outcome, cause, report
from chem.families import load_families
from chem.library import ReferenceLibrary, substance_from_row
from chem.match import match
from chem.standardize import standardize_text

ETONITAZENE = {
    "name": "etonitazene",
    "smiles": "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",
    "schedule": "I",
    "controlled_since": "1964-12-13",
}
FENTANYL = {
    "name": "fentanyl",
    "smiles": "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
    "schedule": "I",
    "controlled_since": "1964-12-13",
}


def test_the_cause_of_an_analog_by_similarity_names_the_nearest_controlled_substance():
    library = ReferenceLibrary.from_rows([ETONITAZENE])
    isotonitazene = standardize_text("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21")
    result = match(isotonitazene, library)
    assert result.verdict == "analog"
    assert cause(result).startswith("similarity etonitazene 0.")


def test_the_cause_of_an_analog_by_a_family_rule_names_the_rule():
    substances = [substance_from_row(FENTANYL, "rows")]
    library = ReferenceLibrary.build(substances, load_families(), [], None)
    acrylfentanyl = standardize_text("C=CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")
    result = match(acrylfentanyl, library)
    assert result.verdict == "analog"
    assert cause(result) == "family fentanyl"


def test_the_report_gives_the_rate_less_medicines_an_inventory_lists_or_a_law_controls():
    held = Outcome("held_out", "not analog", verdicts=Counter(analog=5, no_match=95))
    held.explained = (2, 2, 3)  # one medicine is both on an inventory and under a national law
    negatives = Outcome("negatives", "not analog", verdicts=Counter(no_match=10))
    empty = Outcome("x", "analog")
    text = report({"recently_scheduled": empty, "nps_positives": empty, "negatives": negatives, "held_out": held})
    assert "false-positive rate 0.050 (5/100" in text
    assert (
        "less those an NPS inventory lists or a national law controls: false-positive rate 0.020 (2/100)" in text
    )


def test_the_report_groups_the_held_out_analogs_by_their_evidence():
    held = Outcome("held_out", "not analog", verdicts=Counter(analog=3, no_match=97))
    held.causes = {
        "talbutal": "family barbiturate; controlled in US",
        "heptobarbital": "family barbiturate, benzodiazepine",
        "ethoheptazine": "similarity pethidine 0.90",
    }
    empty = Outcome("x", "analog")
    text = report({"recently_scheduled": empty, "nps_positives": empty, "negatives": empty, "held_out": held})
    assert "by evidence:     family barbiturate 2, similarity 1" in text
