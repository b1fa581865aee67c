"""Decide what a standardized structure is: the match result of ../shared/INTERFACE.md.

The verdict, in order of precedence:

``controlled``
    identical to a substance listed in the jurisdiction and in force on the
    date (exactly, or as an isomer, ester, ether or US positional isomer the
    listing clauses cover),
    or covered by a generic definition of the jurisdiction in force;
``precursor``
    identical to a scheduled precursor chemical;
``known``
    identical to a known substance that is not controlled (a medicine, an
    adulterant), even where it resembles a controlled one, or where only
    another country's law controls it;
``analog``
    structurally related to a controlled substance or a known drug family:
    a family rule, a generic definition of another jurisdiction (or not yet in
    force), identity with a substance controlled elsewhere, or similarity to a
    controlled substance backed by a maximum common substructure;
``no_match``
    none of the above.

A substance placed under control after the as-of date is treated as if it were
not listed at all, so a library restricted in time behaves like the library of
that day.

>>> lib = ReferenceLibrary.from_rows([
...     {"name": "etonitazene", "smiles": "CCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN(CC)CC)cc1",
...      "schedule": "I", "controlled_since": "1964-12-13"}])
>>> isotonitazene = standardize_text("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21")
>>> result = match(isotonitazene, lib, as_of=date(2026, 1, 1))
>>> result.verdict, result.matches[0]["kind"], result.matches[0]["substance"]["name"]
('analog', 'similarity', 'etonitazene')
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator, rdFMCS
from rdkit.DataStructs import ExplicitBitVect, TanimotoSimilarity

from chem import isomers
from chem.errors import StructureError
from chem.generic import GenericDefinition
from chem.library import ReferenceLibrary, Substance, fingerprint
from chem.library import _fingerprinter as _morgan
from chem.screening import screen
from chem.standardize import Standardized, identifiers, standardize_text

VERDICTS = ("controlled", "precursor", "analog", "known", "no_match")
MEDICINES = frozenset({"medicine", "veterinary"})
"""Categories of known substances that speak for the medicines' side of a drug family (a metabolite
of a drug, or a natural product, does not)."""


@dataclass(frozen=True)
class AnalogPolicy:
    """Thresholds of the analog decision, chosen by measurement (bench/tune_analog.py).

    Similarity is the Tanimoto coefficient of Morgan radius-2 fingerprints; the
    MCS score is |MCS| / (|query| + |reference| - |MCS|) over heavy atoms, with
    rings matched only as complete rings.
    """

    similarity: float = 0.50
    """At or above this similarity to a controlled substance, an analog on similarity alone."""
    supported_similarity: float = 0.30
    """Between this and ``similarity``, an analog when the MCS score reaches ``mcs_score``."""
    mcs_score: float = 0.50
    neighbours: int = 5
    """Nearest controlled substances reported as evidence."""
    reported_similarity: float = 0.20
    """Neighbours below this similarity are not reported."""
    mcs_candidates: int = 3
    """How many of the nearest neighbours get an MCS when similarity alone does not decide."""
    mcs_timeout_seconds: float = 0.25
    min_atoms: int = 8
    """Queries, and MCSs, smaller than this many heavy atoms are never analogs by similarity."""
    require_nitrogen: bool = True
    """An MCS with a nitrogen-bearing reference must include a nitrogen (the amine of most drugs)."""
    use_families: bool = True
    known_neighbour_veto: bool = True
    """Similarity alone makes no analog when a known non-controlled substance (a medicine) is at
    least as similar as the nearest controlled one: the structure belongs with the medicines."""
    known_member_veto: bool = False
    """A family rule makes no analog when a known non-controlled member of that family is closer to
    the structure than any controlled member: the structure sits among the family's medicines.
    Never for a high-harm family (fentanyls, nitazenes, synthetic cannabinoids): there a false
    alarm costs a check, a miss a life. Off by default: measured, it saves about 3 of 667
    held-out medicines and loses about 10 of 1,842 NPS of the inventory (docs/identify.md)."""
    known_members_checked: int = 25
    """How many of the nearest known substances are tried as members of the family."""
    foreign_definition_veto: bool = True
    """The same for a generic definition of another jurisdiction: no analog claim when a known
    substance it covers is closer than any controlled one it covers."""
    family_bound_similarity: bool = True
    """Similarity to a controlled substance that a family rule covers does not count when that rule
    excludes the structure on purpose (its exclusion patterns match it: phenolic amphetamines)."""


DEFAULT_POLICY = AnalogPolicy()


@dataclass
class MatchResult:
    name: str | None
    input: str | None
    standardized: Standardized
    verdict: str
    drug_class: str | None
    as_of: date
    jurisdiction: str
    controls: list[dict] = field(default_factory=list)
    matches: list[dict] = field(default_factory=list)
    high_harm: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "input": self.input,
            "standardized": self.standardized.to_dict(),
            "verdict": self.verdict,
            "class": self.drug_class,
            "as_of": self.as_of.isoformat(),
            "jurisdiction": self.jurisdiction,
            "controls": self.controls,
            "matches": self.matches,
            "high_harm": self.high_harm,
            "warnings": self.warnings,
        }


def error_result(name: str | None, text: str | None, error: StructureError) -> dict:
    """The match-result object for a structure that could not be read."""
    return {"name": name, "input": text, "error": error.message, "error_code": error.code}


# --- identity -------------------------------------------------------------------------------


def _names(substance: Substance) -> set[str]:
    return {substance.name.casefold(), *(s.casefold() for s in substance.synonyms)}


@dataclass
class _Identity:
    substance: Substance
    basis: str  # listed | isomer


def _resolve_by_name(
    std: Standardized, library: ReferenceLibrary, name: str | None, warnings: list[str]
) -> Standardized:
    """A structure drawn without stereo, named as a specific listed isomer, is read as that isomer.

    GC-MS does not tell enantiomers apart, so labs often submit flat structures:
    flat 3-methoxy-N-methylmorphinan is racemethorphan (controlled) or
    dextromethorphan (excepted); the name the lab gave decides.
    """
    if not name or std.has_stereo:
        return std
    wanted = name.casefold()
    for substance in library.by_skeleton.get(std.skeleton_key, []):
        if substance.has_stereo and wanted in _names(substance) and substance.standardized is not None:
            warnings.append(f"structure has no stereochemistry; read as {substance.name} from the name given")
            return substance.standardized
    return std


def _identities(std: Standardized, library: ReferenceLibrary, warnings: list[str]) -> list[_Identity]:
    key = std.inchikey
    related = library.by_skeleton.get(std.skeleton_key, [])
    if not related:
        return []
    exact = [s for s in related if s.standardized is not None and s.standardized.inchikey == key]
    # An isomer a schedule specifically excepts (dextromethorphan) is outside
    # every listing of that schedule, not just the one its footnote hangs on.
    excepted_schedules = {
        (c.instrument, c.schedule)
        for s in exact
        if s.excepted_from and s.excepted_from in library.by_id
        for c in library.by_id[s.excepted_from].controls
    }
    found = [_Identity(s, "listed") for s in exact if s.status != "excepted"]
    query_has_stereo = std.has_stereo
    # flat amfetamine is amfetamine: no need to list every listed enantiomer too; but a medicine listed
    # nowhere, drawn with its stereo (butorphanol: listed flat by the US CSA, a DrugCentral medicine
    # with stereo), still says the structure is that medicine
    medicines_only = not query_has_stereo and any(s.status in ("controlled", "precursor") for s in exact)
    for substance in related:
        if substance in exact or substance.status == "excepted":
            continue
        if medicines_only and substance.status != "known":
            continue
        if any((c.instrument, c.schedule) in excepted_schedules for c in substance.controls):
            continue
        clauses = substance.clauses()
        if substance.status == "known":
            covered = not query_has_stereo or not substance.has_stereo
        else:
            covered = (
                "isomers" in clauses
                or "stereoisomers" in clauses
                or not substance.has_stereo
                or not query_has_stereo
            )
        if covered:
            found.append(_Identity(substance, "isomer"))
            if not query_has_stereo and substance.has_stereo:
                warnings.append(f"structure has no stereochemistry; {substance.name} is a specific isomer")
    return found


# --- esters and ethers (1961 Convention, Schedule I) ----------------------------------------

_ESTER = Chem.MolFromSmarts("[#6:1][OX2:2]-!@[CX3:3](=O)[#6,#1]")
_ETHER = Chem.MolFromSmarts("[#6:1][OX2:2]-!@[CX4;!$(C(O)O):3]")


def _cleaved(mol: Chem.Mol, pattern: Chem.Mol) -> Iterable[Chem.Mol]:
    """Each fragment left when one O-C bond of the pattern is cut (as OH / COOH), stereo kept."""
    seen: set[tuple[int, int]] = set()
    for hit in mol.GetSubstructMatches(pattern, maxMatches=32):
        oxygen, carbon = hit[1], hit[2]
        if (oxygen, carbon) in seen:
            continue
        seen.add((oxygen, carbon))
        editable = Chem.RWMol(mol)
        editable.RemoveBond(oxygen, carbon)
        if pattern is _ESTER:  # the acid side keeps a hydroxyl: R-C(=O)OH
            new_oxygen = editable.AddAtom(Chem.Atom(8))
            editable.AddBond(carbon, new_oxygen, Chem.BondType.SINGLE)
        for atom in (oxygen, carbon):
            editable.GetAtomWithIdx(atom).SetNoImplicit(False)
            editable.GetAtomWithIdx(atom).SetNumExplicitHs(0)
        try:
            Chem.SanitizeMol(editable)
        except Chem.MolSanitizeException:
            continue
        # The parent is the side that keeps the oxygen: an ester or ether of X is
        # X-O-R. For esters the acid side counts too (R-C(=O)-O-X of an acid drug).
        mapping: list[int] = []
        fragments = Chem.GetMolFrags(editable.GetMol(), asMols=True, frags=mapping)
        for number, fragment in enumerate(fragments):
            keeps_oxygen = mapping[oxygen] == number
            acid_side = pattern is _ESTER and mapping[carbon] == number
            if (keeps_oxygen or acid_side) and fragment.GetNumHeavyAtoms() >= 6:
                yield fragment


def _ester_ether_parents(
    std: Standardized, library: ReferenceLibrary, jurisdiction: str, as_of: date, molecule_screen=None
):
    """Listed substances of which ``std`` is an ester or ether, where the listing's clauses say so."""
    if not any(map(std.mol.HasSubstructMatch, (_ESTER, _ETHER))):
        return  # nothing to cleave
    if not library.may_be_ester_or_ether(molecule_screen):
        return  # no listed parent occurs in it (``molecule_screen``: the screen of ``std``)
    for kind, pattern in (("ester", _ESTER), ("ether", _ETHER)):
        clause = kind + "s"
        # one or two cleavages: heroin-like diesters and di-ethers of a listed diol
        once = list(_cleaved(std.mol, pattern))
        twice = [f for first in once[:16] for f in _cleaved(first, pattern)]
        for fragment in once + twice:
            if Chem.MolToSmiles(fragment, isomericSmiles=False) not in library.by_flat_smiles:
                continue  # cheap screen before the full identity check
            # The parent goes through the same identity rules (stereo, exceptions):
            # dextromethorphan is the methyl ether of dextrorphan, which is excepted.
            parent = identifiers(fragment)
            for identity in _identities(parent, library, []):
                controls = [
                    c for c in identity.substance.controls_in_force(jurisdiction, as_of) if clause in c.clauses
                ]
                if controls and identity.substance.status == "controlled":
                    yield kind, identity.substance, controls


# --- amine N-oxides --------------------------------------------------------------------------

_AMINE_OXIDE = Chem.MolFromSmarts("[NX4+;!a;H0;!$(N=*)](-[#6])(-[#6])(-[#6])-[OX1-]")


def reduced_n_oxide(mol: Chem.Mol) -> Chem.Mol | None:
    """The tertiary amine of an amine N-oxide (the oxygen removed), or None when there is none.

    An amine N-oxide is a metabolite and a prodrug of its amine, to which the body reduces it
    (DMT N-oxide, morphine N-oxide): the amine is evidence for what the N-oxide is.
    Aromatic and imine N-oxides (chlordiazepoxide, minoxidil) are drugs of their own and stay.

    >>> Chem.MolToSmiles(reduced_n_oxide(Chem.MolFromSmiles("C[N+](C)([O-])CCc1c[nH]c2ccccc12")))
    'CN(C)CCc1c[nH]c2ccccc12'
    >>> reduced_n_oxide(Chem.MolFromSmiles("CN(C)CCc1c[nH]c2ccccc12")) is None
    True
    """
    hits = mol.GetSubstructMatches(_AMINE_OXIDE)
    if not hits:
        return None
    editable = Chem.RWMol(mol)
    for hit in hits:
        editable.GetAtomWithIdx(hit[0]).SetFormalCharge(0)
    for oxygen in sorted((hit[-1] for hit in hits), reverse=True):
        editable.RemoveAtom(oxygen)
    try:
        Chem.SanitizeMol(editable)
    except Chem.MolSanitizeException:
        return None
    return editable.GetMol()


def _n_oxide_evidence(
    std: Standardized, library: ReferenceLibrary, jurisdiction: str, as_of: date, use_families: bool
) -> tuple[list[dict], str | None, bool]:
    """Match entries for the amine of an amine N-oxide: a controlled substance it is, or a family it
    belongs to; with the drug class and the high-harm flag they carry."""
    reduced = reduced_n_oxide(std.mol)
    if reduced is None:
        return [], None, False
    parent = identifiers(reduced)
    oxygens = {hit[-1] for hit in std.mol.GetSubstructMatches(_AMINE_OXIDE)}
    kept = [atom for atom in range(std.mol.GetNumAtoms()) if atom not in oxygens]  # the amine's atoms
    query_fp = fingerprint(std.mol)
    entries: list[dict] = []
    drug_class: str | None = None
    high_harm = False
    note = f"an N-oxide of {parent.smiles}: the body reduces amine N-oxides to the amine"
    for identity in _identities(parent, library, []):
        substance = identity.substance
        in_force = [c for c in substance.controls_in_force(jurisdiction, as_of) if c.status == "controlled"]
        if substance.status != "controlled" or not in_force:
            continue
        entries.append(
            {
                "kind": "similarity",
                "substance": substance.to_dict(),
                "score": round(TanimotoSimilarity(query_fp, fingerprint(substance.standardized.mol)), 3),  # type: ignore[union-attr]
                "shared_atoms": kept,
                "basis": "n_oxide",
                "note": f"{note}, which is {substance.name}",
            }
        )
        drug_class = drug_class or substance.drug_class
    if use_families:
        parent_screen = screen(parent.mol)
        for rule in library.possible_rules(parent_screen)[0]:
            atoms = rule.matching_atoms(parent.mol, parent_screen)
            if atoms is None:
                continue
            entries.append(
                {
                    "kind": "family",
                    "substance": {"id": rule.id, "name": rule.name},
                    "score": 1.0,
                    "family": {"id": rule.id, "name": rule.name, "class": rule.drug_class},
                    "shared_atoms": kept,
                    "basis": "n_oxide",
                    "note": f"{note}, one of the {rule.name}",
                }
            )
            drug_class = drug_class or rule.drug_class
            high_harm = high_harm or rule.high_harm
    return entries, drug_class, high_harm


# --- positional isomers (US hallucinogens, 21 CFR 1300.01) ----------------------------------


def _positional_isomer_parents(std: Standardized, library: ReferenceLibrary, jurisdiction: str, as_of: date):
    """Listed substances of which ``std`` is a positional isomer, where a listing in force says so."""
    candidates = library.positional_by_formula.get(std.formula)
    if not candidates:
        return
    query = isomers.signature(std.mol)
    if query is None:
        return
    for substance in candidates:
        controls = [
            c
            for c in substance.controls_in_force(jurisdiction, as_of)
            if isomers.CLAUSE in c.clauses and c.status == "controlled"
        ]
        if controls and substance.standardized and isomers.signature_of(substance.standardized.smiles) == query:
            yield substance, controls


# --- similarity -----------------------------------------------------------------------------


class _Deadline(rdFMCS.MCSProgress):
    """Stops a search after ``seconds`` of this thread's CPU time, not of the clock: on a busy
    machine a search gets the same work done before it stops, so the answer does not depend on load."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.thread_time() + seconds

    def __call__(self, stat, params) -> bool:  # noqa: ARG002 - RDKit's signature
        return time.thread_time() < self.deadline


# RDKit's own bound is wall-clock, in whole seconds: a last resort far above the CPU deadline, so it
# only ends a search that a starved process could not finish (a hostile structure stays bounded).
WALL_CLOCK_FACTOR = 20


def mcs_atoms(query: Chem.Mol, reference: Chem.Mol, timeout: float = 0.25) -> tuple[int, ...]:
    """Atoms of ``query`` in its maximum common substructure with ``reference`` (complete rings only)."""
    params = rdFMCS.MCSParameters()
    params.AtomTyper = rdFMCS.AtomCompare.CompareElements
    params.BondTyper = rdFMCS.BondCompare.CompareOrder
    params.BondCompareParameters.RingMatchesRingOnly = True
    params.BondCompareParameters.CompleteRingsOnly = True
    params.Timeout = max(1, int(timeout * WALL_CLOCK_FACTOR + 0.999))  # type: ignore[assignment]  # RDKit's stubs mistype this property
    params.ProgressCallback = _Deadline(timeout)
    result = rdFMCS.FindMCS([query, reference], params)
    if not result.numAtoms:
        return ()
    return tuple(query.GetSubstructMatch(result.queryMol))


def mcs_score(query: Chem.Mol, reference: Chem.Mol, shared: int) -> float:
    a, b = query.GetNumHeavyAtoms(), reference.GetNumHeavyAtoms()
    return shared / (a + b - shared) if shared else 0.0


def environments(query: Chem.Mol) -> dict[int, list[tuple[int, int]]]:
    """Morgan bit -> (centre atom, radius) of the query's environments; computed once per query."""
    info = rdFingerprintGenerator.AdditionalOutput()
    info.AllocateBitInfoMap()
    _morgan.GetFingerprint(query, additionalOutput=info)
    return dict(info.GetBitInfoMap())


def shared_by_fingerprint(
    query_environments: dict[int, list[tuple[int, int]]],
    reference_fp=None,
    reference_bits: frozenset[int] | None = None,
) -> tuple[int, ...]:
    """Atoms of the query at the centre of a radius 1-2 environment the reference also has.

    A cheap stand-in for the MCS when the decision does not need one. The reference is given by its
    fingerprint or, cheaper, by the set of its on bits (:meth:`ReferenceLibrary.on_bits`).
    """
    atoms: set[int] = set()
    if reference_bits is None:
        reference_bits = frozenset(reference_fp.GetOnBits())  # one call, not one a bit
    for bit, found in query_environments.items():
        if bit in reference_bits:
            atoms.update(atom for atom, radius in found if radius >= 1)
    return tuple(sorted(atoms))


@dataclass(frozen=True)
class NeighbourEvidence:
    """How a query relates to one controlled substance: the facts the analog decision weighs."""

    similarity: float
    query_atoms: int
    reference_atoms: int
    shared_atoms: tuple[int, ...]
    mcs: bool  # shared_atoms come from an MCS (else from fingerprint environments)
    shares_nitrogen: bool
    reference_has_nitrogen: bool

    @property
    def mcs_score(self) -> float:
        if not self.mcs or not self.shared_atoms:
            return 0.0
        shared = len(self.shared_atoms)
        return shared / (self.query_atoms + self.reference_atoms - shared)


_NITROGEN = Chem.MolFromSmarts("[#7]")


def _has_nitrogen(mol: Chem.Mol, atoms: Iterable[int] | None = None) -> bool:
    if atoms is None:
        return mol.HasSubstructMatch(_NITROGEN)  # one call, not one an atom
    return any(mol.GetAtomWithIdx(i).GetAtomicNum() == 7 for i in atoms)


def neighbour_evidence(
    query: Chem.Mol,
    reference: Chem.Mol,
    similarity: float,
    policy: AnalogPolicy,
    with_mcs: bool,
    query_environments: dict[int, list[tuple[int, int]]] | None = None,
    reference_fp=None,
    reference_bits: frozenset[int] | None = None,
    reference_has_nitrogen: bool | None = None,
) -> NeighbourEvidence:
    """``reference_bits`` and ``reference_has_nitrogen``, when the caller keeps them per reference
    (the library does), spare recomputing them for every query."""
    use_mcs = with_mcs and policy.supported_similarity <= similarity < policy.similarity  # the grey zone only
    if use_mcs:
        shared = mcs_atoms(query, reference, policy.mcs_timeout_seconds)
    else:
        shared = shared_by_fingerprint(
            query_environments if query_environments is not None else environments(query),
            reference_fp if reference_fp is not None or reference_bits is not None else fingerprint(reference),
            reference_bits,
        )
    return NeighbourEvidence(
        similarity=similarity,
        query_atoms=query.GetNumHeavyAtoms(),
        reference_atoms=reference.GetNumHeavyAtoms(),
        shared_atoms=tuple(sorted(shared)),
        mcs=use_mcs,
        shares_nitrogen=_has_nitrogen(query, shared),
        reference_has_nitrogen=(
            _has_nitrogen(reference) if reference_has_nitrogen is None else reference_has_nitrogen
        ),
    )


def family_bound(
    query: Chem.Mol,
    neighbour: Substance,
    query_families: set[str],
    library: ReferenceLibrary,
    policy: AnalogPolicy,
) -> frozenset[str]:
    """The families of a controlled neighbour whose rules exclude the query on purpose (else empty).

    A rule that merely does not describe the query says nothing (the market outruns the
    rules: that is what similarity is for); one whose exclusion patterns match it does.
    A neighbour of a high-harm family (fentanyls, nitazenes) always counts.
    """
    if not (policy.family_bound_similarity and policy.use_families):
        return frozenset()
    families = library.families_of(neighbour)
    if families & query_families:
        return frozenset()
    rules = [r for r in library.families if r.id in families]
    if any(r.high_harm for r in rules):
        return frozenset()
    return frozenset(r.id for r in rules if r.excludes(query))


def _counted(evidence: list[NeighbourEvidence], counted: list[bool]) -> list[NeighbourEvidence]:
    return [found for found, count in zip(evidence, counted, strict=False) if count]


def analog_by_similarity(evidence: Iterable[NeighbourEvidence], policy: AnalogPolicy) -> bool:
    """Similarity alone when high; otherwise a large enough MCS that keeps the reference's nitrogen.

    Small molecules (propionic acid next to GHB) are never analogs by similarity:
    a handful of shared atoms says nothing.
    """
    for found in evidence:
        if found.query_atoms < policy.min_atoms:
            return False
        if found.similarity >= policy.similarity:
            return True
        if (
            found.mcs
            and found.similarity >= policy.supported_similarity
            and len(found.shared_atoms) >= policy.min_atoms
            and found.mcs_score >= policy.mcs_score
            and (found.shares_nitrogen or not found.reference_has_nitrogen or not policy.require_nitrogen)
        ):
            return True
    return False


def _neighbours(
    std: Standardized, library: ReferenceLibrary, as_of: date, policy: AnalogPolicy, jurisdiction: str
) -> list[tuple[float, Substance]]:
    """The controlled substances nearest to ``std``: those under the UN conventions or this jurisdiction's law.

    A medicine that only another country controls (an anabolic steroid, a Brazilian C1
    antidepressant) is no reference for analogs here.
    """
    if not library.controlled:
        return []
    in_force = library.controlled_in_force(jurisdiction, as_of)
    ranked = sorted(
        library.similar_controlled(fingerprint(std.mol), policy.reported_similarity, in_force),
        key=lambda pair: (-pair[0], pair[1].name),
    )
    unique: list[tuple[float, Substance]] = []
    seen: set[str] = set()
    for score, substance in ranked:
        if substance.id not in seen and substance.standardized.inchikey != std.inchikey:  # type: ignore[union-attr]
            seen.add(substance.id)
            unique.append((score, substance))
        if len(unique) == policy.neighbours:
            break
    return unique


RADIONUCLIDES = {
    (6, 11): "carbon-11",
    (7, 13): "nitrogen-13",
    (8, 15): "oxygen-15",
    (9, 18): "fluorine-18",
    (35, 76): "bromine-76",
    (35, 77): "bromine-77",
    (53, 123): "iodine-123",
    (53, 124): "iodine-124",
    (53, 125): "iodine-125",
    (53, 131): "iodine-131",
}
"""Radionuclides of diagnostic tracers (PET and SPECT ligands such as iofetamine and ioflupane)."""


def radiolabel(mol: Chem.Mol) -> str | None:
    """The radionuclide a structure is labelled with, if any: a tracer is a medicine, never a market drug.

    >>> radiolabel(Chem.MolFromSmiles("CC(C)NC(C)Cc1ccc([123I])cc1"))  # iofetamine
    'iodine-123'
    >>> radiolabel(Chem.MolFromSmiles("CC(C)NC(C)Cc1ccc(I)cc1")) is None
    True
    """
    for atom in mol.GetAtoms():
        nuclide = RADIONUCLIDES.get((atom.GetAtomicNum(), atom.GetIsotope()))
        if nuclide:
            return nuclide
    return None


# --- medicines among the families ------------------------------------------------------------


def _controlled_here(substance: Substance, jurisdiction: str, as_of: date) -> bool:
    return any(
        c.status == "controlled" and c.applies_in(jurisdiction) and c.in_force_anywhere(as_of)
        for c in substance.controls
    )


class _Nearest:
    """The controlled substances (here, on the date) and the known medicines of the library, nearest
    first to one query; ranked when first asked for, once per match."""

    def __init__(
        self,
        std: Standardized,
        library: ReferenceLibrary,
        jurisdiction: str,
        as_of: date,
        medicines: int,
    ) -> None:
        self.std, self.library, self.jurisdiction, self.as_of = std, library, jurisdiction, as_of
        self.medicines_wanted = medicines

    @cached_property
    def query_fp(self) -> ExplicitBitVect:
        return fingerprint(self.std.mol)

    @cached_property
    def _controlled_scores(self) -> list[float]:
        return self.library.controlled_index.similarities(self.query_fp).tolist()

    @cached_property
    def _controlled_order(self) -> list[int]:
        scores = self._controlled_scores
        return sorted(range(len(scores)), key=scores.__getitem__, reverse=True)  # stable: ties in library order

    def controlled(self) -> Iterator[tuple[float, Substance]]:
        """Controlled substances here on the date, nearest first (the query's own structure left out)."""
        scores, controlled = self._controlled_scores, self.library.controlled
        for index in self._controlled_order:
            substance = controlled[index]
            std = substance.standardized
            own = std is None or std.inchikey == self.std.inchikey
            if not own and _controlled_here(substance, self.jurisdiction, self.as_of):
                yield scores[index], substance

    @cached_property
    def _known_scores(self) -> list[float]:
        return self.library.known_fingerprint_index.similarities(self.query_fp).tolist()

    def medicines_above(self, floor: float) -> list[tuple[float, Substance]]:
        """Of the ``medicines_wanted`` known medicines nearest the query, those more similar than ``floor``."""
        known = self.library.known_index[0]
        scores = self._known_scores
        nearer = sorted(
            (i for i, score in enumerate(scores) if score > floor), key=scores.__getitem__, reverse=True
        )
        medicines = ((scores[i], known[i]) for i in nearer if known[i].category in MEDICINES)
        return list(itertools.islice(medicines, self.medicines_wanted))


def among_medicines(what: str, key: str, covers: Callable[[Chem.Mol], bool], nearest: _Nearest) -> str | None:
    """Why evidence from a family rule or a foreign generic definition (``what``, identified by
    ``key``, covering the structures ``covers`` accepts) is no analog claim; None when it is one.

    It is none when a known non-controlled medicine that the rule covers is closer to the
    structure than every controlled substance it covers: the structure sits among the
    medicines of that family, not among its drugs. The medicines tried are the
    ``policy.known_members_checked`` nearest. A rule that covers no controlled substance here
    speaks for itself: it was written for its market, not for its medicines.
    """
    library = nearest.library
    found = next(((score, s) for score, s in nearest.controlled() if library.covered(key, s, covers)), None)
    if found is None:
        return None
    controlled_score, controlled = found
    for score, substance in nearest.medicines_above(controlled_score):  # at equal similarity the drugs win
        if library.covered(key, substance, covers):
            return (
                f"not an analog by {what}: the known medicine {substance.name} ({score:.2f}) is closer "
                f"than any controlled substance it covers ({controlled.name}, {controlled_score:.2f})"
            )
    return None


def _definition_covers(definition: GenericDefinition) -> Callable[[Chem.Mol], bool]:
    def covers(mol: Chem.Mol) -> bool:
        return definition.covers(mol, tautomers=False) is not None

    return covers


# --- the decision ---------------------------------------------------------------------------


def _control_dicts(substance: Substance, controls, jurisdiction: str, basis: str) -> list[dict]:
    return [c.to_dict(jurisdiction, basis, substance) for c in controls]


def match(
    std: Standardized,
    library: ReferenceLibrary,
    *,
    as_of: date | None = None,
    jurisdiction: str = "UN",
    name: str | None = None,
    text: str | None = None,
    policy: AnalogPolicy = DEFAULT_POLICY,
) -> MatchResult:
    """The match result for one standardized structure."""
    as_of = as_of or date.today()
    jurisdiction = jurisdiction.upper()
    warnings: list[str] = []
    controls: list[dict] = []
    matches: list[dict] = []
    drug_class: str | None = None
    high_harm = False

    # Substances listed only after the as-of date do not exist yet for this question.
    def listed_by(substance: Substance) -> bool:
        return (
            substance.status in ("known", "excepted")
            or bool(substance.category)  # a known medicine is known whatever its listings say
            or any(c.in_force_anywhere(as_of) for c in substance.controls)
        )

    query = _resolve_by_name(std, library, name, warnings)
    molecule_screen = screen(std.mol)  # one pattern fingerprint screens every rule and definition below
    identities = [i for i in _identities(query, library, warnings) if listed_by(i.substance)]
    controlled_here = precursor_here = known_here = False
    elsewhere: list[Substance] = []
    listed_classes: list[str | None] = []  # of the identities listed here: the listing's class comes first
    for identity in identities:
        substance = identity.substance
        entry = {
            "kind": "identity",
            "substance": substance.to_dict(),
            "score": 1.0,
            "status": substance.status,
            "basis": identity.basis,
        }
        matches.append(entry)
        in_force = substance.controls_in_force(jurisdiction, as_of)
        controlling = [c for c in in_force if c.status == "controlled"]
        precursor_listings = [c for c in in_force if c.status == "precursor"]
        if controlling:
            controlled_here = True
            controls += _control_dicts(substance, controlling, jurisdiction, identity.basis)
            listed_classes.append(substance.drug_class)
        elif precursor_listings:
            precursor_here = True
            controls += _control_dicts(substance, precursor_listings, jurisdiction, "listed")
        elif substance.status == "known" or substance.category:
            # a medicine controlled only by other countries' laws is, here, a known medicine
            known_here = True
        elif substance.controls:
            elsewhere.append(substance)

    if not controlled_here:
        seen_parents: set[tuple[str, str]] = set()
        query_screen = molecule_screen if query is std else None
        for kind, substance, in_force in _ester_ether_parents(query, library, jurisdiction, as_of, query_screen):
            if (kind, substance.id) in seen_parents:
                continue
            seen_parents.add((kind, substance.id))
            controlled_here = True
            controls += _control_dicts(substance, in_force, jurisdiction, kind)
            matches.append(
                {
                    "kind": "identity",
                    "substance": substance.to_dict(),
                    "score": 1.0,
                    "status": substance.status,
                    "basis": kind,
                }
            )
            listed_classes.append(substance.drug_class)

    if not (controlled_here or identities):
        for substance, in_force in _positional_isomer_parents(query, library, jurisdiction, as_of):
            controlled_here = True
            controls += _control_dicts(substance, in_force, jurisdiction, "positional_isomer")
            matches.append(
                {
                    "kind": "identity",
                    "substance": substance.to_dict(),
                    "score": 1.0,
                    "status": substance.status,
                    "basis": "positional_isomer",
                }
            )
            listed_classes.append(substance.drug_class)
    drug_class = next((c for c in [*listed_classes, *(i.substance.drug_class for i in identities)] if c), None)

    nearest = _Nearest(std, library, jurisdiction, as_of, policy.known_members_checked)
    generic_elsewhere = False
    foreign: list[GenericDefinition] = []  # definitions of other jurisdictions (or not yet in force) covering it
    generic_class: str | None = None
    decided_by_identity = controlled_here or precursor_here or known_here
    listed_here = controlled_here  # by a listing of the substance itself, of its ester, ether or isomer
    medicine = any(i.substance.category == "medicine" for i in identities)
    possible_families, possible_cores = library.possible_rules(molecule_screen)
    for definition, core_possible in zip(library.definitions, possible_cores, strict=True):
        here = definition.jurisdiction == jurisdiction
        if not here and (decided_by_identity or not core_possible):
            continue  # another country's law is evidence only where identity has not decided and its core can occur
        # the legal answer tries every tautomer; evidence from elsewhere the drawn form only
        atoms = definition.covers(std.mol, std.skeleton_key, tautomers=here, molecule_screen=molecule_screen)
        if atoms is None:
            continue
        applies = here and definition.in_force(as_of) and not (definition.exempts_medicines and medicine)
        matches.append(
            {
                "kind": "generic",
                "substance": {"id": definition.id, "name": definition.summary.split(".")[0] or definition.id},
                "score": 1.0,
                "definition": {
                    "id": definition.id,
                    "jurisdiction": definition.jurisdiction,
                    "instrument": definition.instrument,
                    "schedule": definition.schedule,
                    "effective": definition.effective.isoformat(),
                    "citation": definition.citation,
                    "in_force": applies,
                },
                "shared_atoms": sorted(atoms),
            }
        )
        high_harm = high_harm or definition.high_harm
        if applies:
            controlled_here = True
            controls.append(
                {
                    "jurisdiction": definition.jurisdiction,
                    "instrument": definition.instrument,
                    "schedule": definition.schedule,
                    "controlled_since": definition.effective.isoformat(),
                    "basis": "generic",
                    "definition": definition.id,
                    "citation": definition.citation,
                }
            )
        elif definition.in_force(as_of):
            foreign.append(definition)
        generic_class = generic_class or definition.drug_class
    # A verdict that is the library's word on this very substance (listed here, a precursor, a known
    # substance) takes the class of its rows only: a family rule's class is evidence for analogs, and
    # anandamide, an endocannabinoid in a cannabinoid family, is no synthetic cannabinoid.
    own_class_only = listed_here or (decided_by_identity and not controlled_here)
    family_hits = []
    query_families: set[str] = set()
    if policy.use_families:
        found_families = []
        for rule in possible_families:
            atoms = rule.matching_atoms(std.mol, molecule_screen)
            if atoms is not None:
                found_families.append((rule, atoms))
                high_harm = high_harm or rule.high_harm
        # The most specific family first: the one whose pattern explains most atoms
        # (a cathinone is also a phenethylamine; its class is cathinone).
        found_families.sort(key=lambda pair: -len(pair[1]))
        for rule, atoms in found_families:
            query_families.add(rule.id)
            why_not = (
                among_medicines(f"the family {rule.name}", f"family:{rule.id}", rule.matches, nearest)
                if policy.known_member_veto
                and not (rule.high_harm or decided_by_identity or controlled_here or elsewhere)
                else None
            )
            if why_not:
                warnings.append(why_not)
            else:
                family_hits.append(rule)
            matches.append(
                {
                    "kind": "family",
                    "substance": {"id": rule.id, "name": rule.name},
                    "score": 1.0,
                    "family": {"id": rule.id, "name": rule.name, "class": rule.drug_class},
                    "shared_atoms": sorted(atoms),
                }
            )
        if family_hits and not own_class_only:
            drug_class = drug_class or family_hits[0].drug_class
    # an amine N-oxide is weighed by its amine when nothing above has placed it
    oxide_evidence: list[dict] = []
    if not (controlled_here or precursor_here or known_here or elsewhere or family_hits):
        oxide_evidence, oxide_class, oxide_harm = _n_oxide_evidence(
            std, library, jurisdiction, as_of, policy.use_families
        )
        matches += oxide_evidence
        drug_class = drug_class or oxide_class
        high_harm = high_harm or oxide_harm
    # a foreign definition needs weighing against the medicines only when no family has decided
    if (
        foreign
        and policy.foreign_definition_veto
        and policy.known_member_veto
        and not (decided_by_identity or controlled_here or elsewhere or family_hits)
    ):
        for definition in foreign:
            if definition.high_harm:
                generic_elsewhere = True
                break
            what = f"the {definition.jurisdiction} definition {definition.id}"
            why_not = among_medicines(what, f"definition:{definition.id}", _definition_covers(definition), nearest)
            if why_not:
                warnings.append(why_not)
            else:
                generic_elsewhere = True
                break
    else:
        generic_elsewhere = bool(foreign)

    if not own_class_only:
        drug_class = drug_class or generic_class  # a legal group is a coarser class than a chemical family

    # Similarity evidence is always reported; the MCS is paid for only when
    # nothing above has decided (it is the expensive step).
    undecided = not (
        controlled_here
        or precursor_here
        or known_here
        or elsewhere
        or generic_elsewhere
        or family_hits
        or oxide_evidence
    )
    neighbours = _neighbours(std, library, as_of, policy, jurisdiction)
    evidence: list[NeighbourEvidence] = []
    # a controlled neighbour in a family the structure is not in is no evidence (see AnalogPolicy)
    counted: list[bool] = []
    query_environments = environments(std.mol) if neighbours else {}
    for rank, (score, substance) in enumerate(neighbours):
        bound = family_bound(std.mol, substance, query_families, library, policy) if undecided else frozenset()
        counted.append(not bound)
        if bound and score >= policy.supported_similarity:
            names = ", ".join(sorted(r.name for r in library.families if r.id in bound))
            warnings.append(
                f"not an analog by similarity to {substance.name} ({score:.2f}): it is one of the {names}, "
                "whose rule leaves this structure out on purpose"
            )
        # an MCS only while the decision is still open: stop paying once it is made
        open_question = (
            undecided
            and not bound
            and rank < policy.mcs_candidates
            and not analog_by_similarity(_counted(evidence, counted), policy)
        )
        evidence.append(
            neighbour_evidence(
                std.mol,
                substance.standardized.mol,  # type: ignore[union-attr]
                score,
                policy,
                with_mcs=open_question,
                query_environments=query_environments,
                reference_bits=library.on_bits(substance),
                reference_has_nitrogen=library.has_nitrogen(substance),
            )
        )
    # an N-oxide's entry through its amine says more than a plain similarity to the same substance
    through_amine = {e["substance"]["id"] for e in oxide_evidence if e["kind"] == "similarity"}
    for (score, substance), found in zip(neighbours, evidence, strict=True):
        if substance.id in through_amine:
            continue
        entry = {"kind": "similarity", "substance": substance.to_dict(), "score": round(score, 3)}
        entry["shared_atoms"] = list(found.shared_atoms)
        if found.mcs:
            entry["mcs_score"] = round(found.mcs_score, 3)
        matches.append(entry)
    similar_enough = analog_by_similarity(_counted(evidence, counted), policy)
    decided = controlled_here or precursor_here or known_here  # by identity: similarity changes nothing
    if (
        similar_enough
        and not decided
        and policy.known_neighbour_veto
        and not (elsewhere or generic_elsewhere or family_hits)
    ):
        known_score, known = library.nearest_known(fingerprint(std.mol))
        if known is not None and known_score >= neighbours[0][0]:
            similar_enough = False
            warnings.append(
                f"not an analog by similarity: the known substance {known.name} ({known_score:.2f}) "
                f"is at least as similar as any controlled one ({neighbours[0][0]:.2f})"
            )
    nearest_class = next(
        (s.drug_class for score, s in neighbours if s.drug_class and score >= policy.supported_similarity), None
    )

    if controlled_here:
        verdict = "controlled"
    elif precursor_here:
        verdict = "precursor"
    elif known_here:
        verdict = "known"
    elif (generic_elsewhere or family_hits or oxide_evidence or similar_enough) and (
        tracer := radiolabel(std.mol)
    ):
        verdict = "no_match"
        drug_class = None
        warnings.append(f"not an analog: labelled with {tracer}, a diagnostic radiotracer")
    elif elsewhere or generic_elsewhere or family_hits or oxide_evidence or similar_enough:
        verdict = "analog"
        drug_class = drug_class or nearest_class
        high_harm = high_harm or any(
            s.drug_class == "opioid" and score >= policy.similarity for score, s in neighbours
        )
    else:
        verdict = "no_match"
        drug_class = drug_class if identities else None
    if verdict in ("known", "no_match", "precursor"):
        high_harm = False

    return MatchResult(
        name=name,
        input=text,
        standardized=std,
        verdict=verdict,
        drug_class=drug_class,
        as_of=as_of,
        jurisdiction=jurisdiction,
        controls=_unique(controls),
        matches=matches,
        high_harm=high_harm,
        warnings=list(dict.fromkeys(warnings)),
    )


def _unique(controls: list[dict]) -> list[dict]:
    seen, unique = set(), []
    for control in controls:
        key = (
            control["jurisdiction"],
            control["instrument"],
            control["schedule"],
            control.get("basis"),
            (control.get("substance") or {}).get("id"),
            control.get("definition"),
        )
        if key not in seen:
            seen.add(key)
            unique.append(control)
    return unique


def match_text(
    text: str,
    library: ReferenceLibrary,
    *,
    name: str | None = None,
    fmt: str | None = None,
    as_of: date | None = None,
    jurisdiction: str = "UN",
    policy: AnalogPolicy = DEFAULT_POLICY,
) -> dict:
    """Read, standardize and match one structure; an unreadable one gives an ``error`` object."""
    try:
        std = standardize_text(text, fmt)
    except StructureError as error:
        return error_result(name, text, error)
    return match(
        std, library, as_of=as_of, jurisdiction=jurisdiction, name=name, text=text, policy=policy
    ).to_dict()
