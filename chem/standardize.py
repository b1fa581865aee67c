"""Standardize a structure to the parent compound a schedule lists.

One step per function, each ``Mol -> Mol``, composed by :func:`standardize`:
clean up (metals disconnected, functional groups normalized), strip salts and
solvents, neutralize, canonicalize the tautomer. Then the identifiers: InChI,
InChIKey, the stereo-insensitive skeleton key (first InChIKey block), formula
and monoisotopic mass.

>>> s = standardize(read_structure("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21.Cl"))
>>> s.formula, s.removed_fragments, round(s.exact_mass, 4)
('C23H30N4O3', ('Cl',), 410.2318)
>>> standardize(read_structure("C[NH2+]C(C)Cc1ccccc1.[Cl-]")).smiles
'CNC(C)Cc1ccccc1'
>>> standardize(read_structure("Oc1ccccn1")).smiles
'O=c1cccc[nH]1'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from chem.errors import StructureError
from chem.read import read_structure

MAX_TAUTOMERS = 256
"""Bound on tautomer enumeration: pathological inputs stop here, not at memory exhaustion."""
MAX_TAUTOMER_TRANSFORMS = 1000


class Standardized:
    """A standardized parent structure and its identifiers.

    A library entry rebuilt from a cache carries only its SMILES, InChIKey and
    formula: the molecule, InChI and mass are computed from the SMILES when first
    asked for, so thousands of known substances cost nothing at start-up until a
    query meets one of them.
    """

    __slots__ = ("_exact_mass", "_inchi", "_mol", "formula", "inchikey", "removed_fragments", "smiles")

    def __init__(
        self,
        mol: Chem.Mol | None,
        smiles: str,
        inchi: str | None,
        inchikey: str,
        formula: str,
        exact_mass: float | None,
        removed_fragments: tuple[str, ...] = (),
    ) -> None:
        self._mol = mol
        self.smiles = smiles
        self._inchi = inchi
        self.inchikey = inchikey
        self.formula = formula
        self._exact_mass = exact_mass
        self.removed_fragments = removed_fragments

    @property
    def mol(self) -> Chem.Mol:
        if self._mol is None:
            with rdBase.BlockLogs():
                mol = Chem.MolFromSmiles(self.smiles)
            if mol is None:
                raise StructureError(f"standardized SMILES unreadable: {self.smiles}")
            self._mol = mol
        return self._mol

    @property
    def inchi(self) -> str:
        if self._inchi is None:
            with rdBase.BlockLogs():
                self._inchi = Chem.MolToInchi(self.mol, logLevel=None) or ""
        return self._inchi

    @property
    def exact_mass(self) -> float:
        if self._exact_mass is None:
            self._exact_mass = Descriptors.ExactMolWt(self.mol)  # type: ignore[attr-defined]
        return self._exact_mass

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Standardized) and (self.smiles, self.inchikey, self.removed_fragments) == (
            other.smiles,
            other.inchikey,
            other.removed_fragments,
        )

    def __hash__(self) -> int:
        return hash((self.smiles, self.inchikey))

    def __repr__(self) -> str:
        return f"Standardized({self.smiles!r}, {self.inchikey})"

    @property
    def skeleton_key(self) -> str:
        """First InChIKey block: the connectivity, blind to stereo, isotopes and charge."""
        return self.inchikey.split("-")[0]

    @property
    def has_stereo(self) -> bool:
        return "/t" in self.inchi or "/b" in self.inchi

    def to_dict(self) -> dict:
        return {
            "smiles": self.smiles,
            "inchi": self.inchi,
            "inchikey": self.inchikey,
            "formula": self.formula,
            "exact_mass": round(self.exact_mass, 4),
            "removed_fragments": list(self.removed_fragments),
        }


def cleanup(mol: Chem.Mol) -> Chem.Mol:
    """Disconnect metals, normalize functional groups (nitro, N-oxide, ...), reionize."""
    return rdMolStandardize.Cleanup(mol)


def _fragment_key(fragment: Chem.Mol) -> str:
    if fragment.GetNumAtoms() == 1:
        return fragment.GetAtomWithIdx(0).GetSymbol()
    neutral = _uncharger().uncharge(fragment)
    return Chem.MolToSmiles(neutral, isomericSmiles=False)


@cache
def salt_fragments() -> dict[str, str]:
    """Key of each strippable fragment -> its name, from ``data/salts.smi``."""
    text = resources.files("chem").joinpath("data/salts.smi").read_text(encoding="utf-8")
    fragments = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        smiles, name = line.split("\t", 1)
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            raise ValueError(f"salts.smi: unreadable SMILES {smiles!r}")
        fragments[_fragment_key(mol)] = name.strip()
    return fragments


def strip_salts(mol: Chem.Mol) -> tuple[Chem.Mol, tuple[str, ...]]:
    """Remove counter-ions and solvents; return the parent and what was removed.

    Identical copies of the parent (a 2:1 salt) collapse into one. When several
    different non-salt fragments remain (a mixture written as one SMILES), the
    largest is the parent and the others are reported as removed.
    """
    fragments = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    if len(fragments) == 1:
        return mol, ()
    salts = salt_fragments()
    kept: dict[str, Chem.Mol] = {}
    removed: list[str] = []
    for fragment in fragments:
        key = _fragment_key(fragment)
        if key in salts:
            removed.append(key)
        else:
            kept.setdefault(Chem.MolToSmiles(fragment), fragment)
    if not kept:  # everything is a "salt": the submission is the salt itself
        largest = max(fragments, key=lambda f: (f.GetNumHeavyAtoms(), f.GetNumAtoms()))
        return largest, tuple(sorted({_fragment_key(f) for f in fragments if f is not largest}))
    parent = max(kept.values(), key=lambda f: (f.GetNumHeavyAtoms(), Chem.MolToSmiles(f)))
    others = [_fragment_key(f) for f in kept.values() if f is not parent]
    return parent, tuple(sorted(set(removed))) + tuple(sorted(others))


@cache
def _uncharger() -> rdMolStandardize.Uncharger:
    return rdMolStandardize.Uncharger(canonicalOrder=True)


def neutralize(mol: Chem.Mol) -> Chem.Mol:
    """Neutralize acids and bases by adding or removing protons (quaternary N stays charged)."""
    return _uncharger().uncharge(mol)


@cache
def _tautomer_enumerator(reassign_stereo: bool = True) -> rdMolStandardize.TautomerEnumerator:
    params = rdMolStandardize.CleanupParameters()
    # RDKit's generated stubs give these properties the type of their owner, hence the ignores.
    params.maxTautomers = MAX_TAUTOMERS  # type: ignore[assignment]
    params.maxTransforms = MAX_TAUTOMER_TRANSFORMS  # type: ignore[assignment]
    # Keep the stereocentres a schedule may designate (the alpha carbon of a
    # cathinone is enolisable, but the listed substance is the keto form).
    params.tautomerRemoveSp3Stereo = False  # type: ignore[assignment]
    params.tautomerRemoveBondStereo = False  # type: ignore[assignment]
    # Reassigning stereo on every enumerated tautomer is most of the cost; the
    # enumeration below reassigns it on the chosen one only, as Canonicalize does.
    params.tautomerReassignStereo = reassign_stereo  # type: ignore[assignment]
    return rdMolStandardize.TautomerEnumerator(params)


TIE_BREAK_TAUTOMERS = 96
"""Up to this many tautomers a structure with stereo has its ties broken by the SMILES without stereo
marks; beyond (large natural products and peptides, no drug of abuse) RDKit's own choice stands."""


def _stereo_marks(mol: Chem.Mol) -> int:
    return sum(a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED for a in mol.GetAtoms()) + sum(
        b.GetStereo() != Chem.BondStereo.STEREONONE for b in mol.GetBonds()
    )


def _flat_smiles(mol: Chem.Mol) -> str:
    flat = Chem.Mol(mol)
    Chem.RemoveStereochemistry(flat)
    return Chem.MolToSmiles(flat)


def canonical_tautomer(mol: Chem.Mol) -> Chem.Mol:
    """RDKit's canonical tautomer, bounded in the number of tautomers enumerated.

    RDKit keeps the best-scored tautomer and breaks ties by the smaller SMILES,
    stereo marks included: testosterone drawn with its stereocentres came out as
    its 5-en-3-one tautomer, drawn flat as the 4-en-3-one, so the two shared no
    InChIKey skeleton and a steroid drawn flat was not recognised. A structure
    with stereo has its ties broken by the SMILES without stereo marks instead
    (of copies of one constitution, the one that kept its marks): the tautomer
    of its flat drawing, with its stereo. Flat structures get RDKit's choice.
    """
    if _stereo_marks(mol) == 0:
        return _tautomer_enumerator().Canonicalize(mol)
    enumerator = _tautomer_enumerator(reassign_stereo=False)
    found = enumerator.Enumerate(mol)
    if len(found) > TIE_BREAK_TAUTOMERS:
        chosen = enumerator.PickCanonical(found)
    else:
        tautomers = list(found)
        scores = [rdMolStandardize.TautomerEnumerator.ScoreTautomer(t) for t in tautomers]
        best = max(scores, default=0)
        tied = [t for t, score in zip(tautomers, scores, strict=True) if score == best]
        if not tied:
            return _tautomer_enumerator().Canonicalize(mol)
        # a stereocentre passed through an enol comes back unmarked: of one constitution, keep the marked copy
        chosen = min(tied, key=lambda t: (_flat_smiles(t), -_stereo_marks(t), Chem.MolToSmiles(t)))
    chosen = Chem.Mol(chosen)
    Chem.AssignStereochemistry(chosen, cleanIt=True, force=True)
    return chosen


def identifiers(mol: Chem.Mol, removed: tuple[str, ...] = ()) -> Standardized:
    with rdBase.BlockLogs():  # "undefined stereo" warnings are expected, not news
        inchi = Chem.MolToInchi(mol, logLevel=None)
    if not inchi:
        raise StructureError("no InChI can be computed for this structure", code="unreadable")
    smiles = Chem.MolToSmiles(mol)
    # Number atoms as they appear in the SMILES, so that atom indices in match
    # evidence ("shared_atoms") can be read off the standardized SMILES.
    order = [int(i) for i in mol.GetProp("_smilesAtomOutputOrder").strip("[], ").split(",") if i.strip()]
    if order != list(range(mol.GetNumAtoms())):
        mol = Chem.RenumberAtoms(mol, order)
        # The renumbered copy has no ring perception: the first pattern fingerprint
        # would then find rings the fast way (a fused bicycle as one envelope ring),
        # and ring SMARTS (R1, c1ccccc1) would fail on a Kekulé-drawn input that the
        # aromatic spelling of the same molecule matches. Perceive SSSR rings now.
        Chem.GetSymmSSSR(mol)
    return Standardized(
        mol=mol,
        smiles=smiles,
        inchi=inchi,
        inchikey=Chem.InchiToInchiKey(inchi),
        formula=rdMolDescriptors.CalcMolFormula(mol),
        exact_mass=Descriptors.ExactMolWt(mol),  # type: ignore[attr-defined]  # defined at import, not in the stubs
        removed_fragments=removed,
    )


def standardize(mol: Chem.Mol) -> Standardized:
    """The parent compound of ``mol`` and its identifiers."""
    try:
        with rdBase.BlockLogs():  # the tautomer search logs the dead ends it explores
            parent, removed = strip_salts(cleanup(mol))
            parent = canonical_tautomer(neutralize(parent))
            Chem.AssignStereochemistry(parent, cleanIt=True, force=True)
            return identifiers(parent, removed)
    except (Chem.MolSanitizeException, RuntimeError):
        pass
    # Mesoionic rings (sydnone imines) can come out of the normalizations in a form
    # RDKit then cannot kekulize: keep them as drawn, with only the salts removed.
    try:
        with rdBase.BlockLogs():
            parent, removed = strip_salts(Chem.Mol(mol))
            return identifiers(parent, removed)
    except (Chem.MolSanitizeException, RuntimeError) as error:
        raise StructureError(f"the structure cannot be standardized: {error}", code="unreadable") from None


def standardize_text(text: str, fmt: str | None = None) -> Standardized:
    """Read and standardize one structure given as SMILES, InChI or Molfile text."""
    return standardize(read_structure(text, fmt))


def from_standardized_smiles(
    smiles: str,
    removed: tuple[str, ...] = (),
    inchikey: str | None = None,
    formula: str | None = None,
) -> Standardized:
    """Rebuild a :class:`Standardized` from the SMILES :func:`standardize` produced.

    Used to load a cached library without repeating the tautomer search. Given
    the InChIKey and formula stored with it, nothing is computed now: the
    molecule and InChI follow when first needed.
    """
    if inchikey and formula is not None:
        return Standardized(None, smiles, None, inchikey, formula, None, removed)
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise StructureError(f"cached standardized SMILES unreadable: {smiles}")
    return identifiers(mol, removed)
