"""Legal generic definitions as executable structure rules.

Generic (class-wide) drug laws share one shape: *any compound structurally
derived from a core by the following modifications*. A
:class:`GenericDefinition` says that shape in data:

* ``core``: a SMARTS of the parent structure; atom-map numbers (``[c:1]``,
  ``[N:3]``) label the *sites* where the law permits modification. The same
  number may label several atoms (all ring positions, say).
* ``sites``: for each site number, the substituent groups permitted there
  (``alkyl``, ``alkoxy``, ``halide`` ...: the vocabulary in :data:`GROUPS`).
* ``bridges``: substituents bonded to the core at more than one point (an
  alkylenedioxy across two ring positions, a ring that includes the nitrogen),
  with the multiset of sites they join.
* ``excluded``: compounds the law names as not covered.

A molecule is covered when some match of the core leaves every remaining atom
in substituents that the law permits at the sites they are bonded to, and
nothing is bonded to an unlabelled core atom.

>>> from rdkit import Chem
>>> rule = parse_definition({
...     "id": "demo", "jurisdiction": "XX", "instrument": "demo", "schedule": "B",
...     "effective": "2010-04-16", "class": "cathinone", "citation": "demo",
...     "core": "[c:1]1[c:1][c:1][c:1][c:1]c1C(=O)C([C:2])[N:3]",
...     "sites": {"1": ["alkyl", "alkoxy", "halide"], "2": ["alkyl"], "3": ["alkyl"]},
...     "bridges": [{"sites": [1, 1], "groups": ["alkylenedioxy"]},
...                 {"sites": [3, 3], "groups": ["alkylene"]}]})
>>> rule.covers(Chem.MolFromSmiles("CNC(C)C(=O)c1ccc(C)cc1")) is not None   # mephedrone
True
>>> rule.covers(Chem.MolFromSmiles("CCCC(C(=O)c1ccc2OCOc2c1)N1CCCC1")) is not None   # MDPV
True
>>> rule.covers(Chem.MolFromSmiles("CC(NC(C)(C)C)C(=O)c1cccc(Cl)c1")) is not None   # bupropion: tert-butyl is alkyl
True
>>> rule.covers(Chem.MolFromSmiles("CC(N)Cc1ccccc1")) is None   # amfetamine: no carbonyl
True
>>> rule.covers(Chem.MolFromSmiles("CNC(C)C(=O)c1ccc(C(=O)O)cc1")) is None   # carboxy is not permitted
True
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import rdqueries
from rdkit.Chem.MolStandardize import rdMolStandardize

from chem.classes import CLASSES
from chem.screening import may_contain, screen

MAX_CORE_MATCHES = 256
"""Bound on the core embeddings tried per molecule (symmetric cores match many ways)."""

HALOGENS = frozenset({9, 17, 35, 53})


class GenericDataError(ValueError):
    """A generic definition in the data is malformed."""


@dataclass(frozen=True)
class Substituent:
    """Atoms outside the core that form one connected group, and how they bond to it."""

    mol: Chem.Mol
    atoms: frozenset[int]
    attachments: tuple[tuple[int, int, Chem.BondType], ...]  # (own atom, core atom, bond type)

    def atom(self, index: int) -> Chem.Atom:
        return self.mol.GetAtomWithIdx(index)

    @property
    def elements(self) -> set[int]:
        return {self.atom(i).GetAtomicNum() for i in self.atoms}

    def internal_bonds(self) -> Iterable[Chem.Bond]:
        for bond in self.mol.GetBonds():
            if bond.GetBeginAtomIdx() in self.atoms and bond.GetEndAtomIdx() in self.atoms:
                yield bond

    def in_ring(self) -> bool:
        """Whether the substituent contains a ring of its own (not one closed through the core)."""
        own_bonds = sum(1 for _ in self.internal_bonds())
        return own_bonds >= len(self.atoms)

    def saturated(self) -> bool:
        return all(bond.GetBondType() == Chem.BondType.SINGLE for bond in self.internal_bonds()) and all(
            bond_type == Chem.BondType.SINGLE for _, _, bond_type in self.attachments
        )

    def single_attachment(self) -> tuple[int, Chem.BondType] | None:
        if len(self.attachments) != 1:
            return None
        own, _, bond_type = self.attachments[0]
        return own, bond_type

    def without(self, index: int) -> Substituent:
        """The substituent minus one atom, attached where that atom was."""
        rest = self.atoms - {index}
        attachments = tuple(
            (neighbor.GetIdx(), index, self.mol.GetBondBetweenAtoms(index, neighbor.GetIdx()).GetBondType())
            for neighbor in self.atom(index).GetNeighbors()
            if neighbor.GetIdx() in rest
        )
        return Substituent(self.mol, frozenset(rest), attachments)


MAX_TAUTOMERS = 64
"""Bound on the tautomers of one molecule tried against the definitions."""

_TAUTOMER_CACHE: dict[int, tuple[Chem.Mol, tuple[Chem.Mol, ...]]] = {}
_TAUTOMER_CACHE_SIZE = 16
_TAUTOMER_LOCK = threading.Lock()


def _tautomers(mol: Chem.Mol) -> tuple[Chem.Mol, ...]:
    """Other tautomers of ``mol`` (same atom indices), enumerated once per molecule object.

    The cache holds the molecule itself, so its ``id`` cannot be reused while cached.
    """
    with _TAUTOMER_LOCK:
        cached = _TAUTOMER_CACHE.get(id(mol))
    if cached is not None and cached[0] is mol:
        return cached[1]
    enumerator = rdMolStandardize.TautomerEnumerator()
    enumerator.SetMaxTautomers(MAX_TAUTOMERS)
    enumerator.SetMaxTransforms(1000)
    written = Chem.MolToSmiles(mol)
    quiet = rdBase.BlockLogs()  # "enumeration stopped at N tautomers" is expected, not news
    try:
        tautomers = tuple(t for t in enumerator.Enumerate(mol) if Chem.MolToSmiles(t) != written)
    except (RuntimeError, ValueError):  # pragma: no cover - defensive: unusual valences
        tautomers = ()
    finally:
        del quiet
    with _TAUTOMER_LOCK:
        while len(_TAUTOMER_CACHE) >= _TAUTOMER_CACHE_SIZE:
            _TAUTOMER_CACHE.pop(next(iter(_TAUTOMER_CACHE)))
        _TAUTOMER_CACHE[id(mol)] = (mol, tautomers)
    return tautomers


_ELEMENT = re.compile(r"^(#\d+|Cl|Br|[BCNOSPFI]|[cnosp])(?![a-z])")


def _skeleton(core: Chem.Mol) -> Chem.Mol:
    """The core as a graph of elements and ring atoms with any bond orders: what every tautomer
    of a covered molecule keeps, so a cheap test before tautomers are enumerated.

    A core atom written as one element keeps it; other atom queries (``[R]``, ``[c,n]``) match
    any atom. Atoms in a ring of the core must be ring atoms.
    """
    core.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(core)
    skeleton = Chem.RWMol()
    for atom in core.GetAtoms():
        first = atom.GetSmarts().strip("[]").split(":")[0].split(";")[0].split("&")[0]
        found = _ELEMENT.match(first)
        element = None
        if found and "," not in first:
            token = found.group(1)
            element = (
                int(token[1:])
                if token.startswith("#")
                else Chem.GetPeriodicTable().GetAtomicNumber(token.capitalize())
            )
        query = rdqueries.AtomNumEqualsQueryAtom(element) if element else rdqueries.AtomNumGreaterQueryAtom(0)
        if atom.IsInRing():
            query.ExpandQuery(rdqueries.IsInRingQueryAtom())
        skeleton.AddAtom(query)
    for bond in core.GetBonds():
        skeleton.AddBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), Chem.BondType.SINGLE)
        index = skeleton.GetBondBetweenAtoms(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()).GetIdx()
        skeleton.ReplaceBond(index, Chem.BondFromSmarts("~"))
    return skeleton.GetMol()


# --- the group vocabulary -------------------------------------------------------------------


def _hydrocarbon(s: Substituent) -> bool:
    return s.elements <= {6}


def _singly_attached(s: Substituent, element: int | None = None) -> bool:
    attachment = s.single_attachment()
    if attachment is None or attachment[1] != Chem.BondType.SINGLE:
        return False
    return element is None or s.atom(attachment[0]).GetAtomicNum() == element


def alkyl(s: Substituent) -> bool:
    """Saturated acyclic hydrocarbon chain (methyl, isopropyl, tert-butyl, ...)."""
    return _singly_attached(s, 6) and _hydrocarbon(s) and s.saturated() and not s.in_ring()


def cycloalkyl(s: Substituent) -> bool:
    """Saturated hydrocarbon containing a ring (cyclopropyl, cyclohexylmethyl, adamantyl, ...)."""
    return _singly_attached(s, 6) and _hydrocarbon(s) and s.saturated() and s.in_ring()


def alkenyl(s: Substituent) -> bool:
    """Acyclic hydrocarbon with at least one C=C and no C#C (vinyl, allyl, pent-4-enyl).

    A triple bond makes the group :func:`alkynyl`, which laws list separately.
    """
    bonds = [b.GetBondType() for b in s.internal_bonds()]
    return (
        _singly_attached(s, 6)
        and _hydrocarbon(s)
        and not s.in_ring()
        and Chem.BondType.DOUBLE in bonds
        and Chem.BondType.TRIPLE not in bonds
        and Chem.BondType.AROMATIC not in bonds
    )


def alkynyl(s: Substituent) -> bool:
    """Acyclic hydrocarbon with at least one C#C (ethynyl, prop-2-ynyl)."""
    bonds = [b.GetBondType() for b in s.internal_bonds()]
    return (
        _singly_attached(s, 6)
        and _hydrocarbon(s)
        and not s.in_ring()
        and Chem.BondType.TRIPLE in bonds
        and Chem.BondType.AROMATIC not in bonds
    )


def haloalkyl(s: Substituent) -> bool:
    """Saturated acyclic carbon chain bearing one or more halogens (CF3, 5-fluoropentyl)."""
    carbons = {i for i in s.atoms if s.atom(i).GetAtomicNum() == 6}
    halogens = s.atoms - carbons
    return (
        _singly_attached(s, 6)
        and bool(halogens)
        and all(s.atom(i).GetAtomicNum() in HALOGENS and s.atom(i).GetDegree() == 1 for i in halogens)
        and s.saturated()
        and not s.in_ring()
    )


def halide(s: Substituent) -> bool:
    """A single halogen atom."""
    return len(s.atoms) == 1 and _singly_attached(s) and s.elements <= HALOGENS


def hydroxy(s: Substituent) -> bool:
    return len(s.atoms) == 1 and _singly_attached(s, 8)


def _hetero_then(s: Substituent, element: int, rest: Callable[[Substituent], bool]) -> bool:
    """``element`` attached to the core, single-bonded to one group that satisfies ``rest``."""
    if not _singly_attached(s, element):
        return False
    head = s.single_attachment()[0]  # type: ignore[index]
    if s.atom(head).GetDegree() != 2 or len(s.atoms) < 2:
        return False
    return rest(s.without(head))


def alkoxy(s: Substituent) -> bool:
    """O-alkyl (methoxy, ethoxy, isopropoxy)."""
    return _hetero_then(s, 8, alkyl)


def haloalkoxy(s: Substituent) -> bool:
    return _hetero_then(s, 8, haloalkyl)


def alkylthio(s: Substituent) -> bool:
    """S-alkyl (the 4-substituent of 2C-T-x)."""
    return _hetero_then(s, 16, alkyl)


def amino(s: Substituent) -> bool:
    """NH2, alkylamino or dialkylamino."""
    if not _singly_attached(s, 7):
        return False
    head = s.single_attachment()[0]  # type: ignore[index]
    if s.atom(head).GetIsAromatic() or s.atom(head).GetFormalCharge():
        return False
    rest = s.without(head)
    if not rest.atoms:
        return True
    return _all_parts(rest, alkyl)


def nitro(s: Substituent) -> bool:
    if not _singly_attached(s, 7) or len(s.atoms) != 3:
        return False
    head = s.single_attachment()[0]  # type: ignore[index]
    return sorted(s.atom(i).GetAtomicNum() for i in s.atoms) == [7, 8, 8] and s.atom(head).GetDegree() == 3


def cyano(s: Substituent) -> bool:
    return (
        len(s.atoms) == 2
        and _singly_attached(s, 6)
        and s.elements == {6, 7}
        and any(b.GetBondType() == Chem.BondType.TRIPLE for b in s.internal_bonds())
    )


def ether(s: Substituent) -> bool:
    """Alkoxy, or an alkyl chain interrupted by ether oxygens (methoxymethyl, 2-methoxyethyl)."""
    if not _singly_attached(s) or not s.saturated() or s.in_ring():
        return False
    if not s.elements <= {6, 8} or 8 not in s.elements:
        return False
    return all(s.atom(i).GetDegree() == 2 for i in s.atoms if s.atom(i).GetAtomicNum() == 8)


def ester(s: Substituent) -> bool:
    """-C(=O)O-alkyl (alkoxycarbonyl) or -O-C(=O)-alkyl (alkanoyloxy)."""
    return alkoxycarbonyl(s) or _hetero_then(s, 8, _alkanoyl)


def _carbonyl_head(s: Substituent) -> int | None:
    """The attachment atom when it is a carbon bearing a C=O oxygen inside ``s``."""
    if not _singly_attached(s, 6):
        return None
    head = s.single_attachment()[0]  # type: ignore[index]
    for bond in s.atom(head).GetBonds():
        other = bond.GetOtherAtom(s.atom(head))
        if (
            bond.GetBondType() == Chem.BondType.DOUBLE
            and other.GetAtomicNum() == 8
            and other.GetIdx() in s.atoms
            and other.GetDegree() == 1
        ):
            return head
    return None


def _beyond_carbonyl(s: Substituent) -> Substituent | None:
    """What hangs on the carbonyl carbon of an acyl-type group, minus its oxygen."""
    head = _carbonyl_head(s)
    if head is None:
        return None
    oxygen = next(
        n.GetIdx()
        for n in s.atom(head).GetNeighbors()
        if n.GetAtomicNum() == 8
        and n.GetIdx() in s.atoms
        and s.mol.GetBondBetweenAtoms(head, n.GetIdx()).GetBondType() == Chem.BondType.DOUBLE
    )
    rest = s.without(head)
    return Substituent(s.mol, rest.atoms - {oxygen}, tuple(a for a in rest.attachments if a[0] != oxygen))


def acyl(s: Substituent) -> bool:
    """R-C(=O)- where R is hydrogen or any group bonded through carbon (formyl, acetyl, benzoyl).

    Alkoxycarbonyl (-C(=O)OR) and carbamoyl (-C(=O)N<) are not acyl in this narrow sense.
    """
    rest = _beyond_carbonyl(s)
    if rest is None:
        return False
    return not rest.atoms or (len(rest.attachments) == 1 and carbon_group(rest))


def _alkanoyl(s: Substituent) -> bool:
    """-C(=O)-alkyl (acetyl, propanoyl)."""
    rest = _beyond_carbonyl(s)
    return rest is not None and bool(rest.atoms) and alkyl(rest)


def alkylcarbonyl(s: Substituent) -> bool:
    """-C(=O)-alkyl (acetyl, propanoyl, pivaloyl): carbons are counted with the carbonyl carbon."""
    return _alkanoyl(s)


def cycloalkylcarbonyl(s: Substituent) -> bool:
    """-C(=O)- bonded to an unsubstituted saturated carbocycle (cyclopropanecarbonyl)."""
    rest = _beyond_carbonyl(s)
    return rest is not None and bool(rest.atoms) and _cycloalkyl_ring(rest)


def alkoxycarbonyl(s: Substituent) -> bool:
    """-C(=O)O-alkyl (methoxycarbonyl, ethoxycarbonyl)."""
    rest = _beyond_carbonyl(s)
    return rest is not None and bool(rest.atoms) and _hetero_then(rest, 8, alkyl)


def carboxy(s: Substituent) -> bool:
    """-C(=O)OH."""
    rest = _beyond_carbonyl(s)
    return (
        rest is not None
        and len(rest.atoms) == 1
        and s.atom(next(iter(rest.atoms))).GetAtomicNum() == 8
        and len(rest.attachments) == 1
        and rest.attachments[0][2] == Chem.BondType.SINGLE
    )


def acyloxy(s: Substituent) -> bool:
    """-O-C(=O)-R with R hydrogen or bonded through carbon (acetoxy, propionyloxy, benzoyloxy)."""
    return _hetero_then(s, 8, acyl)


def alkoxyalkyl(s: Substituent) -> bool:
    """Alkyl bearing alkoxy groups, bonded through carbon (methoxymethyl, 2-ethoxyethyl)."""
    return _singly_attached(s, 6) and ether(s)


def carbon_group(s: Substituent) -> bool:
    """Any group attached through a carbon atom."""
    return _singly_attached(s, 6)


def _ring_of(s: Substituent, head: int) -> tuple[int, ...] | None:
    """The single ring of the substituent containing ``head``, when that ring is not fused."""
    rings = [r for r in s.mol.GetRingInfo().AtomRings() if head in r and set(r) <= s.atoms]
    if len(rings) != 1:
        return None
    ring = rings[0]
    info = s.mol.GetRingInfo()
    if any(info.NumAtomRings(i) > 1 for i in ring):
        return None
    return ring


def monocycle(s: Substituent) -> bool:
    """A single (unfused) ring bonded to the core, whether or not further substituted."""
    attachment = s.single_attachment()
    return attachment is not None and _ring_of(s, attachment[0]) is not None


def aromatic_monocycle(s: Substituent) -> bool:
    attachment = s.single_attachment()
    if attachment is None:
        return False
    ring = _ring_of(s, attachment[0])
    return ring is not None and all(s.atom(i).GetIsAromatic() for i in ring)


def univalent(s: Substituent) -> bool:
    """Any group bonded to the core by one single bond."""
    return _singly_attached(s)


def anything(s: Substituent) -> bool:
    return True


def _all_parts(s: Substituent, predicate: Callable[[Substituent], bool]) -> bool:
    """Every connected part of ``s`` (after removing a head atom) satisfies ``predicate``."""
    parts = _components(s.mol, s.atoms)
    for part in parts:
        attachments = tuple(a for a in s.attachments if a[0] in part)
        if not predicate(Substituent(s.mol, frozenset(part), attachments)):
            return False
    return True


# --- size limits, named groups and ring clauses ------------------------------------------------
# Laws bound groups by size ("Alkyl- (bis C6)"), name specific groups ("(N-methylpiperidin-2-yl)
# methyl") and describe rings with their substituents as one clause ("substitution in the ring to
# any extent with alkyl ... whether or not further substituted by other univalent substituents").


def _carbon_count(s: Substituent) -> int:
    return sum(1 for i in s.atoms if s.atom(i).GetAtomicNum() == 6)


def _at_most(predicate: Callable[[Substituent], bool], carbons: int) -> Callable[[Substituent], bool]:
    """``predicate`` restricted to groups of at most ``carbons`` carbon atoms."""

    def bounded(s: Substituent) -> bool:
        return _carbon_count(s) <= carbons and predicate(s)

    bounded.__name__ = f"{predicate.__name__}_upto_c{carbons}"
    bounded.__doc__ = f"{predicate.__name__} with at most {carbons} carbon atoms (the law's 'bis C{carbons}')."
    return bounded


def _fragment_smiles(mol: Chem.Mol, keep: set[int] | frozenset[int], dummies: Iterable[int] = ()) -> str | None:
    """Canonical SMILES of the atoms ``keep`` (``dummies`` written as ``*``), or None if not sane."""
    dummies = set(dummies)
    editable = Chem.RWMol(mol)
    for index in dummies:
        editable.ReplaceAtom(index, Chem.Atom(0))
    for index in sorted(set(range(mol.GetNumAtoms())) - set(keep) - dummies, reverse=True):
        editable.RemoveAtom(index)
    fragment = editable.GetMol()
    for atom in fragment.GetAtoms():
        atom.SetAtomMapNum(0)
        atom.SetIsotope(0)
        if atom.GetAtomicNum() and not (atom.GetIsAromatic() and atom.GetAtomicNum() != 6):
            atom.SetNoImplicit(False)
            atom.SetNumExplicitHs(0)
    try:
        Chem.SanitizeMol(fragment)
    except (Chem.rdchem.MolSanitizeException, RuntimeError, ValueError):
        return None
    return Chem.MolToSmiles(fragment, isomericSmiles=False)


@cache
def _canonical(smiles: str) -> str:
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:  # pragma: no cover - templates are written in this module
        raise GenericDataError(f"bad template {smiles!r}")
    return Chem.MolToSmiles(mol, isomericSmiles=False)


def _as_written(s: Substituent) -> str | None:
    """The substituent as SMILES with its attachment point as ``*`` (single attachment only)."""
    if len(s.attachments) != 1:
        return None
    return _fragment_smiles(s.mol, s.atoms, [s.attachments[0][1]])


def _exactly(name: str, *templates: str) -> Callable[[Substituent], bool]:
    """A predicate true for exactly the groups ``templates`` (SMILES, ``*`` = attachment)."""

    def named(s: Substituent) -> bool:
        if not _singly_attached(s):
            return False
        written = _as_written(s)
        return written is not None and written in {_canonical(t) for t in templates}

    named.__name__ = name
    named.__doc__ = f"Exactly {name.replace('_', ' ')}: {', '.join(templates)} (unsubstituted)."
    return named


phenyl = _exactly("phenyl", "*c1ccccc1")
benzyl = _exactly("benzyl", "*Cc1ccccc1")
phenethyl = _exactly("phenethyl", "*CCc1ccccc1")
allyl = _exactly("allyl", "*CC=C")
propargyl = _exactly("propargyl", "*CC#C")
n_methylpiperidin_2_ylmethyl = _exactly("n_methylpiperidin_2_ylmethyl", "*CC1CCCCN1C")
morpholin_4_ylethyl = _exactly("morpholin_4_ylethyl", "*CCN1CCOCC1")
tetrahydropyran_4_ylmethyl = _exactly("tetrahydropyran_4_ylmethyl", "*CC1CCOCC1")
trifluoromethyl = _exactly("trifluoromethyl", "*C(F)(F)F")
trifluoromethoxy = _exactly("trifluoromethoxy", "*OC(F)(F)F")
methoxy = _exactly("methoxy", "*OC")
methylthio = _exactly("methylthio", "*SC")
benzyloxy = _exactly("benzyloxy", "*OCc1ccccc1")
carboxamido = _exactly("carboxamido", "*C(N)=O")
dihydrogen_phosphate = _exactly("dihydrogen_phosphate", "*OP(=O)(O)O")
succinyloxy = _exactly("succinyloxy", "*OC(=O)CCC(=O)O")
dimethylcarbamoyl = _exactly("dimethylcarbamoyl", "*C(=O)N(C)C")
dialkylaminomethyl_or_ethyl = _exactly(
    "dialkylaminomethyl_or_ethyl", "*CN(C)C", "*CN(CC)CC", "*CCN(C)C", "*CCN(CC)CC"
)
cyclopropylmethyl = _exactly("cyclopropylmethyl", "*CC1CC1")
cyclopropyl = _exactly("cyclopropyl", "*C1CC1")
acetoxy = _exactly("acetoxy", "*OC(C)=O")
ethoxycarbonyl = _exactly("ethoxycarbonyl", "*C(=O)OCC")
hydroxymethyl_or_1_hydroxyethyl = _exactly("hydroxymethyl_or_1_hydroxyethyl", "*CO", "*C(C)O")
trifluoroethyl = _exactly("trifluoroethyl", "*CC(F)(F)F")


def thioxo(s: Substituent) -> bool:
    """=S: one sulfur double-bonded to the core (a thiolactam sulfur)."""
    if len(s.atoms) != 1 or len(s.attachments) != 1:
        return False
    own, _, bond_type = s.attachments[0]
    return s.atom(own).GetAtomicNum() == 16 and bond_type == Chem.BondType.DOUBLE


def oxo(s: Substituent) -> bool:
    """=O: one oxygen double-bonded to the core (a ketone or lactam oxygen)."""
    if len(s.atoms) != 1 or len(s.attachments) != 1:
        return False
    own, _, bond_type = s.attachments[0]
    return s.atom(own).GetAtomicNum() == 8 and bond_type == Chem.BondType.DOUBLE


def _reach(s: Substituent, start: int, blocked: int) -> set[int]:
    """Atoms of ``s`` reachable from ``start`` without stepping directly from it to ``blocked``."""
    seen, frontier = {start}, [start]
    while frontier:
        here = frontier.pop()
        for neighbor in s.atom(here).GetNeighbors():
            index = neighbor.GetIdx()
            if index not in s.atoms or index in seen or (here == start and index == blocked):
                continue
            seen.add(index)
            frontier.append(index)
    return seen


def _strip(s: Substituent, removable: Callable[[Substituent], bool]) -> Substituent | None:
    """``s`` without its terminal parts that satisfy ``removable``; None when none was removed."""
    head = s.single_attachment()
    if head is None:
        return None
    removed: set[int] = set()
    for bond in s.internal_bonds():
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        for inner, outer in ((a, b), (b, a)):
            side = _reach(s, outer, inner)
            if inner in side or head[0] in side or side & removed:
                continue
            if removable(Substituent(s.mol, frozenset(side), ((outer, inner, bond.GetBondType()),))):
                removed |= side
    if not removed:
        return None
    return Substituent(s.mol, frozenset(s.atoms - removed), s.attachments)


def _branches(s: Substituent, head: int) -> list[Substituent]:
    """The groups of ``s`` hanging on its atom ``head``, each attached to ``head``."""
    branches = []
    for part in _components(s.mol, s.atoms - {head}):
        bonds = tuple(
            (i, head, s.mol.GetBondBetweenAtoms(i, head).GetBondType())
            for i in sorted(part)
            if s.mol.GetBondBetweenAtoms(i, head) is not None
        )
        branches.append(Substituent(s.mol, frozenset(part), bonds))
    return branches


def _onward(s: Substituent) -> Substituent | None:
    """What follows the attachment atom of ``s`` when that atom links to exactly one group."""
    attachment = s.single_attachment()
    if attachment is None:
        return None
    branches = _branches(s, attachment[0])
    if len(branches) != 1 or len(branches[0].attachments) != 1:
        return None
    return branches[0]


def _after_methylene(s: Substituent) -> Substituent | None:
    """What follows when ``s`` is bonded to the core through an acyclic CH2 link (-CH2-X), else None."""
    if not _singly_attached(s, 6):
        return None
    atom = s.atom(s.single_attachment()[0])  # type: ignore[index]
    if atom.IsInRing() or atom.GetTotalNumHs() != 2 or atom.GetDegree() != 2:
        return None
    return _onward(s)


def cyanoalkyl(s: Substituent) -> bool:
    """Alkyl bearing one or more cyano groups (4-cyanobutyl)."""
    rest = _strip(s, cyano)
    return rest is not None and alkyl(rest)


def hydroxyalkyl(s: Substituent) -> bool:
    """Alkyl bearing one or more hydroxy groups (2-hydroxyethyl, 5-hydroxypentyl)."""
    rest = _strip(s, hydroxy)
    return rest is not None and alkyl(rest)


def _cycloalkyl_ring(s: Substituent) -> bool:
    """An unsubstituted saturated monocyclic carbocycle bonded at one of its ring atoms."""
    attachment = s.single_attachment()
    if attachment is None or not cycloalkyl(s):
        return False
    ring = _ring_of(s, attachment[0])
    return ring is not None and set(ring) == set(s.atoms)


def _linked(s: Substituent, links: tuple[int, ...], end: Callable[[Substituent], bool]) -> bool:
    """A chain of ``n`` CH2 groups (n in ``links``) from the core to a group satisfying ``end``."""
    if not _singly_attached(s, 6):
        return False
    atom, previous, chain = s.single_attachment()[0], s.attachments[0][1], 0  # type: ignore[index]
    atoms = set(s.atoms)
    while True:
        here = s.atom(atom)
        if chain in links and chain > 0:
            rest = Substituent(s.mol, frozenset(atoms), ((atom, previous, Chem.BondType.SINGLE),))
            if end(rest):
                return True
        if here.GetAtomicNum() != 6 or here.IsInRing() or here.GetTotalNumHs() != 2 or here.GetDegree() != 2:
            return False
        onward = [n.GetIdx() for n in here.GetNeighbors() if n.GetIdx() != previous and n.GetIdx() in atoms]
        if len(onward) != 1 or s.mol.GetBondBetweenAtoms(atom, onward[0]).GetBondType() != Chem.BondType.SINGLE:
            return False
        atoms.discard(atom)
        previous, atom, chain = atom, onward[0], chain + 1
        if chain > max(links):
            return False


def cycloalkylmethyl(s: Substituent) -> bool:
    """-CH2- bonded to an unsubstituted saturated carbocycle (cyclohexylmethyl, cyclopropylmethyl)."""
    return _linked(s, (1,), _cycloalkyl_ring)


def cycloalkylethyl(s: Substituent) -> bool:
    """-CH2CH2- bonded to an unsubstituted saturated carbocycle (2-cyclohexylethyl)."""
    return _linked(s, (2,), _cycloalkyl_ring)


def phenylalkyl_c1_4(s: Substituent) -> bool:
    """Phenyl on an unbranched -(CH2)n- chain, n = 1 to 4 (benzyl ... 4-phenylbutyl)."""
    return _linked(s, (1, 2, 3, 4), phenyl)


def aryloxy(s: Substituent) -> bool:
    """-O- bonded to an unsubstituted aromatic carbocycle (phenoxy, naphthyloxy)."""

    def aryl(rest: Substituent) -> bool:
        return (
            rest.elements == {6}
            and all(rest.atom(i).GetIsAromatic() for i in rest.atoms)
            and _singly_attached(rest, 6)
        )

    return _hetero_then(s, 8, aryl)


def any_group(s: Substituent) -> bool:
    """Any group bonded to the core at one point, by any bond (univalent or =X)."""
    return len(s.attachments) == 1


# rings closed through one core atom ------------------------------------------------------------


def _closing_ring(s: Substituent) -> tuple[int, frozenset[int]] | None:
    """(core atom, ring atoms) when ``s`` closes a ring through one core atom (two bonds to it)."""
    if len(s.attachments) != 2:
        return None
    cores = {core for _, core, _ in s.attachments}
    if len(cores) != 1:
        return None
    core = next(iter(cores))
    heads = {own for own, _, _ in s.attachments}
    rings: list[tuple[int, ...]] = [
        r for r in s.mol.GetRingInfo().AtomRings() if core in r and heads <= set(r) and set(r) - {core} <= s.atoms
    ]
    if not rings:
        return None
    smallest = min(rings, key=len)
    return core, frozenset(smallest)


def _fused_system(mol: Chem.Mol, ring: frozenset[int], allowed: set[int] | frozenset[int]) -> frozenset[int]:
    """``ring`` plus every ring (within ``allowed``) sharing two or more atoms with it, transitively."""
    system = set(ring)
    rings = [set(r) for r in mol.GetRingInfo().AtomRings() if set(r) <= allowed]
    grown = True
    while grown:
        grown = False
        for r in rings:
            if not r <= system and len(r & system) >= 2:
                system |= r
                grown = True
    return frozenset(system)


def _parts_on(s: Substituent, ring: frozenset[int]) -> list[Substituent]:
    """The groups of ``s`` outside ``ring``, each with its bonds to ring atoms as attachments."""
    parts = []
    for part in _components(s.mol, s.atoms - ring):
        attachments = tuple(
            (i, n.GetIdx(), s.mol.GetBondBetweenAtoms(i, n.GetIdx()).GetBondType())
            for i in sorted(part)
            for n in s.atom(i).GetNeighbors()
            if n.GetIdx() in ring
        )
        parts.append(Substituent(s.mol, frozenset(part), attachments))
    return parts


def _is_benzene(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    return len(ring) == 6 and all(
        mol.GetAtomWithIdx(i).GetAtomicNum() == 6 and mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring
    )


def _ring_clause(
    name: str,
    doc: str,
    ring_test: Callable[[Chem.Mol, frozenset[int]], bool],
    listed: tuple[str, ...] = (),
    bridges: tuple[str, ...] = (),
    others: Callable[[Substituent], bool] | None = None,
    others_need_listed: bool = True,
    require_listed: bool = False,
    fused: bool = False,
) -> Callable[[Substituent], bool]:
    """A bridge predicate: ``s`` completes a ring (or fused ring system) through one core atom.

    Each group on the ring must be one of ``listed`` (bonded at one ring atom) or ``bridges``
    (bonded at two); groups satisfying ``others`` are allowed too, but when ``others_need_listed``
    only alongside at least one listed group ("whether or not further substituted ... by other
    univalent substituents"). ``require_listed`` makes at least one listed group compulsory.
    """

    def clause(s: Substituent) -> bool:
        closing = _closing_ring(s)
        if closing is None:
            return False
        core, ring = closing
        if fused:
            ring = _fused_system(s.mol, ring, set(s.atoms) | {core})
        if not ring_test(s.mol, ring):
            return False
        seen_listed = seen_other = False
        for part in _parts_on(s, ring):
            names = listed if len(part.attachments) == 1 else bridges
            if any(GROUPS[g](part) for g in names):
                seen_listed = True
            elif len(part.attachments) == 1 and others is not None and others(part):
                seen_other = True
            else:
                return False
        if require_listed and not seen_listed:
            return False
        return not (seen_other and others_need_listed and not seen_listed)

    clause.__name__ = name
    clause.__doc__ = doc
    return clause


def _non_benzene(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    return not _is_benzene(mol, ring)


def _hetero_ring(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    return any(mol.GetAtomWithIdx(i).GetAtomicNum() != 6 for i in ring)


def _aromatic_ring(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    return all(mol.GetAtomWithIdx(i).GetIsAromatic() for i in ring)


def _any_ring(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    return True


def _is_naphthalene(mol: Chem.Mol, system: frozenset[int]) -> bool:
    rings = [frozenset(r) for r in mol.GetRingInfo().AtomRings() if set(r) <= system]
    return len(system) == 10 and len(rings) == 2 and all(_is_benzene(mol, r) for r in rings)


def _saturated_azacycle_5_7(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    atoms = [mol.GetAtomWithIdx(i) for i in ring]
    return (
        5 <= len(ring) <= 7
        and sorted(a.GetAtomicNum() for a in atoms).count(7) == 1
        and all(a.GetAtomicNum() in (6, 7) and not a.GetIsAromatic() for a in atoms)
        and all(
            mol.GetBondBetweenAtoms(a, b).GetBondType() == Chem.BondType.SINGLE
            for a in ring
            for b in ring
            if a < b and mol.GetBondBetweenAtoms(a, b) is not None
        )
    )


def _benzene_or_pyridine(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    elements = sorted(mol.GetAtomWithIdx(i).GetAtomicNum() for i in ring)
    return len(ring) == 6 and _aromatic_ring(mol, ring) and elements in ([6] * 6, [6] * 5 + [7])


def _thiophene(mol: Chem.Mol, ring: frozenset[int]) -> bool:
    elements = sorted(mol.GetAtomWithIdx(i).GetAtomicNum() for i in ring)
    return elements == [6, 6, 6, 6, 16] and _aromatic_ring(mol, ring)


def _not_phenyl_nor_alkylenedioxyphenyl(mol: Chem.Mol, system: frozenset[int]) -> bool:
    """A ring system other than benzene or benzene fused to one -O-(CH2)n-O- ring."""
    if _is_benzene(mol, system):
        return False
    rings = [frozenset(r) for r in mol.GetRingInfo().AtomRings() if set(r) <= system]
    benzenes = [r for r in rings if _is_benzene(mol, r)]
    if len(rings) == 2 and len(benzenes) == 1:
        other = next(r for r in rings if r is not benzenes[0])
        extra = other - benzenes[0]
        oxygens = [i for i in extra if mol.GetAtomWithIdx(i).GetAtomicNum() == 8]
        carbons = [i for i in extra if mol.GetAtomWithIdx(i).GetAtomicNum() == 6]
        saturated = all(
            mol.GetBondBetweenAtoms(a, b) is None
            or mol.GetBondBetweenAtoms(a, b).GetBondType() == Chem.BondType.SINGLE
            for a in extra
            for b in other
            if a != b
        )
        if len(oxygens) == 2 and len(oxygens) + len(carbons) == len(extra) and saturated:
            return False
    return True


RING_CLAUSES: dict[str, Callable[[Substituent], bool]] = {
    c.__name__: c
    for c in (
        _ring_clause(
            "uk_cathinone_phenyl",
            "Benzene ring substituted to any extent with alkyl, alkoxy, alkylenedioxy, haloalkyl or "
            "halide, whether or not further substituted by other univalent groups (these only "
            "alongside a listed group); unsubstituted benzene also passes.",
            _is_benzene,
            listed=("alkyl", "alkoxy", "haloalkyl", "halide"),
            bridges=("alkylenedioxy",),
            others=univalent,
        ),
        _ring_clause(
            "uk_cathinone_ring_system",
            "Any monocyclic or fused-polycyclic ring system other than phenyl or alkylenedioxyphenyl, "
            "substituted to any extent with alkyl, alkoxy, haloalkyl or halide, whether or not further "
            "substituted by other univalent groups (only alongside a listed group).",
            _not_phenyl_nor_alkylenedioxyphenyl,
            listed=("alkyl", "alkoxy", "haloalkyl", "halide"),
            others=univalent,
            fused=True,
        ),
        _ring_clause(
            "uk_phenethylamine_ring",
            "Benzene ring substituted with at least one alkyl, alkoxy, alkylenedioxy or halide, whether "
            "or not further substituted by other univalent groups.",
            _is_benzene,
            listed=("alkyl", "alkoxy", "halide"),
            bridges=("alkylenedioxy",),
            others=univalent,
            require_listed=True,
        ),
        _ring_clause(
            "benzene_fentanyl_phenethyl",
            "Benzene ring bearing only alkyl, alkenyl, alkoxy, hydroxy, halide, haloalkyl, amino or "
            "nitro groups (the phenyl of a fentanyl phenethyl group), or none.",
            _is_benzene,
            listed=("alkyl", "alkenyl", "alkoxy", "hydroxy", "halide", "haloalkyl", "amino", "nitro"),
        ),
        _ring_clause(
            "heteromonocycle_any",
            "Any single unfused ring containing a heteroatom, whether or not further substituted.",
            _hetero_ring,
            others=any_group,
            others_need_listed=False,
        ),
        _ring_clause(
            "non_benzene_monocycle_any",
            "Any single unfused ring other than benzene, whether or not further substituted.",
            _non_benzene,
            others=any_group,
            others_need_listed=False,
        ),
        _ring_clause(
            "aromatic_monocycle_any",
            "Any single unfused aromatic ring (benzene included), whether or not further substituted.",
            _aromatic_ring,
            others=any_group,
            others_need_listed=False,
        ),
        _ring_clause(
            "benzene_halides",
            "Benzene ring bearing only F, Cl, Br or I, or none.",
            _is_benzene,
            listed=("halide",),
        ),
        _ring_clause(
            "uk_arylcyclohexylamine_phenyl",
            "Benzene ring bearing only amino, alkyl, hydroxy, alkoxy or halide groups, or none.",
            _is_benzene,
            listed=("amino", "alkyl", "hydroxy", "alkoxy", "halide"),
        ),
        _ring_clause(
            "unsubstituted_thiophene",
            "An unsubstituted thiophene ring.",
            _thiophene,
        ),
        _ring_clause(
            "npsg_phenethylamine_ring",
            "Benzene ring (also as methylenedioxy- or ethylenedioxyphenyl) bearing only F, Cl, Br, I, "
            "alkyl, alkenyl, alkynyl, alkoxy or alkylsulfanyl (each up to C6), trifluoro-/haloalkyl up "
            "to C6, carboxy or nitro groups, or none.",
            _is_benzene,
            listed=(
                "halide",
                "alkyl_upto_c6",
                "alkenyl_upto_c6",
                "alkynyl_upto_c6",
                "alkoxy_upto_c6",
                "alkylthio_upto_c6",
                "haloalkyl_upto_c6",
                "carboxy",
                "nitro",
            ),
            bridges=("methylenedioxy", "ethylenedioxy"),
        ),
        _ring_clause(
            "naphthalene_any",
            "A naphthalene ring system (1- or 2-naphthyl) whether or not bearing univalent groups.",
            _is_naphthalene,
            others=univalent,
            others_need_listed=False,
            fused=True,
        ),
        _ring_clause(
            "azacycle_5_7_alkyl",
            "A saturated five- to seven-membered ring of carbons through one core nitrogen "
            "(pyrrolidin-1-yl, piperidin-1-yl, azepan-1-yl), whether or not bearing alkyl groups.",
            _saturated_azacycle_5_7,
            listed=("alkyl",),
            others_need_listed=False,
        ),
        _ring_clause(
            "npsg_benzodiazepine_aryl",
            "Phenyl or pyridyl bearing only F, Cl, Br, I, methyl, ethyl, nitro or amino groups, or none.",
            _benzene_or_pyridine,
            listed=("halide", "alkyl_upto_c2", "nitro", "amino"),
        ),
        _ring_clause(
            "npsg_benzimidazole_benzyl_phenyl",
            "Benzene ring bearing only alkyl, alkoxy or alkylsulfanyl (each up to C4), trifluoromethoxy, "
            "acetoxy, trifluoromethyl, hydroxy, cyano, F, Cl, Br or I groups, or none.",
            _is_benzene,
            listed=(
                "alkyl_upto_c4",
                "alkoxy_upto_c4",
                "alkylthio_upto_c4",
                "trifluoromethoxy",
                "acetoxy",
                "trifluoromethyl",
                "hydroxy",
                "cyano",
                "halide",
            ),
        ),
        _ring_clause(
            "npsg_arylcyclohexylamine_phenyl",
            "Benzene ring bearing only F, Cl, Br, I, hydroxy, alkyl, alkoxy or alkylsulfanyl (each up "
            "to C6) or amino groups, or none.",
            _is_benzene,
            listed=("halide", "hydroxy", "alkyl_upto_c6", "alkoxy_upto_c6", "alkylthio_upto_c6", "amino"),
        ),
    )
}


def methylenedioxy(s: Substituent) -> bool:
    """-O-CH2-O- across two core atoms."""
    return alkylenedioxy(s) and _carbon_count(s) == 1


def ethylenedioxy(s: Substituent) -> bool:
    """-O-CH2-CH2-O- across two core atoms."""
    return alkylenedioxy(s) and _carbon_count(s) == 2 and all(s.atom(i).GetDegree() == 2 for i in s.atoms)


def alkylene_c4_c5(s: Substituent) -> bool:
    """-(CH2)4- or -(CH2)5- closing a pyrrolidine or piperidine ring through one core nitrogen."""
    return (
        alkylene(s)
        and _carbon_count(s) in (4, 5)
        and all(s.atom(i).GetDegree() == 2 for i in s.atoms)
        and len({core for _, core, _ in s.attachments}) == 1
    )


def alkylene_c4(s: Substituent) -> bool:
    """-(CH2)4- closing a pyrrolidine ring through one core nitrogen."""
    return alkylene_c4_c5(s) and _carbon_count(s) == 4


def n_ring_small(s: Substituent) -> bool:
    """A saturated ring through one core nitrogen: pyrrolidine, piperidine, azepane or morpholine,
    whether or not bearing alkyl (up to C6), hydroxy, halide or phenyl groups."""
    closing = _closing_ring(s)
    if closing is None:
        return False
    core, ring = closing
    if len(ring) > 7 or s.mol.GetAtomWithIdx(core).GetAtomicNum() != 7:
        return False
    members = [s.mol.GetAtomWithIdx(i) for i in ring if i != core]
    if any(a.GetAtomicNum() not in (6, 8) or a.GetIsAromatic() for a in members):
        return False
    if sum(1 for a in members if a.GetAtomicNum() == 8) > 1:
        return False
    ring_bonds = [
        s.mol.GetBondBetweenAtoms(a, b)
        for a in ring
        for b in ring
        if a < b and s.mol.GetBondBetweenAtoms(a, b) is not None
    ]
    if any(b.GetBondType() != Chem.BondType.SINGLE for b in ring_bonds):
        return False
    return all(
        len(p.attachments) == 1 and (GROUPS["alkyl_upto_c6"](p) or hydroxy(p) or halide(p) or phenyl(p))
        for p in _parts_on(s, ring)
    )


def morpholino_pyrrolidino_piperidino(s: Substituent) -> bool:
    """The nitrogen is the ring nitrogen of an unsubstituted morpholine, pyrrolidine or piperidine."""
    closing = _closing_ring(s)
    if closing is None or _parts_on(s, closing[1]):
        return False
    written = _fragment_smiles(s.mol, s.atoms | {closing[0]})
    return written in {_canonical("C1CCNC1"), _canonical("C1CCNCC1"), _canonical("C1COCCN1")}


def morpholino_or_pyrrolidino(s: Substituent) -> bool:
    """The nitrogen is the ring nitrogen of an unsubstituted morpholine or pyrrolidine."""
    closing = _closing_ring(s)
    if closing is None or _parts_on(s, closing[1]):
        return False
    written = _fragment_smiles(s.mol, s.atoms | {closing[0]})
    return written in {_canonical("C1CCNC1"), _canonical("C1COCCN1")}


def dimethylazetidine(s: Substituent) -> bool:
    """The nitrogen is the ring nitrogen of a 2,4-dimethylazetidine (as in LSZ)."""
    closing = _closing_ring(s)
    if closing is None:
        return False
    return _fragment_smiles(s.mol, s.atoms | {closing[0]}) == _canonical("CC1CC(C)N1")


# synthetic cannabinoids ------------------------------------------------------------------------


def _longest_path(mol: Chem.Mol, atoms: set[int], start: int | None = None) -> int:
    """Atoms on the longest simple path within ``atoms`` (a forest), from ``start`` if given."""
    if not atoms:
        return 0

    def farthest(origin: int) -> tuple[int, int]:
        depth = {origin: 1}
        frontier = [origin]
        while frontier:
            here = frontier.pop()
            for n in mol.GetAtomWithIdx(here).GetNeighbors():
                if n.GetIdx() in atoms and n.GetIdx() not in depth:
                    depth[n.GetIdx()] = depth[here] + 1
                    frontier.append(n.GetIdx())
        far = max(depth, key=depth.__getitem__)
        return far, depth[far]

    if start is not None:
        return farthest(start)[1] if start in atoms else 0
    best = 0
    for part in _components(mol, atoms):
        far, _ = farthest(next(iter(part)))
        best = max(best, farthest(far)[1])
    return best


def _group_mass(s: Substituent) -> float:
    """Average mass of the group's atoms with their hydrogens (u)."""
    return sum(s.atom(i).GetMass() + 1.008 * s.atom(i).GetTotalNumHs() for i in s.atoms)


NPSG_ELEMENTS = frozenset({1, 6, 7, 8, 9, 16, 17, 35, 53})


def npsg_bridge_residue(s: Substituent) -> bool:
    """NpSG 2016 Anlage 2.3: a group of C, H, N, O, S and halogens up to 400 u, whose acyclic
    chains run at most twelve atoms."""
    if not s.elements <= NPSG_ELEMENTS or _group_mass(s) > 400:
        return False
    chain = {i for i in s.atoms if not s.atom(i).IsInRing()}
    return _longest_path(s.mol, chain) <= 12


def _carbonyl_split(s: Substituent) -> tuple[str, Substituent] | None:
    """For ``-C(=O)-X...``: ('NH', group beyond an NH), ('O', group beyond an ether O) or
    ('C', everything beyond the carbonyl carbon) -- the bridge kinds of cannabinoid laws."""
    rest = _beyond_carbonyl(s)
    if rest is None or len(rest.attachments) != 1 or rest.attachments[0][2] != Chem.BondType.SINGLE:
        return None
    x = rest.atom(rest.attachments[0][0])
    if x.IsInRing():
        return ("C", rest) if x.GetAtomicNum() == 6 else None
    if x.GetAtomicNum() == 7 and x.GetTotalNumHs() == 1 and x.GetDegree() == 2:
        beyond = _onward(rest)
        return ("NH", beyond) if beyond is not None else None
    if x.GetAtomicNum() == 8 and x.GetDegree() == 2:
        beyond = _onward(rest)
        return ("O", beyond) if beyond is not None else None
    if x.GetAtomicNum() == 6:
        return "C", rest
    return None


def npsg_cannabinoid_bridge(s: Substituent) -> bool:
    """NpSG 2016 Anlage 2.2 (a)-(c) with its residue (2.3): a carbonyl, carboxamide (-C(=O)NH-)
    or carboxyl (-C(=O)O-) bridge bearing one residue of C, H, N, O, S and halogens up to 400 u
    with acyclic chains of at most twelve atoms. Heterocyclic bridges (2.2 d) are not encoded."""
    split = _carbonyl_split(s)
    return split is not None and npsg_bridge_residue(split[1])


def npsg_side_chain(s: Substituent) -> bool:
    """NpSG 2016 Anlage 2.4: (a) a saturated or once-unsaturated chain of C with O or S links,
    three to seven chain atoms long, bearing only F, Cl, Br, I, CF3 or cyano; or (b) a five-,
    six- or seven-membered ring (carbo- or N/O/S-heterocycle) bonded directly or through CH2,
    CH2CH2 or CH2C(=O), bearing only F, Cl, Br, I, CF3, methoxy or cyano (ring N: methyl, ethyl)."""
    return _npsg_chain_side(s) or _npsg_ring_side(s)


def _npsg_chain_side(s: Substituent) -> bool:
    if not _singly_attached(s, 6) or s.in_ring() or not s.elements <= {6, 7, 8, 9, 16, 17, 35, 53}:
        return False
    decorations: set[int] = set()
    for index in s.atoms:
        atom = s.atom(index)
        if atom.GetAtomicNum() in HALOGENS:
            decorations.add(index)
        elif atom.GetAtomicNum() == 7:
            carbon = atom.GetNeighbors()[0]
            bond = s.mol.GetBondBetweenAtoms(index, carbon.GetIdx())
            if atom.GetDegree() != 1 or bond.GetBondType() != Chem.BondType.TRIPLE or carbon.GetDegree() != 2:
                return False
            decorations |= {index, carbon.GetIdx()}
    chain = set(s.atoms) - decorations
    head = s.single_attachment()[0]  # type: ignore[index]
    if head not in chain:
        return False
    for index in chain:
        atom = s.atom(index)
        if atom.GetAtomicNum() in (8, 16) and (
            atom.GetDegree() != 2
            or any(n.GetIdx() not in chain for n in atom.GetNeighbors() if n.GetIdx() in s.atoms)
        ):
            return False
    multiple = [
        b
        for b in s.internal_bonds()
        if b.GetBeginAtomIdx() in chain and b.GetEndAtomIdx() in chain and b.GetBondType() != Chem.BondType.SINGLE
    ]
    if len(multiple) > 1 or any(
        s.mol.GetAtomWithIdx(i).GetAtomicNum() != 6
        for b in multiple
        for i in (b.GetBeginAtomIdx(), b.GetEndAtomIdx())
    ):
        return False
    return 3 <= _longest_path(s.mol, chain, head) <= 7


def _npsg_ring_side(s: Substituent) -> bool:
    def ring_end(rest: Substituent) -> bool:
        attachment = rest.single_attachment()
        if attachment is None:
            return False
        ring = _ring_of(rest, attachment[0])
        if ring is None or len(ring) not in (5, 6, 7):
            return False
        if any(rest.atom(i).GetAtomicNum() not in (6, 7, 8, 16) for i in ring):
            return False
        for part in _parts_on(rest, frozenset(ring)):
            if len(part.attachments) != 1:
                return False
            ring_atom = rest.atom(part.attachments[0][1])
            if ring_atom.GetAtomicNum() == 7:
                if not GROUPS["alkyl_upto_c2"](part):
                    return False
            elif not (halide(part) or trifluoromethyl(part) or methoxy(part) or cyano(part)):
                return False
        return True

    if ring_end(s) or _linked(s, (1, 2), ring_end):
        return True
    # -CH2-C(=O)-ring (the 2-oxoethylene bridge)
    onward = _after_methylene(s)
    split = _carbonyl_split(onward) if onward is not None else None
    return split is not None and split[0] == "C" and ring_end(split[1])


# UK 2016 "structurally related to JWH-018" (Misuse of Drugs Act 1971, Sch. 2 Pt 2 para 1(ca))

JWH018_RING_SYSTEMS = (
    "c1ccc2ccccc2c1",  # naphthalene (1- or 2-naphthyl)
    "c1ccccc1",  # phenyl
    "C1C2CC3CC1CC(C2)C3",  # adamantane
    "C1CC2CCC1C2",  # bicyclo[2.2.1]heptane
    "c1ccc2c(c1)CCCC2",  # 1,2,3,4-tetrahydronaphthalene
    "c1ccc2ncccc2c1",  # quinoline
    "c1ccc2cnccc2c1",  # isoquinoline
    "C1CCNCC1",  # piperidine
    "C1COCCN1",  # morpholine
    "C1CCNC1",  # pyrrolidine
    "C1CCOCC1",  # tetrahydropyran
    "C1CNCCN1",  # piperazine
)


def _ring_system_with_univalent(s: Substituent, systems: tuple[str, ...], cycloalkane: bool) -> bool:
    """``s`` is one of the ring systems ``systems`` (or any cycloalkane) bonded at a ring atom,
    bearing only univalent groups."""
    attachment = s.single_attachment()
    if attachment is None or not s.atom(attachment[0]).IsInRing():
        return False
    rings = [frozenset(r) for r in s.mol.GetRingInfo().AtomRings() if attachment[0] in r and set(r) <= s.atoms]
    if not rings:
        return False
    system = _fused_system(s.mol, rings[0], s.atoms)
    for part in _parts_on(s, system):
        if len(part.attachments) != 1 or not univalent(part):
            return False
    written = _fragment_smiles(s.mol, system)
    if written is None:
        return False
    if written in {_canonical(t) for t in systems}:
        return True
    skeleton = Chem.MolFromSmiles(written)
    return (
        cycloalkane
        and skeleton is not None
        and skeleton.GetRingInfo().NumRings() == 1
        and all(a.GetAtomicNum() == 6 and not a.GetIsAromatic() for a in skeleton.GetAtoms())
        and all(b.GetBondType() == Chem.BondType.SINGLE for b in skeleton.GetBonds())
    )


def _alkyl_carbon_tail(s: Substituent, end: Callable[[Substituent], bool], links: int) -> bool:
    """``links`` sp3 carbons (each optionally bearing methyl groups) from the core to ``end``."""
    if not _singly_attached(s, 6):
        return False
    atom, previous, atoms = s.single_attachment()[0], s.attachments[0][1], set(s.atoms)  # type: ignore[index]
    for _ in range(links):
        here = s.atom(atom)
        if here.GetAtomicNum() != 6 or here.IsInRing() or here.GetHybridization() != Chem.HybridizationType.SP3:
            return False
        onward = []
        for n in here.GetNeighbors():
            if n.GetIdx() == previous or n.GetIdx() not in atoms:
                continue
            if n.GetAtomicNum() == 6 and n.GetDegree() == 1:
                atoms.discard(n.GetIdx())  # a methyl on the link
            else:
                onward.append(n.GetIdx())
        if len(onward) != 1:
            return False
        atoms.discard(atom)
        previous, atom = atom, onward[0]
    rest = Substituent(s.mol, frozenset(atoms), ((atom, previous, Chem.BondType.SINGLE),))
    return len(_components(s.mol, atoms)) == 1 and end(rest)


def _amino_acid_residue(s: Substituent) -> bool:
    """1-amino-1-oxopropan-2-yl or 1-hydroxy-1-oxopropan-2-yl, whether or not the 3-carbon bears
    further carbon groups (valinamide, tert-leucinamide, phenylalaninamide) and whether or not the
    acid is an alkyl ester (MMB, MDMB)."""
    if not _singly_attached(s, 6):
        return False
    head = s.single_attachment()[0]  # type: ignore[index]
    alpha = s.atom(head)
    if alpha.IsInRing() or alpha.GetTotalNumHs() != 1 or alpha.GetDegree() != 3:
        return False
    branches = _branches(s, head)
    if len(branches) != 2:
        return False
    for carbonyl_side, side_chain in (branches, branches[::-1]):
        rest = _beyond_carbonyl(carbonyl_side)
        if rest is None or len(rest.attachments) != 1:
            continue
        end = rest.atom(rest.attachments[0][0])
        amide = end.GetAtomicNum() == 7 and len(rest.atoms) == 1 and end.GetTotalNumHs() == 2
        acid = end.GetAtomicNum() == 8 and (len(rest.atoms) == 1 or _hetero_then(rest, 8, alkyl))
        if (amide or acid) and (
            alkyl(side_chain)
            or _linked(side_chain, (1,), lambda r: _ring_system_with_univalent(r, ("c1ccccc1",), False))
        ):
            return True
    return False


def jwh018_ring_group(s: Substituent) -> bool:
    """The 'naphthyl' sub-structure of the UK 2016 definition and its permitted replacements
    (2-naphthyl, phenyl, benzyl, adamantyl, cycloalkyl, cycloalkylmethyl, cycloalkylethyl,
    bicyclo[2.2.1]heptanyl, tetrahydronaphthyl, quinolinyl, isoquinolinyl, piperidinyl,
    morpholinyl, pyrrolidinyl, tetrahydropyranyl, piperazinyl, 1-amino-1-oxopropan-2-yl,
    1-hydroxy-1-oxopropan-2-yl), each whether or not bearing univalent groups. Benzyl and
    cycloalkylmethyl carbons may carry methyl groups (cumyl)."""
    if _ring_system_with_univalent(s, JWH018_RING_SYSTEMS, cycloalkane=True):
        return True
    if _alkyl_carbon_tail(s, lambda r: _ring_system_with_univalent(r, ("c1ccccc1",), True), 1):
        return True
    if _linked(s, (2,), lambda r: _ring_system_with_univalent(r, (), True)):
        return True
    return _amino_acid_residue(s)


def jwh018_link(s: Substituent) -> bool:
    """The 'methanone' linking group of the UK 2016 definition or its replacements (ethanone,
    carboxamide, carboxylate, methylene) bearing a :func:`jwh018_ring_group`. The methine
    replacement (indene-type) is not encoded."""
    split = _carbonyl_split(s)
    if split is not None:
        kind, rest = split
        if jwh018_ring_group(rest):
            return True
        if kind == "C":  # ethanone: -C(=O)-CH2-R
            atom = rest.atom(rest.attachments[0][0])
            onward = _onward(rest)
            return (
                not atom.IsInRing()
                and atom.GetTotalNumHs() == 2
                and onward is not None
                and jwh018_ring_group(onward)
            )
        return False
    onward = _after_methylene(s)
    return onward is not None and jwh018_ring_group(onward)


def jwh018_tail(s: Substituent) -> bool:
    """The 'pentyl' sub-structure of the UK 2016 definition and its permitted replacements:
    alkyl, alkenyl, benzyl, cycloalkylmethyl, cycloalkylethyl, (N-methylpiperidin-2-yl)methyl,
    (tetrahydropyran-4-yl)methyl or 2-(morpholin-4-yl)ethyl. Univalent groups are read narrowly:
    halogen, cyano or hydroxy on the chains (5-fluoropentyl, 4-cyanobutyl), any univalent group on
    the benzyl ring (4-fluorobenzyl)."""
    return (
        alkyl(s)
        or alkenyl(s)
        or haloalkyl(s)
        or cyanoalkyl(s)
        or hydroxyalkyl(s)
        or cycloalkylmethyl(s)
        or cycloalkylethyl(s)
        or n_methylpiperidin_2_ylmethyl(s)
        or tetrahydropyran_4_ylmethyl(s)
        or morpholin_4_ylethyl(s)
        or _linked(s, (1,), lambda r: _ring_system_with_univalent(r, ("c1ccccc1",), False))
    )


def uk_cannabinoid_tail_2009(s: Substituent) -> bool:
    """UK 2009: alkyl, alkenyl, cycloalkylmethyl, cycloalkylethyl or 2-(4-morpholinyl)ethyl."""
    return alkyl(s) or alkenyl(s) or cycloalkylmethyl(s) or cycloalkylethyl(s) or morpholin_4_ylethyl(s)


def uk_cannabinoid_tail_2013(s: Substituent) -> bool:
    """UK 2013: alkyl, haloalkyl, alkenyl, cyanoalkyl, hydroxyalkyl, cycloalkylmethyl,
    cycloalkylethyl, (N-methylpiperidin-2-yl)methyl or 2-(4-morpholinyl)ethyl."""
    return (
        alkyl(s)
        or haloalkyl(s)
        or alkenyl(s)
        or cyanoalkyl(s)
        or hydroxyalkyl(s)
        or cycloalkylmethyl(s)
        or cycloalkylethyl(s)
        or n_methylpiperidin_2_ylmethyl(s)
        or morpholin_4_ylethyl(s)
    )


# bridges: substituents bonded to the core at two or more points


def alkylenedioxy(s: Substituent) -> bool:
    """-O-(CH2)n-O- across two core atoms (methylenedioxy, ethylenedioxy)."""
    if len(s.attachments) != 2 or not s.saturated() or not s.elements <= {6, 8}:
        return False
    heads = {own for own, _, _ in s.attachments}
    oxygens = {i for i in s.atoms if s.atom(i).GetAtomicNum() == 8}
    return heads == oxygens and len(oxygens) == 2 and not s.in_ring()


def alkylene(s: Substituent) -> bool:
    """Saturated hydrocarbon chain closing a ring through the core (pyrrolidine from N)."""
    return len(s.attachments) >= 2 and _hydrocarbon(s) and s.saturated() and not s.in_ring()


def ring_closure(s: Substituent) -> bool:
    """Any chain that closes a ring through the core."""
    return len(s.attachments) >= 2


def benzyl_ring_substituted(s: Substituent) -> bool:
    """-CH2- bonded to a benzene ring that carries any substituents, fused rings included
    (the CDSA's 'benzyl (or benzyl substituted to any extent)'; the CH2 itself unsubstituted)."""
    if not _singly_attached(s, 6):
        return False
    head = s.atom(s.single_attachment()[0])  # type: ignore[index]
    if head.GetIsAromatic() or head.GetTotalNumHs() != 2 or head.GetDegree() != 2:
        return False
    (ring_atom,) = [n for n in head.GetNeighbors() if n.GetIdx() in s.atoms]
    rings = s.mol.GetRingInfo().AtomRings()
    return any(
        ring_atom.GetIdx() in ring and len(ring) == 6 and _is_benzene(s.mol, frozenset(ring)) for ring in rings
    )


def oxacycle_closure(s: Substituent) -> bool:
    """The rest of a furan, dihydrofuran, pyran or dihydropyran ring (two or three unsubstituted
    carbons), or of a methylenedioxy ring (-CH2-O-), closing a ring from a core ring oxygen back to
    the neighbouring benzene carbon."""
    if len(s.attachments) != 2 or s.in_ring() or any(s.atom(i).GetDegree() != 2 for i in s.atoms):
        return False
    if s.elements == {6}:
        return len(s.atoms) in (2, 3)
    if s.elements == {6, 8} and len(s.atoms) == 2:
        oxygen = next(i for i in s.atoms if s.atom(i).GetAtomicNum() == 8)
        return any(own == oxygen and s.mol.GetAtomWithIdx(core).GetIsAromatic() for own, core, _ in s.attachments)
    return False


GROUPS: dict[str, Callable[[Substituent], bool]] = {
    "alkyl": alkyl,
    "cycloalkyl": cycloalkyl,
    "alkenyl": alkenyl,
    "alkynyl": alkynyl,
    "haloalkyl": haloalkyl,
    "halide": halide,
    "hydroxy": hydroxy,
    "alkoxy": alkoxy,
    "haloalkoxy": haloalkoxy,
    "alkylthio": alkylthio,
    "amino": amino,
    "nitro": nitro,
    "cyano": cyano,
    "oxo": oxo,
    "ether": ether,
    "ester": ester,
    "acyl": acyl,
    "alkylcarbonyl": alkylcarbonyl,
    "cycloalkylcarbonyl": cycloalkylcarbonyl,
    "alkoxycarbonyl": alkoxycarbonyl,
    "alkoxyalkyl": alkoxyalkyl,
    "acyloxy": acyloxy,
    "aryloxy": aryloxy,
    "carboxy": carboxy,
    "carbon_group": carbon_group,
    "monocycle": monocycle,
    "aromatic_monocycle": aromatic_monocycle,
    "univalent": univalent,
    "any": anything,
    "hydroxyalkyl": hydroxyalkyl,
    "cyanoalkyl": cyanoalkyl,
    "cycloalkylmethyl": cycloalkylmethyl,
    "cycloalkylethyl": cycloalkylethyl,
    "phenylalkyl_c1_4": phenylalkyl_c1_4,
    "phenyl": phenyl,
    "benzyl": benzyl,
    "phenethyl": phenethyl,
    "allyl": allyl,
    "propargyl": propargyl,
    "n_methylpiperidin_2_ylmethyl": n_methylpiperidin_2_ylmethyl,
    "morpholin_4_ylethyl": morpholin_4_ylethyl,
    "tetrahydropyran_4_ylmethyl": tetrahydropyran_4_ylmethyl,
    "trifluoromethyl": trifluoromethyl,
    "trifluoromethoxy": trifluoromethoxy,
    "methoxy": methoxy,
    "methylthio": methylthio,
    "benzyloxy": benzyloxy,
    "carboxamido": carboxamido,
    "dihydrogen_phosphate": dihydrogen_phosphate,
    "succinyloxy": succinyloxy,
    "dimethylcarbamoyl": dimethylcarbamoyl,
    "dialkylaminomethyl_or_ethyl": dialkylaminomethyl_or_ethyl,
    "cyclopropylmethyl": cyclopropylmethyl,
    "cyclopropyl": cyclopropyl,
    "acetoxy": acetoxy,
    "ethoxycarbonyl": ethoxycarbonyl,
    "hydroxymethyl_or_1_hydroxyethyl": hydroxymethyl_or_1_hydroxyethyl,
    "thioxo": thioxo,
    "trifluoroethyl": trifluoroethyl,
    "uk_cannabinoid_tail_2009": uk_cannabinoid_tail_2009,
    "uk_cannabinoid_tail_2013": uk_cannabinoid_tail_2013,
    "jwh018_tail": jwh018_tail,
    "jwh018_link": jwh018_link,
    "jwh018_ring_group": jwh018_ring_group,
    "npsg_cannabinoid_bridge": npsg_cannabinoid_bridge,
    "npsg_side_chain": npsg_side_chain,
    # bridges
    "alkylenedioxy": alkylenedioxy,
    "methylenedioxy": methylenedioxy,
    "ethylenedioxy": ethylenedioxy,
    "alkylene": alkylene,
    "alkylene_c4_c5": alkylene_c4_c5,
    "alkylene_c4": alkylene_c4,
    "n_ring_small": n_ring_small,
    "morpholino_pyrrolidino_piperidino": morpholino_pyrrolidino_piperidino,
    "morpholino_or_pyrrolidino": morpholino_or_pyrrolidino,
    "dimethylazetidine": dimethylazetidine,
    "ring_closure": ring_closure,
    "benzyl_ring_substituted": benzyl_ring_substituted,
    "oxacycle_closure": oxacycle_closure,
    **RING_CLAUSES,
}
"""The group vocabulary: names usable in ``sites`` and ``bridges`` of a definition."""

for _base, _sizes in (
    (alkyl, (1, 2, 3, 4, 5, 6, 7, 10)),
    (alkenyl, (6, 10)),
    (alkynyl, (6, 10)),
    (alkoxy, (4, 6, 10)),
    (alkylthio, (4, 6, 10)),
    (haloalkyl, (6,)),
    (cycloalkyl, (6, 10)),
    (alkylcarbonyl, (4, 6)),
    (cycloalkylcarbonyl, (7,)),
    (alkoxycarbonyl, (10,)),
    (cycloalkylmethyl, (6, 7)),
    (hydroxyalkyl, (2,)),
    (alkylene, (6,)),
):
    for _size in _sizes:
        _bounded = _at_most(_base, _size)
        GROUPS[_bounded.__name__] = _bounded


def _components(mol: Chem.Mol, atoms: frozenset[int] | set[int]) -> list[set[int]]:
    remaining = set(atoms)
    parts = []
    while remaining:
        start = remaining.pop()
        part, frontier = {start}, [start]
        while frontier:
            for neighbor in mol.GetAtomWithIdx(frontier.pop()).GetNeighbors():
                index = neighbor.GetIdx()
                if index in remaining:
                    remaining.remove(index)
                    part.add(index)
                    frontier.append(index)
        parts.append(part)
    return parts


@dataclass(frozen=True)
class Bridge:
    sites: tuple[int, ...]  # sorted multiset
    groups: frozenset[str]


@dataclass(frozen=True)
class GenericDefinition:
    id: str
    jurisdiction: str
    instrument: str
    schedule: str
    effective: date
    drug_class: str
    citation: str
    core: Chem.Mol
    sites: dict[int, frozenset[str]]
    bridges: tuple[Bridge, ...] = ()
    excluded: frozenset[str] = frozenset()  # InChIKey skeletons of compounds the law names as not covered
    summary: str = ""
    high_harm: bool = False
    exempts_medicines: bool = False  # the law does not apply to medicinal products (NpSG section 1(2))
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    core_smarts: str = ""
    _site_of_query_atom: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    _core_bonds: frozenset[tuple[int, int]] = field(default_factory=frozenset, compare=False, repr=False)
    _skeleton: Chem.Mol = field(default_factory=Chem.Mol, compare=False, repr=False)
    _core_screen: DataStructs.ExplicitBitVect | None = field(default=None, compare=False, repr=False)

    def in_force(self, on: date) -> bool:
        return self.effective <= on

    def covers(
        self,
        mol: Chem.Mol,
        skeleton_key: str | None = None,
        tautomers: bool = True,
        molecule_screen: DataStructs.ExplicitBitVect | None = None,
    ) -> tuple[int, ...] | None:
        """Atoms of ``mol`` matching the core, when ``mol`` is covered; else None.

        A tautomer of ``mol`` that the definition covers counts too (the same substance drawn
        another way: standardization may pick a tautomer the law's drawing does not use). The
        atom indices returned are those of ``mol``. Excluded compounds are recognized by
        ``skeleton_key`` (first InChIKey block), computed from ``mol`` when not given.
        ``tautomers=False`` checks the drawn form only (cheap; for evidence, not verdicts).
        """
        if self.excluded:
            if skeleton_key is None:
                skeleton_key = Chem.MolToInchiKey(mol).split("-")[0]
            if skeleton_key in self.excluded:
                return None
        found = self._covers_form(mol, molecule_screen)
        if found is not None or not tautomers or not mol.HasSubstructMatch(self._skeleton):
            return found
        for tautomer in _tautomers(mol):
            found = self._covers_form(tautomer)
            if found is not None:
                return found
        return None

    def _covers_form(self, mol: Chem.Mol, molecule_screen=None) -> tuple[int, ...] | None:
        screened_out = self._core_screen is not None and not may_contain(molecule_screen, self._core_screen)
        if screened_out or not mol.HasSubstructMatch(self.core):
            return None
        for match in mol.GetSubstructMatches(self.core, uniquify=False, maxMatches=MAX_CORE_MATCHES):
            if self._permitted(mol, match):
                return tuple(match)
        return None

    def _permitted(self, mol: Chem.Mol, match: tuple[int, ...]) -> bool:
        core_atoms = set(match)
        site_of = {match[q]: s for q, s in self._site_of_query_atom.items()}
        # a bond between two core atoms that the core does not have is a modification too
        for bond in mol.GetBonds():
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            if a in core_atoms and b in core_atoms:
                qa, qb = match.index(a), match.index(b)
                if (min(qa, qb), max(qa, qb)) not in self._core_bonds:
                    return False
        outside = set(range(mol.GetNumAtoms())) - core_atoms
        for part in _components(mol, outside):
            attachments = []
            for index in part:
                for neighbor in mol.GetAtomWithIdx(index).GetNeighbors():
                    if neighbor.GetIdx() in core_atoms:
                        bond = mol.GetBondBetweenAtoms(index, neighbor.GetIdx())
                        attachments.append((index, neighbor.GetIdx(), bond.GetBondType()))
            sites = [site_of.get(core_atom) for _, core_atom, _ in attachments]
            if any(site is None for site in sites):
                return False
            group = Substituent(mol, frozenset(part), tuple(attachments))
            if len(attachments) == 1:
                allowed = self.sites.get(sites[0], frozenset())  # type: ignore[arg-type]
            else:
                key = tuple(sorted(sites))  # type: ignore[type-var]
                allowed = frozenset().union(*(b.groups for b in self.bridges if b.sites == key))
            if not any(GROUPS[name](group) for name in allowed):
                return False
        return True


def parse_definition(entry: dict, source: str = "generic definition") -> GenericDefinition:
    where = f"{source}: {entry.get('id', '?')}"
    for key in ("id", "jurisdiction", "instrument", "effective", "class", "citation", "core"):
        if not entry.get(key):
            raise GenericDataError(f"{where}: missing {key}")
    if entry["class"] not in CLASSES:
        raise GenericDataError(f"{where}: class {entry['class']!r} not in the class vocabulary")
    core = Chem.MolFromSmarts(entry["core"])
    if core is None:
        raise GenericDataError(f"{where}: unreadable core SMARTS")
    sites: dict[int, frozenset[str]] = {}
    for number, groups in entry.get("sites", {}).items():
        unknown = set(groups) - GROUPS.keys()
        if unknown:
            raise GenericDataError(f"{where}: unknown groups {sorted(unknown)}; known: {sorted(GROUPS)}")
        sites[int(number)] = frozenset(groups)
    bridges = []
    for bridge in entry.get("bridges", []):
        unknown = set(bridge["groups"]) - GROUPS.keys()
        if unknown:
            raise GenericDataError(f"{where}: unknown groups {sorted(unknown)}")
        bridges.append(Bridge(tuple(sorted(int(s) for s in bridge["sites"])), frozenset(bridge["groups"])))
    site_of_query_atom = {atom.GetIdx(): atom.GetAtomMapNum() for atom in core.GetAtoms() if atom.GetAtomMapNum()}
    labelled = set(site_of_query_atom.values())
    for number in list(sites) + [s for b in bridges for s in b.sites]:
        if number not in labelled:
            raise GenericDataError(f"{where}: site {number} labels no core atom")
    excluded = set()
    for smiles in entry.get("excluded", []):
        mol = Chem.MolFromSmiles(smiles.split()[0])
        if mol is None:
            raise GenericDataError(f"{where}: unreadable excluded SMILES {smiles!r}")
        excluded.add(Chem.MolToInchiKey(mol).split("-")[0])
    core_bonds = frozenset(
        (min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
        for b in core.GetBonds()
    )
    return GenericDefinition(
        id=entry["id"],
        jurisdiction=entry["jurisdiction"],
        instrument=entry["instrument"],
        schedule=str(entry.get("schedule", "")),
        effective=date.fromisoformat(str(entry["effective"])),
        drug_class=entry["class"],
        citation=entry["citation"],
        core=core,
        sites=sites,
        bridges=tuple(bridges),
        excluded=frozenset(excluded),
        summary=entry.get("summary", ""),
        high_harm=bool(entry.get("high_harm", False)),
        exempts_medicines=bool(entry.get("exempts_medicines", False)),
        examples=tuple(entry.get("examples", [])),
        counterexamples=tuple(entry.get("counterexamples", [])),
        core_smarts=entry["core"],
        _site_of_query_atom=site_of_query_atom,
        _core_bonds=core_bonds,
        _skeleton=_skeleton(core),
        _core_screen=screen(core),
    )


def load_definitions(paths: Iterable[Path] | None = None) -> list[GenericDefinition]:
    """Definitions from TOML files, or the bundled ``chem/data/generic/*.toml``."""
    if paths is None:
        return list(_bundled_definitions())
    definitions: list[GenericDefinition] = []
    for path in paths:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
        definitions.extend(parse_definition(e, str(path)) for e in document.get("definition", []))
    return definitions


@cache
def _bundled_definitions() -> tuple[GenericDefinition, ...]:
    folder = resources.files("chem").joinpath("data/generic")
    definitions: list[GenericDefinition] = []
    if not folder.is_dir():
        return ()
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            document = tomllib.loads(item.read_text(encoding="utf-8"))
            definitions.extend(parse_definition(e, item.name) for e in document.get("definition", []))
    ids = [d.id for d in definitions]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise GenericDataError(f"duplicate generic definition ids: {sorted(duplicates)}")
    return tuple(definitions)
