"""Substructure screening: skip a substructure search that cannot succeed.

RDKit's pattern fingerprint of a query (SMARTS) only sets bits that every
molecule containing it also sets, so a query whose bits a molecule lacks
cannot match it; the rule and definition checks run for most molecules and
most of them can be skipped this way.

>>> from rdkit import Chem
>>> amine = screen(Chem.MolFromSmarts("c1ccccc1CCN"))
>>> may_contain(screen(Chem.MolFromSmiles("CNC(C)Cc1ccccc1")), amine)
True
>>> may_contain(screen(Chem.MolFromSmiles("OCCO")), amine)
False
"""

from __future__ import annotations

from rdkit import Chem, DataStructs


def screen(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return Chem.PatternFingerprint(mol)


def may_contain(
    molecule_screen: DataStructs.ExplicitBitVect | None, query_screen: DataStructs.ExplicitBitVect
) -> bool:
    """False only when the query certainly does not occur in the molecule."""
    return molecule_screen is None or DataStructs.AllProbeBitsMatch(query_screen, molecule_screen)
