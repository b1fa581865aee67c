"""The laws of the Americas: national lists and generic definitions answer for their own jurisdiction."""

from __future__ import annotations

from datetime import date

import pytest

from chem.library import ReferenceLibrary
from chem.match import match_text

KETAMINE = "CNC1(CCCCC1=O)c1ccccc1Cl"
CARISOPRODOL = "CCCC(C)(COC(N)=O)COC(=O)NC(C)C"
ISOTONITAZENE = "CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21"
# N-(1-amino-3,3-dimethyl-1-oxobutan-2-yl)-1-hexyl-1H-indazole-3-carboxamide: on no list we bundle
ADB_HEXINACA = "CCCCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21"
# a fentanyl analogue on no list we bundle: 2'-fluoro ortho-fluorofentanyl
FLUORO_FENTANYL = "CCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2F)CC1"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> ReferenceLibrary:
    return ReferenceLibrary.bundled(cache_dir=tmp_path_factory.mktemp("cache"))


def national(result: dict, code: str) -> list[dict]:
    return [c for c in result["controls"] if c["jurisdiction"] == code]


def test_ketamine_is_controlled_in_the_united_states_and_known_under_the_conventions(library):
    us = match_text(KETAMINE, library, jurisdiction="US", as_of=date(2026, 1, 1))
    assert us["verdict"] == "controlled" and us["jurisdiction"] == "US"
    (control,) = national(us, "US")
    assert control["instrument"] == "Controlled Substances Act (21 CFR 1308.13)"
    assert (control["schedule"], control["controlled_since"], control["basis"]) == ("III", "1999-08-12", "listed")
    un = match_text(KETAMINE, library, jurisdiction="UN", as_of=date(2026, 1, 1))
    assert un["verdict"] == "known" and un["controls"] == []
    before = match_text(KETAMINE, library, jurisdiction="US", as_of=date(1999, 8, 11))
    assert before["verdict"] == "known"


def test_carisoprodol_is_controlled_in_the_united_states_not_under_the_conventions(library):
    us = match_text(CARISOPRODOL, library, jurisdiction="US", as_of=date(2020, 1, 1))
    assert us["verdict"] == "controlled"
    assert [(c["schedule"], c["controlled_since"]) for c in national(us, "US")] == [("IV", "2012-01-11")]
    un = match_text(CARISOPRODOL, library, jurisdiction="UN", as_of=date(2020, 1, 1))
    assert un["verdict"] != "controlled" and un["controls"] == []
    # the 1971 Convention listed it in March 2025: from then on both apply in the United States
    both = match_text(CARISOPRODOL, library, jurisdiction="US", as_of=date(2026, 1, 1))
    assert {c["jurisdiction"] for c in both["controls"]} == {"UN", "US"}


def test_a_national_control_applies_only_in_its_own_country(library):
    for code in ("BR", "CA", "MX", "AR", "CO"):
        result = match_text(CARISOPRODOL, library, jurisdiction=code, as_of=date(2020, 1, 1))
        assert not national(result, "US"), code
    brazil = match_text(KETAMINE, library, jurisdiction="BR", as_of=date(2026, 1, 1))
    assert brazil["verdict"] == "controlled"
    assert [(c["instrument"], c["schedule"]) for c in brazil["controls"]] == [
        ("Portaria SVS/MS 344/1998, Lista C1", "C1")
    ]


def test_before_a_us_temporary_listing_isotonitazene_is_not_controlled(library):
    before = match_text(ISOTONITAZENE, library, jurisdiction="US", as_of=date(2020, 8, 19))
    assert before["verdict"] == "analog" and before["controls"] == []
    during = match_text(ISOTONITAZENE, library, jurisdiction="US", as_of=date(2020, 8, 20))
    assert during["verdict"] == "controlled"
    (control,) = during["controls"]
    assert control["instrument"] == "Controlled Substances Act (21 CFR 1308.11(h), temporary listing)"
    assert control["controlled_since"] == "2020-08-20"
    # meanwhile, under the conventions alone, it stays an analog until the CND vote of 14 April 2021
    assert match_text(ISOTONITAZENE, library, jurisdiction="UN", as_of=date(2020, 8, 20))["verdict"] == "analog"


def test_a_brazilian_structural_class_catches_a_new_synthetic_cannabinoid(library):
    brazil = match_text(ADB_HEXINACA, library, jurisdiction="BR", as_of=date(2026, 1, 1))
    assert brazil["verdict"] == "controlled" and brazil["class"] == "synthetic_cannabinoid"
    generic = [c for c in brazil["controls"] if c["basis"] == "generic"]
    assert [c["definition"] for c in generic] == ["br-f2-b6-indazole-indole-3-carboxamides"]
    assert generic[0]["jurisdiction"] == "BR" and generic[0]["schedule"] == "F2"
    assert not [m for m in brazil["matches"] if m["kind"] == "identity"]
    # elsewhere the same class is evidence for an analog, not a control
    assert match_text(ADB_HEXINACA, library, jurisdiction="UN", as_of=date(2026, 1, 1))["verdict"] == "analog"


def test_canadas_fentanyl_analogue_description_catches_a_new_fentanyl_analogue(library):
    canada = match_text(FLUORO_FENTANYL, library, jurisdiction="CA", as_of=date(2026, 1, 1))
    assert canada["verdict"] == "controlled" and canada["high_harm"]
    (control,) = [c for c in canada["controls"] if c["basis"] == "generic"]
    assert control["definition"] == "ca-cdsa-fentanyl-analogues" and control["schedule"] == "I"
    assert match_text(FLUORO_FENTANYL, library, jurisdiction="BR", as_of=date(2026, 1, 1))["verdict"] == "analog"


def test_a_registered_medicine_is_outside_the_brazilian_classes(library):
    """Adendo 15 of List F2: components of registered medicines are excepted from items b and c."""
    bupropion = "CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1"
    result = match_text(bupropion, library, jurisdiction="BR", as_of=date(2026, 1, 1))
    assert result["verdict"] == "known"
    assert any(
        m["kind"] == "generic" and m["definition"]["id"] == "br-f2-c-synthetic-cathinones"
        for m in result["matches"]
    )


def test_a_precursor_solvent_is_a_precursor_in_brazil_and_known_elsewhere(library):
    chloroform = "ClC(Cl)Cl"
    assert match_text(chloroform, library, jurisdiction="BR", as_of=date(2026, 1, 1))["verdict"] == "precursor"
    assert match_text(chloroform, library, jurisdiction="UN", as_of=date(2026, 1, 1))["verdict"] == "known"


def test_held_out_national_listings_are_still_flagged(tmp_path):
    """bench/jurisdictions.py as floors: a fixed 15 % of each national list, matched without its own listing."""
    from bench.jurisdictions import evaluate, holdout_rows, read_holdout

    assert read_holdout() == holdout_rows(), "tests/data/validation/jurisdictions_holdout.csv is stale: --write"
    outcomes = evaluate(tmp_path)
    assert {"US", "BR", "CA"} <= set(outcomes)
    for code in ("US", "BR", "CA"):
        outcome = outcomes[code]
        assert outcome.total >= 20, code
        # held-out listed medicines (anabolic steroids, anorectics) are `known` without their own listing:
        # DrugCentral makes them known medicines, which is the right answer where they are not listed
        assert outcome.flagged / outcome.total >= 0.85, code
        assert outcome.controlled / outcome.total >= 0.70, code


def test_a_positional_isomer_of_a_us_schedule_i_hallucinogen_is_controlled_there(library):
    """21 CFR 1300.01: same formula, core and functional groups, substituents moved on the core."""
    dma_34 = "COc1ccc(CC(C)N)cc1OC"  # 3,4-dimethoxyamphetamine; 2,5-DMA is listed
    us = match_text(dma_34, library, jurisdiction="US", as_of=date(2026, 1, 1))
    assert us["verdict"] == "controlled"
    assert {(c["substance"]["id"], c["basis"]) for c in us["controls"]} >= {("dma", "positional_isomer")}
    assert all(c["jurisdiction"] == "US" and c["schedule"] == "I" for c in us["controls"])
    assert match_text(dma_34, library, jurisdiction="UN", as_of=date(2026, 1, 1))["verdict"] != "controlled"
    # moving the alpha-methyl group onto the nitrogen makes a secondary amine: a new functionality
    n_methyl = "CNC(C)Cc1cc(OC)ccc1OC"
    assert match_text(n_methyl, library, jurisdiction="US", as_of=date(2026, 1, 1))["verdict"] != "controlled"
    # the clause belongs to the hallucinogens only: a positional isomer of methcathinone (1308.11(f)) is not claimed
    ring_methyl_cathinone = "CC(N)C(=O)c1ccc(C)cc1"
    result = match_text(ring_methyl_cathinone, library, jurisdiction="US", as_of=date(2026, 1, 1))
    assert not [c for c in result["controls"] if c["basis"] == "positional_isomer"]


# 2C-TFM: 2,5-dimethoxy-4-(trifluoromethyl)phenethylamine, named in no list we bundle
TWO_C_TFM = "NCCc1cc(OC)c(C(F)(F)F)cc1OC"
MIDODRINE = "COc1ccc(OC)c(C(O)CNC(=O)CN)c1"
# JWH-203: 1-pentyl-3-(2-chlorophenylacetyl)indole, a 3-phenylacetylindole named in no list we bundle
JWH_203 = "CCCCCn1cc(C(=O)Cc2ccccc2Cl)c2ccccc21"
GRANISETRON = "CN1C2CCCC1CC(NC(=O)c1nn(C)c3ccccc13)C2"


def generic_controls(result: dict, code: str) -> list[dict]:
    return [c for c in result["controls"] if c["jurisdiction"] == code and c["basis"] == "generic"]


def test_canadas_2c_phenethylamine_description_catches_a_2c_from_its_day_in_force(library):
    """CDSA Schedule III item 35 (SOR/2016-73): in force the 180th day after 4 May 2016, 31 October 2016."""
    canada = match_text(TWO_C_TFM, library, jurisdiction="CA", as_of=date(2026, 1, 1))
    assert canada["verdict"] == "controlled" and canada["class"] == "phenethylamine"
    (control,) = generic_controls(canada, "CA")
    assert control["definition"] == "ca-cdsa-2c-phenethylamines-2-5-dialkoxy"
    assert (
        control["instrument"] == "Controlled Drugs and Substances Act, Schedule III, item 35 (2C-phenethylamines)"
    )
    assert (control["schedule"], control["controlled_since"]) == ("III", "2016-10-31")
    before = match_text(TWO_C_TFM, library, jurisdiction="CA", as_of=date(2016, 10, 30))
    assert before["verdict"] == "analog" and before["controls"] == []
    # the class is Canadian law only
    assert not generic_controls(match_text(TWO_C_TFM, library, jurisdiction="US", as_of=date(2026, 1, 1)), "CA")


def test_a_medicine_near_the_2c_description_stays_known_in_canada(library):
    """Midodrine is a 2,5-dimethoxy-beta-hydroxyphenethylamine, but its nitrogen carries a glycyl group."""
    result = match_text(MIDODRINE, library, jurisdiction="CA", as_of=date(2026, 1, 1))
    assert result["verdict"] == "known" and result["controls"] == []


def test_canadas_synthetic_cannabinoid_classes_beyond_the_naphthoylindoles(library):
    canada = match_text(JWH_203, library, jurisdiction="CA", as_of=date(2016, 1, 1))
    assert canada["verdict"] == "controlled" and canada["class"] == "synthetic_cannabinoid"
    (control,) = generic_controls(canada, "CA")
    assert control["definition"] == "ca-cdsa-scra-phenylacetylindoles"
    assert control["instrument"].startswith("Controlled Drugs and Substances Act, Schedule II, item 2(4)")
    assert (control["schedule"], control["controlled_since"]) == ("II", "2015-07-16")
    assert match_text(JWH_203, library, jurisdiction="CA", as_of=date(2015, 7, 15))["controls"] == []


def test_granisetron_shares_the_indazole_carboxamide_core_but_is_no_cannabinoid_agonist(library):
    """Item 2 controls CB1 agonists 'including' the classes: a 5-HT3 antagonist medicine is not one."""
    from rdkit import Chem

    from chem.generic import load_definitions

    (rule,) = [d for d in load_definitions() if d.id == "ca-cdsa-scra-indazole-3-carboxamides"]
    assert rule.covers(Chem.MolFromSmiles(GRANISETRON)) is not None  # the structure alone would match
    result = match_text(GRANISETRON, library, jurisdiction="CA", as_of=date(2026, 1, 1))
    assert result["verdict"] == "known" and result["controls"] == []


def test_a_us_temporary_order_hands_over_to_the_permanent_listing(library):
    """5F-EDMB-PINACA: temporary order 84 FR 15505 from 16 April 2019, permanent Schedule I from 7 April 2022."""
    edmb = "CCOC(=O)C(NC(=O)c1nn(CCCCCF)c2ccccc12)C(C)(C)C"
    before = match_text(edmb, library, jurisdiction="US", as_of=date(2019, 4, 15))
    assert not national(before, "US")
    temporary = national(match_text(edmb, library, jurisdiction="US", as_of=date(2020, 1, 1)), "US")
    assert [(c["instrument"], c["controlled_since"]) for c in temporary] == [
        ("Controlled Substances Act (21 CFR 1308.11(h), temporary listing)", "2019-04-16")
    ]
    permanent = national(match_text(edmb, library, jurisdiction="US", as_of=date(2023, 1, 1)), "US")
    assert [(c["instrument"], c["controlled_since"]) for c in permanent] == [
        ("Controlled Substances Act (21 CFR 1308.11)", "2022-04-07")
    ]


def test_brazils_cyclopropyl_ketone_class_reaches_the_indazoles(library):
    """Lista F2 item b.5 (B9): an indazol-3-yl tetramethylcyclopropyl ketone, on no list we bundle."""
    indazole_ur144 = "CCCCCn1nc(C(=O)C2C(C)(C)C2(C)C)c2ccccc21"
    brazil = match_text(indazole_ur144, library, jurisdiction="BR", as_of=date(2026, 1, 1))
    assert brazil["verdict"] == "controlled"
    (control,) = generic_controls(brazil, "BR")
    assert control["definition"] == "br-f2-b5-cyclopropylmethanone-indoles-indazoles"
    assert control["instrument"].startswith("Portaria SVS/MS 344/1998, Anexo I, Lista F2")
    assert control["schedule"] == "F2"
    # Canada's item 2(6) names indoles only: the indazole stays an analog there
    assert match_text(indazole_ur144, library, jurisdiction="CA", as_of=date(2026, 1, 1))["verdict"] == "analog"


AB_CHMINACA = "CC(C)C(NC(=O)c1nn(CC2CCCCC2)c2ccccc12)C(N)=O"


def test_a_us_temporary_order_then_the_permanent_rule_each_answer_in_its_own_time(library):
    """AB-CHMINACA: temporary order 80 FR 5042 (30 January 2015), permanent rule 82 FR 47971 (16 October 2017)."""
    before = match_text(AB_CHMINACA, library, jurisdiction="US", as_of=date(2015, 1, 29))
    assert national(before, "US") == []
    temporary = match_text(AB_CHMINACA, library, jurisdiction="US", as_of=date(2016, 6, 1))
    assert temporary["verdict"] == "controlled"
    (control,) = national(temporary, "US")
    assert control["instrument"] == "Controlled Substances Act (21 CFR 1308.11(h), temporary listing)"
    assert control["controlled_since"] == "2015-01-30"
    assert "2015-01776" in control["citation"]
    # the temporary listing ends on the day the permanent placement begins
    permanent = match_text(AB_CHMINACA, library, jurisdiction="US", as_of=date(2017, 10, 16))
    (control,) = national(permanent, "US")
    assert control["instrument"] == "Controlled Substances Act (21 CFR 1308.11)"
    assert control["controlled_since"] == "2017-10-16" and "2017-22325" in control["citation"]


PERAMPANEL = "N#Cc1ccccc1-c1cc(-c2ccccn2)cn(-c2ccccc2)c1=O"


def test_a_medicine_is_known_in_the_us_until_the_day_its_placement_takes_effect(library):
    """Perampanel: final rule 78 FR 72013, published 2 December 2013, effective 2 January 2014."""
    before = match_text(PERAMPANEL, library, jurisdiction="US", as_of=date(2014, 1, 1))
    assert before["verdict"] == "known" and national(before, "US") == []
    after = match_text(PERAMPANEL, library, jurisdiction="US", as_of=date(2014, 1, 2))
    assert after["verdict"] == "controlled"
    (control,) = national(after, "US")
    assert (control["schedule"], control["controlled_since"]) == ("III", "2014-01-02")
    assert "2013-28778" in control["citation"]
