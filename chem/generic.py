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

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from rdkit import Chem

from chem.classes import CLASSES

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
    """Acyclic hydrocarbon with at least one C=C or C#C (allyl, pent-4-enyl)."""
    return (
        _singly_attached(s, 6)
        and _hydrocarbon(s)
        and not s.in_ring()
        and not all(b.GetBondType() == Chem.BondType.SINGLE for b in s.internal_bonds())
        and not any(b.GetIsAromatic() for b in s.internal_bonds())
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
    """-C(=O)O-alkyl or -O-C(=O)-alkyl (acyloxy)."""
    if not _singly_attached(s) or s.in_ring() or not s.elements <= {6, 8}:
        return False
    carbonyl = [b for b in s.internal_bonds() if b.GetBondType() == Chem.BondType.DOUBLE]
    if len(carbonyl) != 1:
        return False
    others = [b for b in s.internal_bonds() if b is not carbonyl[0]]
    return (
        all(b.GetBondType() == Chem.BondType.SINGLE for b in others)
        and sum(1 for i in s.atoms if s.atom(i).GetAtomicNum() == 8) == 2
    )


def acyl(s: Substituent) -> bool:
    """R-C(=O)- where R is hydrogen or any carbon group."""
    if not _singly_attached(s, 6):
        return False
    head = s.single_attachment()[0]  # type: ignore[index]
    atom = s.atom(head)
    return any(
        b.GetBondType() == Chem.BondType.DOUBLE and b.GetOtherAtom(atom).GetAtomicNum() == 8
        for b in atom.GetBonds()
    )


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


GROUPS: dict[str, Callable[[Substituent], bool]] = {
    "alkyl": alkyl,
    "cycloalkyl": cycloalkyl,
    "alkenyl": alkenyl,
    "haloalkyl": haloalkyl,
    "halide": halide,
    "hydroxy": hydroxy,
    "alkoxy": alkoxy,
    "haloalkoxy": haloalkoxy,
    "alkylthio": alkylthio,
    "amino": amino,
    "nitro": nitro,
    "cyano": cyano,
    "ether": ether,
    "ester": ester,
    "acyl": acyl,
    "carbon_group": carbon_group,
    "monocycle": monocycle,
    "aromatic_monocycle": aromatic_monocycle,
    "univalent": univalent,
    "any": anything,
    "alkylenedioxy": alkylenedioxy,
    "alkylene": alkylene,
    "ring_closure": ring_closure,
}


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
    examples: tuple[str, ...] = ()
    counterexamples: tuple[str, ...] = ()
    core_smarts: str = ""
    _site_of_query_atom: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    _core_bonds: frozenset[tuple[int, int]] = field(default_factory=frozenset, compare=False, repr=False)

    def in_force(self, on: date) -> bool:
        return self.effective <= on

    def covers(self, mol: Chem.Mol, skeleton_key: str | None = None) -> tuple[int, ...] | None:
        """Atoms of ``mol`` matching the core, when ``mol`` is covered; else None."""
        if skeleton_key is not None and skeleton_key in self.excluded:
            return None
        if not mol.HasSubstructMatch(self.core):
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
        examples=tuple(entry.get("examples", [])),
        counterexamples=tuple(entry.get("counterexamples", [])),
        core_smarts=entry["core"],
        _site_of_query_atom=site_of_query_atom,
        _core_bonds=core_bonds,
    )


def load_definitions(paths: Iterable[Path] | None = None) -> list[GenericDefinition]:
    """Definitions from TOML files, or the bundled ``chem/data/generic/*.toml``."""
    if paths is None:
        return list(_bundled_definitions())
    definitions = []
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
