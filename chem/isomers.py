"""Positional isomers as the US Controlled Substances Act defines them (21 CFR 1300.01).

For the hallucinogens of Schedule I (21 CFR 1308.11(d)) "isomer" includes the positional
isomer: a substance with the same molecular formula and core structure and the same functional
groups and substituents as the listed hallucinogen, attached at any positions on the core, provided
no chemical functionality is created or destroyed; alkyl groups may be rearranged, divided or
combined on the same terms. The core is the parent of the class: phenethylamine, tryptamine, ...

Executable reading, narrow where the definition needs judgement:

* the same molecular formula;
* the same core, one of :data:`CORES`, and the same ring scaffold (Bemis-Murcko, atoms and bonds
  as drawn), so that ring systems are neither made nor broken;
* the same count of every functional group in :data:`FUNCTIONAL_GROUPS`, amines by degree:
  moving an alpha-methyl group onto the nitrogen turns a primary amine into a secondary one, a new
  functionality, and is not claimed; methoxy and ethyl to ethoxy and methyl keeps one aryl ether
  and is claimed, as the definition's own example says.

>>> from rdkit import Chem
>>> dma_25 = Chem.MolFromSmiles("COc1ccc(OC)c(CC(C)N)c1")   # 2,5-DMA, listed
>>> dma_34 = Chem.MolFromSmiles("COc1ccc(CC(C)N)cc1OC")     # 3,4-DMA
>>> signature(dma_25) == signature(dma_34)
True
>>> signature(Chem.MolFromSmiles("CNC(C)Cc1ccc(OC)cc1")) == signature(Chem.MolFromSmiles("COc1ccc(CC(C)N)cc1C"))
False
"""

from __future__ import annotations

from functools import cache

from rdkit import Chem
from rdkit.Chem import rdMolDescriptors
from rdkit.Chem.Scaffolds import MurckoScaffold

CLAUSE = "positional_isomers"

CORES: dict[str, str] = {
    "phenethylamine": "c-[CX4;!R]-[CX4;!R]-[NX3;!$(N-C=O)]",
    "tryptamine": "c1ccc2c(c1)c(-[CX4;!R]-[CX4;!R]-[NX3;!$(N-C=O)])c[nX3]2",
    "arylcyclohexylamine": "[NX3]-[CX4;R1]1(-a)-[CX4;R1]-[CX4;R1]-[CX4;R1]-[CX4;R1]-[CX4;R1]-1",
    "ergoline": "c1ccc2c3c1C~C1~C(~C3)~N~C~C~C1~c2",
}

FUNCTIONAL_GROUPS: dict[str, str] = {
    "primary_amine": "[NX3;H2;!$(N-C=O);!$(N-a)]",
    "secondary_amine": "[NX3;H1;!$(N-C=O);!$(N-a);!a]",
    "tertiary_amine": "[NX3;H0;!$(N-C=O);!$(N-a);!$(N=*);!$(N-[O,N]);!a]",
    "aniline_nitrogen": "[NX3;!$(N-C=O);$(N-a);!a]",
    "aromatic_nh": "[nH]",
    "aryl_ether": "[OX2;!R](-c)-[CX4]",
    "ring_aryl_ether": "[OX2;R](-c)-[CX4]",
    "dialkyl_ether": "[OX2](-[CX4])-[CX4]",
    "phenol": "[OX2H]-c",
    "alcohol": "[OX2H]-[CX4]",
    "aryl_thioether": "[SX2](-c)-[CX4]",
    "dialkyl_thioether": "[SX2](-[CX4])-[CX4]",
    "fluoro": "[F]",
    "chloro": "[Cl]",
    "bromo": "[Br]",
    "iodo": "[I]",
    "nitro": "[N+](=O)[O-]",
    "nitrile": "C#N",
    "ketone": "[CX3](=O)([#6])[#6]",
    "aldehyde": "[CX3H1](=O)[#6]",
    "carboxylic_acid": "[CX3](=O)[OX2H1]",
    "ester": "[CX3](=O)[OX2][#6]",
    "amide": "[CX3](=O)[NX3]",
    "alkene": "[CX3;!a]=[CX3;!a]",
    "alkyne": "[CX2]#[CX2]",
    "phosphate": "P(=O)(O)O",
    "aromatic_ring_atom_n": "[n]",
    "aromatic_ring_atom_o": "[o]",
    "aromatic_ring_atom_s": "[s]",
}


@cache
def _patterns() -> tuple[tuple[str, Chem.Mol], ...]:
    return tuple((name, Chem.MolFromSmarts(smarts)) for name, smarts in FUNCTIONAL_GROUPS.items())


@cache
def _cores() -> tuple[tuple[str, Chem.Mol], ...]:
    return tuple((name, Chem.MolFromSmarts(smarts)) for name, smarts in CORES.items())


def core_of(mol: Chem.Mol) -> str | None:
    """The class core the molecule is built on, or None."""
    for name, pattern in _cores():
        if mol.HasSubstructMatch(pattern):
            return name
    return None


def signature(mol: Chem.Mol) -> tuple | None:
    """What positional isomers share: formula, core, ring scaffold, functional-group counts.

    None when the molecule is built on none of the cores (no positional-isomer claim is made).
    """
    core = core_of(mol)
    if core is None:
        return None
    flat = Chem.Mol(mol)
    Chem.RemoveStereochemistry(flat)
    scaffold = Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(flat))
    groups = tuple(len(flat.GetSubstructMatches(pattern)) for _, pattern in _patterns())
    return rdMolDescriptors.CalcMolFormula(flat), core, scaffold, groups


@cache
def signature_of(smiles: str) -> tuple | None:
    """:func:`signature` of a reference structure, computed once per SMILES."""
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else signature(mol)
