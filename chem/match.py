"""Decide what a standardized structure is: the match result of ../shared/INTERFACE.md.

The verdict, in order of precedence:

``controlled``
    identical to a substance listed in the jurisdiction and in force on the
    date (exactly, or as an isomer, ester or ether the listing clauses cover),
    or covered by a generic definition of the jurisdiction in force;
``precursor``
    identical to a scheduled precursor chemical;
``known``
    identical to a known substance that is not controlled (a medicine, an
    adulterant), even where it resembles a controlled one;
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

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFMCS

from chem.errors import StructureError
from chem.library import ReferenceLibrary, Substance, fingerprint
from chem.standardize import Standardized, standardize_text

VERDICTS = ("controlled", "precursor", "analog", "known", "no_match")


@dataclass(frozen=True)
class AnalogPolicy:
    """Thresholds of the analog decision, chosen by measurement (bench/tune_analog.py).

    Similarity is the Tanimoto coefficient of Morgan radius-2 fingerprints; the
    MCS score is |MCS| / (|query| + |reference| - |MCS|) over heavy atoms, with
    rings matched only as complete rings.
    """

    similarity: float = 0.55
    """At or above this similarity to a controlled substance, an analog on similarity alone."""
    supported_similarity: float = 0.30
    """Between this and ``similarity``, an analog when the MCS score reaches ``mcs_score``."""
    mcs_score: float = 0.60
    neighbours: int = 5
    """Nearest controlled substances reported as evidence."""
    reported_similarity: float = 0.20
    """Neighbours below this similarity are not reported."""
    mcs_candidates: int = 3
    """How many of the nearest neighbours get an MCS when similarity alone does not decide."""
    mcs_timeout_seconds: float = 0.25
    use_families: bool = True


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


def _identities(
    std: Standardized, library: ReferenceLibrary, name: str | None, warnings: list[str]
) -> list[_Identity]:
    key = std.inchikey
    related = library.by_skeleton.get(std.skeleton_key, [])
    if not related:
        return []
    if name and not std.has_stereo:
        # A structure drawn without stereo is ambiguous between listed isomers
        # (levomethorphan, controlled; dextromethorphan, excepted): the name decides.
        named = [s for s in related if s.has_stereo and name.casefold() in _names(s)]
        if named and named[0].standardized is not None:
            key = named[0].standardized.inchikey
            warnings.append(f"structure has no stereochemistry; read as {named[0].name} from the name given")
    exact = [s for s in related if s.standardized is not None and s.standardized.inchikey == key]
    excepted_from = {s.excepted_from for s in exact if s.status == "excepted"}
    found = [_Identity(s, "listed") for s in exact if s.status != "excepted"]
    query_has_stereo = std.has_stereo or key != std.inchikey
    for substance in related:
        if substance in exact or substance.status == "excepted" or substance.id in excepted_from:
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


def _cleaved(mol: Chem.Mol, pattern: Chem.Mol) -> Iterable[str]:
    """Flat SMILES of each fragment left when one O-C bond of the pattern is cut (as OH / COOH)."""
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
        for fragment in Chem.GetMolFrags(editable.GetMol(), asMols=True):
            if fragment.GetNumHeavyAtoms() >= 6:
                yield Chem.MolToSmiles(fragment, isomericSmiles=False)


def _ester_ether_parents(std: Standardized, library: ReferenceLibrary, jurisdiction: str, as_of: date):
    for kind, pattern in (("ester", _ESTER), ("ether", _ETHER)):
        clause = kind + "s"
        for flat in _cleaved(std.mol, pattern):
            for substance in library.by_flat_smiles.get(flat, []):
                controls = [c for c in substance.controls_in_force(jurisdiction, as_of) if clause in c.clauses]
                if controls:
                    yield kind, substance, controls


# --- similarity -----------------------------------------------------------------------------


class _Deadline(rdFMCS.MCSProgress):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.deadline = time.monotonic() + seconds

    def __call__(self, stat, params) -> bool:  # noqa: ARG002 - RDKit's signature
        return time.monotonic() < self.deadline


def mcs_atoms(query: Chem.Mol, reference: Chem.Mol, timeout: float = 0.25) -> tuple[int, ...]:
    """Atoms of ``query`` in its maximum common substructure with ``reference`` (complete rings only)."""
    params = rdFMCS.MCSParameters()
    params.AtomTyper = rdFMCS.AtomCompare.CompareElements
    params.BondTyper = rdFMCS.BondCompare.CompareOrder
    params.BondCompareParameters.RingMatchesRingOnly = True
    params.BondCompareParameters.CompleteRingsOnly = True
    params.Timeout = max(1, int(timeout + 0.999))
    params.ProgressCallback = _Deadline(timeout)
    result = rdFMCS.FindMCS([query, reference], params)
    if not result.numAtoms:
        return ()
    return tuple(query.GetSubstructMatch(result.queryMol))


def mcs_score(query: Chem.Mol, reference: Chem.Mol, shared: int) -> float:
    a, b = query.GetNumHeavyAtoms(), reference.GetNumHeavyAtoms()
    return shared / (a + b - shared) if shared else 0.0


def _neighbours(
    std: Standardized, library: ReferenceLibrary, as_of: date, policy: AnalogPolicy
) -> list[tuple[float, Substance]]:
    if not library.controlled:
        return []
    scores = DataStructs.BulkTanimotoSimilarity(fingerprint(std.mol), library.controlled_fps)
    ranked = sorted(
        (
            (score, substance)
            for score, substance in zip(scores, library.controlled, strict=True)
            if score >= policy.reported_similarity and any(c.in_force_anywhere(as_of) for c in substance.controls)
        ),
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
        return substance.status in ("known", "excepted") or any(
            c.in_force_anywhere(as_of) for c in substance.controls
        )

    identities = [i for i in _identities(std, library, name, warnings) if listed_by(i.substance)]
    controlled_here = precursor_here = known_here = False
    elsewhere: list[Substance] = []
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
        elif precursor_listings:
            precursor_here = True
            controls += _control_dicts(substance, precursor_listings, jurisdiction, "listed")
        elif substance.status == "known":
            known_here = True
        elif substance.controls:
            elsewhere.append(substance)
        drug_class = drug_class or substance.drug_class

    if not controlled_here:
        for kind, substance, in_force in _ester_ether_parents(std, library, jurisdiction, as_of):
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
            drug_class = drug_class or substance.drug_class

    generic_elsewhere = False
    for definition in library.definitions:
        atoms = definition.covers(std.mol, std.skeleton_key)
        if atoms is None:
            continue
        applies = definition.jurisdiction == jurisdiction and definition.in_force(as_of)
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
            generic_elsewhere = True
        drug_class = drug_class or definition.drug_class

    family_hits = []
    if policy.use_families:
        for rule in library.families:
            atoms = rule.matching_atoms(std.mol)
            if atoms is not None:
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
                high_harm = high_harm or rule.high_harm
        if family_hits:
            drug_class = drug_class or family_hits[0].drug_class

    # similarity evidence: always reported, decisive only when nothing above decided
    neighbours = _neighbours(std, library, as_of, policy)
    similar_enough = False
    for rank, (score, substance) in enumerate(neighbours):
        entry = {
            "kind": "similarity",
            "substance": substance.to_dict(),
            "score": round(score, 3),
        }
        reference = substance.standardized.mol  # type: ignore[union-attr]
        if score >= policy.similarity:
            similar_enough = True
        needs_mcs = rank < policy.mcs_candidates and score >= policy.supported_similarity
        if needs_mcs:
            shared = mcs_atoms(std.mol, reference, policy.mcs_timeout_seconds)
            entry["shared_atoms"] = sorted(shared)
            entry["mcs_score"] = round(mcs_score(std.mol, reference, len(shared)), 3)
            if entry["mcs_score"] >= policy.mcs_score:
                similar_enough = True
        matches.append(entry)
    nearest_class = next(
        (s.drug_class for score, s in neighbours if s.drug_class and score >= policy.supported_similarity), None
    )

    if controlled_here:
        verdict = "controlled"
    elif precursor_here:
        verdict = "precursor"
    elif known_here:
        verdict = "known"
    elif elsewhere or generic_elsewhere or family_hits or similar_enough:
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
