"""Medicines the library does not list are no analogs; new members of a drug family still are.

Each medicine below is taken out of the library first, as the held-out medicines of
bench/validation.py are: the question is whether a medicine nobody bundled is mistaken
for an NPS. ``BEFORE`` is the decision without the vetoes of this module's subject, to show
that each case depends on them.
"""

from __future__ import annotations

import pytest

from bench.validation import medicine_rows
from chem.library import ReferenceLibrary
from chem.match import AnalogPolicy, match_text

MEDICINES = {row["name"]: row["smiles"] for row in medicine_rows()}
BEFORE = AnalogPolicy(known_member_veto=False, family_bound_similarity=False)
VETO = AnalogPolicy(known_member_veto=True)
"""The family and foreign-definition vetoes are opt-in (they cost NPS recall, docs/identify.md)."""


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> ReferenceLibrary:
    return ReferenceLibrary.bundled(cache_dir=tmp_path_factory.mktemp("cache"))


def without(library: ReferenceLibrary, name: str) -> ReferenceLibrary:
    """The library less one medicine (under its own name or as a synonym of a listed substance)."""
    kept = [s for s in library.substances if s.name != name and name not in s.synonyms]
    assert len(kept) < len(library.substances), name
    return ReferenceLibrary(kept, library.families, library.definitions)


@pytest.mark.parametrize(
    ("name", "medicine", "family"),
    [
        ("methysergide", "methylergometrine", "lysergamides"),  # migraine prophylaxis; LSD is farther
        ("naloxegol", "naloxone", "morphinans"),  # PEGylated antagonist; hydromorphinol is farther
        ("altropane", "Ioflupane", "cocaine-type tropanes"),  # dopamine-transporter imaging agent
    ],
)
def test_a_medicine_among_its_family_s_medicines_is_no_analog(library, name, medicine, family):
    held_out = without(library, name)
    assert match_text(MEDICINES[name], held_out, policy=BEFORE)["verdict"] == "analog"
    result = match_text(MEDICINES[name], held_out, policy=VETO)
    assert result["verdict"] == "no_match"
    assert any(family in w and medicine in w for w in result["warnings"]), result["warnings"]
    # the family evidence is still reported, for the chemist to weigh
    assert any(m["kind"] == "family" and family in m["family"]["name"] for m in result["matches"])


def test_a_foreign_class_definition_is_weighed_against_the_medicines_too(library):
    """Narcobarbital (N-methyl propallylonal) is a barbituric acid derivative the US CSA controls as a
    class; its nearest barbiturate is the medicine propallylonal, not a controlled barbiturate."""
    held_out = without(library, "narcobarbital")
    assert match_text(MEDICINES["narcobarbital"], held_out, policy=BEFORE)["verdict"] == "analog"
    result = match_text(MEDICINES["narcobarbital"], held_out, policy=VETO)
    assert result["verdict"] == "no_match"
    assert any("us-csa-barbituric-acid-derivatives" in w and "propallylonal" in w for w in result["warnings"])
    # in the US the class definition itself applies: a legal answer, not an analog claim
    assert (
        match_text(MEDICINES["narcobarbital"], held_out, jurisdiction="US", policy=VETO)["verdict"] == "controlled"
    )


@pytest.mark.parametrize(
    ("smiles", "drug_class"),
    [
        ("CCC1(c2ccc(F)cc2)C(=O)NC(=O)NC1=O", "sedative"),  # 4-fluorophenobarbital: a barbiturate nobody sells yet
        ("CCN(CC)C(=O)C1C=C2c3cccc4c3c(cn4C)CC2N(C)C1", "lysergamide"),  # 1-methyl-LSD (MLD-41)
        ("CCC(=O)n1cc2c3c(cccc31)C1=CC(C(=O)N(CC)CC)CN(C)C1C2", "lysergamide"),  # 1P-LSD
        ("CNC(C)Cc1ccc(F)cc1", "phenethylamine"),  # 4-FMA: pholedrine (4-OH) is as near as metamfetamine
        ("Cc1nnc2n1-c1ccc(I)cc1C(c1ccccc1F)=NC2", "benzodiazepine"),  # 8-iodo analogue of flualprazolam
        ("COC(=O)c1cncn1C(C)c1ccccc1", "sedative"),  # metomidate: etomidate (a medicine) leads its family
    ],
)
def test_a_new_member_of_a_drug_family_is_still_an_analog(library, smiles, drug_class):
    result = match_text(smiles, library, policy=VETO)
    assert result["verdict"] == "analog", result["warnings"]
    assert result["class"] == drug_class


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("pholedrine", "amphetamines"),  # 4-hydroxymetamfetamine: phenolic amphetamines are left out
        ("hydroxyamfetamine", "amphetamines"),  # 4-hydroxyamphetamine, a mydriatic
    ],
)
def test_similarity_to_a_member_of_a_family_that_excludes_the_structure_does_not_count(library, name, family):
    held_out = without(library, name)
    assert match_text(MEDICINES[name], held_out, policy=BEFORE)["verdict"] == "analog"
    result = match_text(MEDICINES[name], held_out)
    assert result["verdict"] == "no_match"
    assert any(w.startswith("not an analog by similarity to") and family in w for w in result["warnings"])


def test_a_neighbour_in_a_high_harm_family_always_counts(library):
    """Lorcainide is no 4-anilidopiperidine (the fentanyl rule leaves it out on purpose), yet it is as near
    alpha-methylfentanyl as a fentanyl that escaped the rule's pattern would be: a miss there costs most."""
    held_out = without(library, "lorcainide")
    result = match_text(MEDICINES["lorcainide"], held_out, policy=VETO)
    assert result["verdict"] == "analog"
    assert result["matches"][0]["kind"] == "similarity"
    assert "fentanyl" in result["matches"][0]["substance"]["name"]


def test_carfentanil_is_an_analog_under_a_list_that_knows_only_fentanyl(tmp_path):
    """With a national list of fentanyl alone, remifentanil is just a medicine and nearer carfentanil than
    fentanyl: a high-harm family is never vetoed by its medicines."""
    national = tmp_path / "list.csv"
    national.write_text("name,smiles,schedule\nfentanyl,CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1,I\n")
    library = ReferenceLibrary.from_file(national, cache_dir=tmp_path / "cache")
    carfentanil = "CCC(=O)N(c1ccccc1)C1(C(=O)OC)CCN(CCc2ccccc2)CC1"
    assert match_text(carfentanil, library, policy=VETO)["verdict"] == "analog"


def test_similarity_to_a_controlled_substance_of_no_family_still_counts(library):
    camfetamine = "CNC1C2CCC(C2)C1c1ccccc1"  # N-methyl homologue of fencamfamin, which no family rule describes
    result = match_text(camfetamine, library, policy=VETO)
    assert result["verdict"] == "analog"
    assert any(m["kind"] == "similarity" and m["substance"]["name"] == "fencamfamin" for m in result["matches"])


def test_a_radiotracer_is_no_analog(library):
    held_out = without(library, "Iofetamine (123I)")
    result = match_text(MEDICINES["Iofetamine (123I)"], held_out)
    assert result["verdict"] == "no_match"
    assert any("iodine-123" in w for w in result["warnings"])
    # the same skeleton with a natural iodine is an amphetamine like any other
    unlabelled = match_text("CC(C)NC(C)Cc1ccc(I)cc1", held_out)
    assert unlabelled["verdict"] == "analog"
    assert unlabelled["class"] == "phenethylamine"


DEXTRO = "CCN1CC[C@@]23CCCC[C@@H]2[C@@H]1Cc1ccc(OC)cc13"
"""(+)-3-methoxy-N-ethylmorphinan: N-ethyl dextromethorphan, in the configuration the 1961 Convention excepts."""
LEVO = "CCN1CC[C@]23CCCC[C@H]2[C@H]1Cc1ccc(OC)cc13"
FLAT = "CCN1CCC23CCCCC2C1Cc1ccc(OC)cc13"


def test_a_dextro_morphinan_is_no_opioid_analog(library):
    """The Convention lists levorphanol and levomethorphan but not dextrorphan and dextromethorphan:
    the (+)-morphinans are no opioids. A new one is no analog, by the morphinan rule or by its
    similarity to levomethorphan (the same fingerprint, stereo aside); its mirror image is, and so is
    the structure drawn without stereo, which may be either."""
    dextro = match_text(DEXTRO, library)
    assert dextro["verdict"] == "no_match", dextro
    assert not any(m["kind"] == "family" for m in dextro["matches"])
    assert any("morphinans" in w and "leaves this structure out on purpose" in w for w in dextro["warnings"])
    for smiles in (LEVO, FLAT):
        result = match_text(smiles, library)
        assert result["verdict"] == "analog" and result["class"] == "opioid", smiles
        assert any(m["kind"] == "family" and "morphinans" in m["family"]["name"] for m in result["matches"])
