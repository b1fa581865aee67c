"""Substructure screening: skip a substructure search that cannot succeed.

RDKit's pattern fingerprint of a query (SMARTS) only sets bits that every
molecule containing it also sets, so a query whose bits a molecule lacks
cannot match it; the rule and definition checks run for most molecules and
most of them can be skipped this way. A :class:`ScreenIndex` holds the screens
of many queries and tests them against one molecule in a single step.

>>> from rdkit import Chem
>>> amine = screen(Chem.MolFromSmarts("c1ccccc1CCN"))
>>> may_contain(screen(Chem.MolFromSmiles("CNC(C)Cc1ccccc1")), amine)
True
>>> may_contain(screen(Chem.MolFromSmiles("OCCO")), amine)
False
>>> index = ScreenIndex([amine, screen(Chem.MolFromSmarts("OCCO"))])
>>> index.possible(screen(Chem.MolFromSmiles("OCCOCCN"))).tolist()
[False, True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem, DataStructs

from chem.similarity import packed

SCREEN_BITS = 2048


def screen(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return Chem.PatternFingerprint(mol, fpSize=SCREEN_BITS)


def may_contain(
    molecule_screen: DataStructs.ExplicitBitVect | None, query_screen: DataStructs.ExplicitBitVect
) -> bool:
    """False only when the query certainly does not occur in the molecule."""
    return molecule_screen is None or DataStructs.AllProbeBitsMatch(query_screen, molecule_screen)


class ScreenIndex:
    """The screens of many queries, tested against a molecule's screen all at once."""

    def __init__(
        self, query_screens: Sequence[DataStructs.ExplicitBitVect], words: np.ndarray | None = None
    ) -> None:
        """From the screens, or from their ``words`` (:func:`chem.similarity.packed`) kept from an earlier run."""
        self.words = packed(query_screens) if words is None else words

    def __len__(self) -> int:
        return len(self.words)

    def possible(self, molecule_screen: DataStructs.ExplicitBitVect | None) -> np.ndarray:
        """For each query, :func:`may_contain` of the molecule: False only where it certainly does not occur."""
        if molecule_screen is None or not len(self):
            return np.ones(len(self), dtype=bool)
        lacking = self.words & ~packed([molecule_screen])[0]
        return ~lacking.any(axis=1)
