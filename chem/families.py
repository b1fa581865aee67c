"""Drug families as structure rules: SMARTS patterns with exclusions.

A family rule is evidence for the ``analog`` verdict ("this belongs to a known
drug family"), never a legal control; legal generic definitions live in
:mod:`chem.generic`.

>>> rules = {r.id: r for r in load_families()}
>>> from rdkit import Chem, DataStructs
>>> rules["fentanyl"].matches(Chem.MolFromSmiles("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"))
True
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from rdkit import Chem, DataStructs

from chem.classes import CLASSES
from chem.screening import may_contain, screen


class FamilyDataError(ValueError):
    """A family rule in the data file is malformed."""


@dataclass(frozen=True)
class FamilyRule:
    id: str
    name: str
    drug_class: str
    high_harm: bool
    patterns: tuple[Chem.Mol, ...]
    exclude: tuple[Chem.Mol, ...]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    citation: str
    screens: tuple[DataStructs.ExplicitBitVect, ...] = field(default=(), compare=False, repr=False)

    def matching_atoms(
        self, mol: Chem.Mol, screen: DataStructs.ExplicitBitVect | None = None
    ) -> tuple[int, ...] | None:
        """Atoms of ``mol`` matched by the first matching pattern, or None.

        ``screen``, the molecule's :func:`chem.screening.screen`, lets patterns it
        certainly lacks be skipped without a substructure search.
        """
        candidates = [
            pattern
            for index, pattern in enumerate(self.patterns)
            if not self.screens or may_contain(screen, self.screens[index])
        ]
        # the exclusions are searched only once a pattern has matched: most molecules match none
        hit = next((found for found in map(mol.GetSubstructMatch, candidates) if found), None)
        if hit is None or self.excludes(mol):
            return None
        return tuple(hit)

    def matches(self, mol: Chem.Mol) -> bool:
        return self.matching_atoms(mol) is not None

    def excludes(self, mol: Chem.Mol) -> bool:
        """Whether one of the rule's exclusions matches ``mol``: its authors put this chemotype outside.

        An exclusion drawn with stereo excludes only that configuration (the dextro-morphinans);
        a structure drawn without stereo is not excluded by it, since it may be the other one.
        """
        return any(mol.HasSubstructMatch(excluded, useChirality=True) for excluded in self.exclude)


def _smarts(text: str, where: str) -> Chem.Mol:
    pattern = Chem.MolFromSmarts(text)
    if pattern is None:
        raise FamilyDataError(f"{where}: unreadable SMARTS {text!r}")
    return pattern


def _strings(entry: dict, key: str, where: str) -> tuple[str, ...]:
    # A bare string where a list is expected would otherwise be iterated
    # character by character: `patterns = "C"` silently becoming one-atom SMARTS.
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FamilyDataError(f"{where}: {key} must be a list of strings, got {value!r}")
    return tuple(value)


def parse_families(document: dict, source: str = "families.toml") -> list[FamilyRule]:
    rules = []
    seen: set[str] = set()
    for entry in document.get("family", []):
        rule_id = entry.get("id", "")
        where = f"{source}: family {rule_id or '?'}"
        if not rule_id or rule_id in seen:
            raise FamilyDataError(f"{where}: missing or duplicate id")
        seen.add(rule_id)
        if entry.get("class") not in CLASSES:
            raise FamilyDataError(f"{where}: class {entry.get('class')!r} is not one of {sorted(CLASSES)}")
        patterns = _strings(entry, "patterns", where)
        if not patterns:
            raise FamilyDataError(f"{where}: no patterns")
        high_harm = entry.get("high_harm", False)
        if not isinstance(high_harm, bool):
            # bool("false") is True: a quoted flag would raise every alert's severity
            raise FamilyDataError(f"{where}: high_harm must be true or false, got {high_harm!r}")
        compiled = tuple(_smarts(p, where) for p in patterns)
        rules.append(
            FamilyRule(
                id=rule_id,
                name=entry.get("name", rule_id),
                drug_class=entry["class"],
                high_harm=high_harm,
                patterns=compiled,
                exclude=tuple(_smarts(p, where) for p in _strings(entry, "exclude", where)),
                examples=_strings(entry, "examples", where),
                counterexamples=_strings(entry, "counterexamples", where),
                citation=entry.get("citation", ""),
                screens=tuple(screen(p) for p in compiled),
            )
        )
    return rules


def load_families(path: Path | None = None) -> list[FamilyRule]:
    """Family rules from ``path``, or the bundled ``chem/data/families.toml``."""
    if path is None:
        return list(_bundled_families())
    with open(path, "rb") as handle:
        return parse_families(tomllib.load(handle), str(path))


@cache
def _bundled_families() -> tuple[FamilyRule, ...]:
    text = resources.files("chem").joinpath("data/families.toml").read_bytes()
    return tuple(parse_families(tomllib.loads(text.decode("utf-8"))))
