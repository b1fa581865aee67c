"""The bundled generic definitions (chem/data/generic/*.toml) and the group vocabulary.

Every definition parses; every example is covered and every counterexample is not, both as
written and after standardization (which is what ews matches); excluded compounds are never
covered; dates are real. Targeted tests pin the clauses most likely to be got wrong.
"""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources

import pytest
from rdkit import Chem

from chem.classes import CLASSES
from chem.generic import GROUPS, GenericDefinition, Substituent, _components, load_definitions
from chem.standardize import standardize_text

DEFINITIONS = {d.id: d for d in load_definitions()}
JURISDICTIONS = {"GB", "DE", "US", "BR", "CA"}


def _documents() -> list[tuple[str, dict]]:
    folder = resources.files("chem").joinpath("data/generic")
    return [
        (item.name, entry)
        for item in sorted(folder.iterdir(), key=lambda p: p.name)
        if item.name.endswith(".toml")
        for entry in tomllib.loads(item.read_text(encoding="utf-8"))["definition"]
    ]


ENTRIES = _documents()


def _cases(field: str) -> list[tuple[str, str, str]]:
    return [(entry["id"], *item.split(" ", 1)) for _, entry in ENTRIES for item in entry.get(field, [])]


def _covered(definition: GenericDefinition, smiles: str) -> tuple[bool, bool]:
    """(covered as written, covered after standardization)."""
    mol = Chem.MolFromSmiles(smiles)
    assert mol is not None, smiles
    std = standardize_text(smiles)
    as_written = definition.covers(mol, Chem.MolToInchiKey(mol).split("-")[0]) is not None
    standardized = definition.covers(std.mol, std.skeleton_key) is not None
    return as_written, standardized


def _covers(definition_id: str, smiles: str) -> bool:
    as_written, standardized = _covered(DEFINITIONS[definition_id], smiles)
    assert as_written == standardized, f"{smiles}: as written {as_written}, standardized {standardized}"
    return standardized


# --- the data -----------------------------------------------------------------------------


def test_every_bundled_definition_parses_with_unique_ids():
    ids = [entry["id"] for _, entry in ENTRIES]
    assert len(ids) == len(set(ids)) == len(DEFINITIONS)
    assert {d.jurisdiction for d in DEFINITIONS.values()} == JURISDICTIONS


@pytest.mark.parametrize("definition", DEFINITIONS.values(), ids=lambda d: d.id)
def test_definition_fields(definition: GenericDefinition):
    assert definition.jurisdiction in JURISDICTIONS
    assert definition.drug_class in CLASSES
    assert definition.instrument and definition.schedule and definition.summary
    assert "https://" in definition.citation
    assert definition.high_harm == (definition.drug_class == "opioid")
    assert len(definition.examples) >= 5
    assert len(definition.counterexamples) >= 4
    assert definition.sites or definition.bridges


@pytest.mark.parametrize(("source", "entry"), ENTRIES, ids=[e["id"] for _, e in ENTRIES])
def test_effective_dates_are_real_dates(source: str, entry: dict):
    effective = entry["effective"]
    assert isinstance(effective, date), f"{source}: effective must be a TOML date, not {effective!r}"
    assert date(1971, 1, 1) <= effective <= date.today()
    assert date.fromisoformat(effective.isoformat()) == effective


@pytest.mark.parametrize(("definition_id", "smiles", "name"), _cases("examples"))
def test_examples_are_covered(definition_id: str, smiles: str, name: str):
    as_written, standardized = _covered(DEFINITIONS[definition_id], smiles)
    assert as_written and standardized, f"{definition_id} should cover {name}"


@pytest.mark.parametrize(("definition_id", "smiles", "name"), _cases("counterexamples"))
def test_counterexamples_are_not_covered(definition_id: str, smiles: str, name: str):
    as_written, standardized = _covered(DEFINITIONS[definition_id], smiles)
    assert not as_written and not standardized, f"{definition_id} should not cover {name}"


@pytest.mark.parametrize(("definition_id", "smiles", "name"), _cases("excluded"))
def test_excluded_compounds_are_not_covered(definition_id: str, smiles: str, name: str):
    definition = DEFINITIONS[definition_id]
    as_written, standardized = _covered(definition, smiles)
    assert not as_written and not standardized, f"{definition_id} covers excluded {name}"
    # also when the caller does not pass the InChIKey skeleton
    assert definition.covers(Chem.MolFromSmiles(smiles)) is None


@pytest.mark.parametrize(("definition_id", "smiles", "name"), _cases("examples") + _cases("counterexamples"))
def test_structures_are_sane(definition_id: str, smiles: str, name: str):
    mol = Chem.MolFromSmiles(smiles)
    assert mol is not None and mol.GetNumAtoms() > 3, name
    assert len(Chem.GetMolFrags(mol)) == 1, f"{name}: one component, the free base"


# --- targeted clauses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smiles", "name"),
    [
        ("CNC(C)C(=O)c1ccc(C)cc1", "mephedrone"),
        ("CCCC(C(=O)c1ccc2OCOc2c1)N1CCCC1", "MDPV"),
        ("CCCC(C(=O)c1ccccc1)N1CCCC1", "alpha-PVP"),
        ("CCNC(C)C(=O)c1ccc(C)cc1", "4-MEC"),
        ("CNC(C)C(=O)c1cc(C)c(C)cc1", "3,4-dimethylmethcathinone"),
        ("CNC(C)C(=O)c1ccc(C(F)(F)F)cc1", "4-trifluoromethylmethcathinone (haloalkyl)"),
        ("CNC(C)C(=O)c1ccc(C)c([N+](=O)[O-])c1", "4-methyl-3-nitromethcathinone (other group alongside alkyl)"),
    ],
)
def test_uk_cathinones_cover(smiles: str, name: str):
    assert _covers("gb-mda-2010-cathinones", smiles), name


@pytest.mark.parametrize(
    ("smiles", "name"),
    [
        ("CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1", "bupropion"),
        ("CCN(CC)C(C)C(=O)c1ccccc1", "diethylpropion"),
        ("CCCC(N1CCCC1)C(=O)c1ccc(C)cc1", "pyrovalerone"),
        ("CNC(C)C(=O)c1ccc(C(=O)O)cc1", "4-carboxymethcathinone"),
        ("CC(N)Cc1ccccc1", "amfetamine"),
        ("CC(N)C(=O)c1ccccc1", "cathinone"),
        ("CNC(C)C(=O)c1ccc(N)cc1", "4-aminomethcathinone (amino without a listed ring group)"),
    ],
)
def test_uk_cathinones_do_not_cover(smiles: str, name: str):
    assert not _covers("gb-mda-2010-cathinones", smiles), name


def test_uk_cathinones_three_position_takes_one_alkyl_group():
    assert _covers("gb-mda-2010-cathinones", "CNC(CC(C)C)C(=O)c1ccccc1")  # isobutyl: one group on C3
    assert not _covers("gb-mda-2010-cathinones", "CNC(C(C)(C)C)C(=O)c1ccccc1")  # C3 with three methyls


def test_uk_cathinones_in_force_from_16_april_2010():
    rule = DEFINITIONS["gb-mda-2010-cathinones"]
    assert not rule.in_force(date(2010, 4, 15))
    assert rule.in_force(date(2010, 4, 16))


def test_uk_ring_system_cathinones_split_from_the_phenyl_clause():
    naphyrone = "CCCC(C(=O)c1ccc2ccccc2c1)N1CCCC1"
    assert _covers("gb-mda-2010-ring-system-cathinones", naphyrone)
    assert not _covers("gb-mda-2010-cathinones", naphyrone)
    assert not _covers("gb-mda-2010-ring-system-cathinones", "CNC(C)C(=O)c1ccc2OCCOc2c1")  # ethylenedioxyphenyl


def test_uk_phenethylamines_need_a_listed_ring_group():
    assert _covers("gb-mda-phenethylamines", "NCCc1cc(OC)c(I)cc1OC")  # 2C-I
    assert not _covers("gb-mda-phenethylamines", "CC(N)Cc1ccc([N+](=O)[O-])cc1")  # nitro alone
    assert _covers("gb-mda-phenethylamines", "CC(N)Cc1cc(OC)c([N+](=O)[O-])cc1OC")  # nitro with methoxy
    assert not _covers("gb-mda-phenethylamines", "CN(C)C(C)Cc1ccc2OCOc2c1")  # N,N-dialkyl: not "N-alkyl"


def test_uk_tryptamines_before_and_after_2015():
    amt = "CC(N)Cc1c[nH]c2ccccc12"
    assert not _covers("gb-mda-tryptamines-1977", amt)
    assert _covers("gb-mda-2015-tryptamines", amt)
    assert DEFINITIONS["gb-mda-2015-tryptamines"].effective == date(2015, 1, 7)


def test_uk_2016_cannabinoid_exceptions_and_amino_acid_heads():
    assert not _covers(
        "gb-mda-2016-jwh018-related", "COc1cc(ccc1Cc1cn(C)c2ccc(NC(=O)OC3CCCC3)cc12)C(=O)NS(=O)(=O)c1ccccc1C"
    )
    # ADB-BUTINACA: tert-leucinamide head, butyl tail on an indazole
    assert _covers("gb-mda-2016-jwh018-related", "CCCCn1nc(C(=O)NC(C(N)=O)C(C)(C)C)c2ccccc21")
    # the amide head must end in an amide or (ester of an) acid
    assert not _covers("gb-mda-2016-jwh018-related", "CCCCn1nc(C(=O)NC(C(C)=O)C(C)(C)C)c2ccccc21")


def test_us_fentanyl_related_substances():
    rule = "us-fentanyl-related-substances"
    assert _covers(rule, "CC=CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")  # crotonyl fentanyl
    assert _covers(rule, "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccsc2)CC1")  # 3-thienyl: any monocycle (A)
    assert _covers(rule, "CCC(=O)N(c1ccccc1)C1CCN(CCC2CCOCC2)CC1")  # tetrahydropyranyl (A)
    assert not _covers(rule, "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")  # fentanyl: Schedule II
    assert not _covers(rule, "c1ccc(CCN2CCC(Nc3ccccc3)CC2)cc1")  # 4-ANPP
    assert not _covers(rule, "COC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1")  # carbamate: not read as acyl
    rule_def = DEFINITIONS[rule]
    assert rule_def.effective == date(2018, 2, 6) and rule_def.schedule == "Schedule I" and rule_def.high_harm


def test_npsg_ergolenes_2021_text_excludes_1v_lsd():
    assert _covers("de-npsg-5-2-ergolenes", "CCCC(=O)n1cc2c3c(cccc31)C1=CC(C(=O)N(CC)CC)CN(C)C1C2")  # 1B-LSD
    assert not _covers("de-npsg-5-2-ergolenes", "CCCCC(=O)n1cc2c3c(cccc31)C1=CC(C(=O)N(CC)CC)CN(C)C1C2")


def test_npsg_medicines_are_outside_the_groups():
    assert not _covers("de-npsg-6-arylcyclohexylamines", "CNC1(c2ccccc2Cl)CCCCC1=O")  # ketamine
    assert not _covers("de-npsg-1-phenethylamines", "CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1")  # bupropion


def test_npsg_benzodiazepine_found_in_the_standardized_tautomer():
    # standardization turns 3-hydroxy lactams into another tautomer; the rule still applies
    oxazepam = "O=C1Nc2ccc(Cl)cc2C(c2ccccc2)=NC1O"
    std = standardize_text(oxazepam)
    assert Chem.MolToSmiles(std.mol) != Chem.MolToSmiles(Chem.MolFromSmiles(oxazepam))
    assert DEFINITIONS["de-npsg-3-benzodiazepines"].covers(std.mol, std.skeleton_key) is not None


def test_npsg_cannabinoid_side_chain_length():
    base = "{}n1cc(C(=O)c2cccc3ccccc23)c2ccccc21"
    assert _covers("de-npsg-2-cannabimimetics", base.format("CCC"))  # propyl: three atoms
    assert _covers("de-npsg-2-cannabimimetics", base.format("CCCCCCC"))  # heptyl: seven
    assert not _covers("de-npsg-2-cannabimimetics", base.format("CC"))
    assert not _covers("de-npsg-2-cannabimimetics", base.format("CCCCCCCC"))
    assert _covers("de-npsg-2-cannabimimetics", base.format("C=CCCC"))  # once unsaturated
    assert not _covers("de-npsg-2-cannabimimetics", base.format("C=CC=CC"))  # twice


def test_definitions_are_matched_per_jurisdiction_and_date():
    by_jurisdiction = {j: [d for d in DEFINITIONS.values() if d.jurisdiction == j] for j in JURISDICTIONS}
    assert all(by_jurisdiction.values())
    assert all(d.in_force(date.today()) for d in DEFINITIONS.values())


# --- the group vocabulary ----------------------------------------------------------------------


def _groups(smiles: str) -> list[Substituent]:
    """The substituents of ``smiles`` around its mapped atoms (``[C:1]`` ...), as the engine sees them."""
    mol = Chem.MolFromSmiles(smiles)
    core = {a.GetIdx() for a in mol.GetAtoms() if a.GetAtomMapNum()}
    groups = []
    for part in _components(mol, set(range(mol.GetNumAtoms())) - core):
        attachments = tuple(
            (i, n.GetIdx(), mol.GetBondBetweenAtoms(i, n.GetIdx()).GetBondType())
            for i in sorted(part)
            for n in mol.GetAtomWithIdx(i).GetNeighbors()
            if n.GetIdx() in core
        )
        groups.append(Substituent(mol, frozenset(part), attachments))
    return groups


def _is(name: str, smiles: str) -> bool:
    (group,) = _groups(smiles)
    return GROUPS[name](group)


@pytest.mark.parametrize(
    ("name", "smiles", "expected"),
    [
        ("alkyl_upto_c6", "[CH3:1]CCCCCC", True),
        ("alkyl_upto_c6", "[CH3:1]CCCCCCC", False),
        ("alkyl_upto_c2", "[CH3:1]CC", True),
        ("alkyl_upto_c2", "[CH3:1]C(C)C", False),
        ("alkenyl", "[CH3:1]CC=C", True),
        ("alkenyl", "[CH3:1]CC#C", False),
        ("alkynyl", "[CH3:1]CC#C", True),
        ("alkynyl", "[CH3:1]CC=C", False),
        ("oxo", "[CH2:1]=O", True),
        ("thioxo", "[CH2:1]=S", True),
        ("haloalkyl_upto_c6", "[CH3:1]C(F)(F)F", True),
        ("cyanoalkyl", "[CH3:1]CCCCC#N", True),
        ("cyanoalkyl", "[CH3:1]CCCC", False),
        ("hydroxyalkyl", "[CH3:1]CCCCCO", True),
        ("hydroxyalkyl", "[CH3:1]CCCOC", False),
        ("acyl", "[NH2:1]C(=O)CC", True),
        ("acyl", "[NH2:1]C=O", True),
        ("acyl", "[NH2:1]C(=O)OC", False),
        ("acyl", "[NH2:1]C(=O)N(C)C", False),
        ("alkylcarbonyl_upto_c4", "[NH2:1]C(=O)CCC", True),
        ("alkylcarbonyl_upto_c4", "[NH2:1]C(=O)CCCC", False),
        ("alkoxycarbonyl", "[CH3:1]C(=O)OCC", True),
        ("acyloxy", "[CH3:1]OC(C)=O", True),
        ("ester", "[CH3:1]C(=O)OC", True),
        ("ester", "[CH3:1]OC(=O)C", True),
        ("ester", "[CH3:1]C(=O)COC", False),
        ("alkoxyalkyl", "[CH3:1]COC", True),
        ("alkoxyalkyl", "[CH3:1]OC", False),
        ("carboxy", "[CH3:1]C(=O)O", True),
        ("carboxy", "[CH3:1]C(=O)OC", False),
        ("aryloxy", "[CH3:1]Oc1ccccc1", True),
        ("cycloalkylmethyl", "[NH2:1]CC1CCCCC1", True),
        ("cycloalkylmethyl", "[NH2:1]CCC1CCCCC1", False),
        ("cycloalkylethyl", "[NH2:1]CCC1CCCCC1", True),
        ("cycloalkylmethyl_upto_c6", "[NH2:1]CC1CCCC1", True),
        ("cycloalkylmethyl_upto_c6", "[NH2:1]CC1CCCCCC1", False),
        ("n_methylpiperidin_2_ylmethyl", "[NH2:1]CC1CCCCN1C", True),
        ("morpholin_4_ylethyl", "[NH2:1]CCN1CCOCC1", True),
        ("tetrahydropyran_4_ylmethyl", "[NH2:1]CC1CCOCC1", True),
        ("benzyl", "[NH2:1]Cc1ccccc1", True),
        ("benzyl", "[NH2:1]Cc1ccc(F)cc1", False),
        ("allyl", "[NH2:1]CC=C", True),
        ("allyl", "[NH2:1]CC=CC", False),
        ("phenylalkyl_c1_4", "[CH3:1]CCCCc1ccccc1", True),
        ("phenylalkyl_c1_4", "[CH3:1]CCCCCc1ccccc1", False),
        ("jwh018_tail", "[NH2:1]CCCCCF", True),
        ("jwh018_tail", "[NH2:1]Cc1ccc(F)cc1", True),
        ("jwh018_tail", "[NH2:1]CCN(C)C", False),
        ("jwh018_link", "[CH3:1]C(=O)NC12CC3CC(CC(C3)C1)C2", True),
        ("jwh018_link", "[CH3:1]C(=O)NC(C(N)=O)C(C)C", True),
        ("jwh018_link", "[CH3:1]C(=O)OC(=O)C", False),
        ("jwh018_link", "[CH3:1]CC(=O)C", False),
        ("npsg_side_chain", "[NH2:1]CCCCC#N", True),
        ("npsg_side_chain", "[NH2:1]CCOC", True),
        ("npsg_side_chain", "[NH2:1]CC1CCCCC1", True),
        ("npsg_side_chain", "[NH2:1]CC(=O)C1CCCCO1", True),
        ("npsg_side_chain", "[NH2:1]CCCCCN", False),
        ("npsg_cannabinoid_bridge", "[CH3:1]C(=O)c1cccc2ccccc12", True),
        ("npsg_cannabinoid_bridge", "[CH3:1]C(=O)CCCCCCCCCCCCCC", False),
    ],
)
def test_group_predicates(name: str, smiles: str, expected: bool):
    assert _is(name, smiles) is expected


@pytest.mark.parametrize(
    ("name", "smiles", "expected"),
    [
        ("uk_phenethylamine_ring", "[c:1]1ccc(C)cc1", True),
        ("uk_phenethylamine_ring", "[c:1]1ccccc1", False),  # a listed group is required
        ("uk_phenethylamine_ring", "[c:1]1ccc2OCOc2c1", True),
        ("uk_phenethylamine_ring", "[c:1]1ccc(C(=O)O)cc1", False),
        ("uk_phenethylamine_ring", "[c:1]1cc(OC)c(C(=O)O)cc1OC", True),
        ("uk_cathinone_phenyl", "[c:1]1ccccc1", True),
        ("uk_cathinone_phenyl", "[c:1]1ccc2ccccc2c1", False),
        ("uk_cathinone_ring_system", "[c:1]1ccc2ccccc2c1", True),
        ("uk_cathinone_ring_system", "[c:1]1ccccc1", False),
        ("uk_cathinone_ring_system", "[c:1]1ccc2OCOc2c1", False),
        ("uk_cathinone_ring_system", "[c:1]1cccs1", True),
        ("heteromonocycle_any", "[c:1]1cccs1", True),
        ("heteromonocycle_any", "[C:1]1CCOCC1", True),
        ("heteromonocycle_any", "[c:1]1ccccc1", False),
        ("aromatic_monocycle_any", "[c:1]1ccc(S(N)(=O)=O)cc1", True),
        ("aromatic_monocycle_any", "[c:1]1ccc2ccccc2c1", False),
        ("non_benzene_monocycle_any", "[C:1]1CCCCC1", True),
        ("non_benzene_monocycle_any", "[c:1]1ccccc1", False),
        ("naphthalene_any", "[c:1]1cccc2ccccc12", True),
        ("naphthalene_any", "[c:1]1ccc2ncccc2c1", False),
        ("benzene_halides", "[c:1]1ccc(Cl)c(Cl)c1", True),
        ("benzene_halides", "[c:1]1ccc(OC)cc1", False),
        ("azacycle_5_7_alkyl", "[NH:1]1CCCCC1C", True),
        ("azacycle_5_7_alkyl", "[NH:1]1CCOCC1", False),
        ("n_ring_small", "[NH:1]1CCOCC1", True),
        ("morpholino_or_pyrrolidino", "[NH:1]1CCCC1", True),
        ("morpholino_or_pyrrolidino", "[NH:1]1CCCCC1", False),
        ("dimethylazetidine", "[NH:1]1C(C)CC1C", True),
        ("methylenedioxy", "[CH2:1]1[CH2:1]OCO1", True),
        ("ethylenedioxy", "[CH2:1]1[CH2:1]OCCO1", True),
        ("alkylene_c4_c5", "[NH:1]1CCCC1", True),
        ("alkylene_c4_c5", "[NH:1]1CCC1", False),
    ],
)
def test_ring_and_bridge_predicates(name: str, smiles: str, expected: bool):
    assert _is(name, smiles) is expected


def test_every_group_name_used_by_the_data_exists():
    for _, entry in ENTRIES:
        names = [g for groups in entry.get("sites", {}).values() for g in groups]
        names += [g for bridge in entry.get("bridges", []) for g in bridge["groups"]]
        assert set(names) <= GROUPS.keys(), entry["id"]


def test_every_group_has_a_docstring_or_is_a_size_bound():
    for name, predicate in GROUPS.items():
        if name in {"halide", "hydroxy", "haloalkoxy", "nitro", "cyano", "aromatic_monocycle", "any"}:
            continue  # the engine's original terse groups
        assert predicate.__doc__, name
