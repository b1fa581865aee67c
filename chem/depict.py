"""Structure drawings: a 2D depiction of a SMILES as PNG bytes, for e-mails and web pages.

Drawn by RDKit's Cairo renderer in memory. Builds of RDKit without Cairo
have no ``MolDraw2DCairo``; there, and for SMILES that cannot be read, the
answer is None and the caller goes without a picture.

>>> import struct
>>> drawing = png("CCN(CC)CCn1c(Cc2ccc(OC(C)C)cc2)nc2cc([N+](=O)[O-])ccc21")
>>> drawing[:8] == PNG_SIGNATURE
True
>>> struct.unpack(">II", drawing[16:24])  # width and height from the IHDR chunk
(400, 300)
>>> struct.unpack(">II", png("c1ccccc1", size=(200, 150))[16:24])
(200, 150)
>>> png("C1CC(C") is None
True
"""

from __future__ import annotations

import re

from rdkit.Chem.Draw import rdMolDraw2D

from chem.errors import StructureError
from chem.read import read_smiles

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 2000
"""Pixels; a larger drawing is refused rather than allocated."""


def png(smiles: str, size: tuple[int, int] = (400, 300)) -> bytes | None:
    """PNG bytes of a 2D drawing of ``smiles``, or None when it cannot be read or drawn here."""
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"size {size!r}: width and height must be between 1 and {MAX_SIDE} pixels")
    if not hasattr(rdMolDraw2D, "MolDraw2DCairo"):
        return None
    try:
        mol = read_smiles(smiles)
    except StructureError:
        return None
    drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def svg(smiles: str, size: tuple[int, int] = (360, 260), highlight: tuple[int, ...] = ()) -> str | None:
    """An SVG drawing of ``smiles`` for web pages; ``highlight`` marks atoms (match evidence).

    Atom indices are those of the SMILES as written (the standardized SMILES
    of a match result, whose ``shared_atoms`` refer to it).

    >>> svg("c1ccccc1O", highlight=(6,)).startswith("<?xml")
    True
    >>> svg("not a molecule") is None
    True
    """
    width, height = size
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"size {size!r}: width and height must be between 1 and {MAX_SIDE} pixels")
    try:
        mol = read_smiles(smiles)
    except StructureError:
        return None
    atoms = [i for i in highlight if 0 <= i < mol.GetNumAtoms()]
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, highlightAtoms=atoms)
    drawer.FinishDrawing()
    return presentation_attributes(drawer.GetDrawingText())


_STYLE = re.compile(r"""style=(['"])([^'"]*)\1""")


def presentation_attributes(drawing: str) -> str:
    """RDKit's ``style='fill:…;stroke:…'`` as SVG presentation attributes (``fill='…' stroke='…'``).

    A page's Content Security Policy forbids inline ``style`` attributes; the
    same properties written as presentation attributes draw the same picture.

    >>> presentation_attributes("<path style='fill:none;stroke:#000000;stroke-width:2.0px' d='M 0,0'/>")
    "<path fill='none' stroke='#000000' stroke-width='2.0px' d='M 0,0'/>"
    """

    def attributes(match: re.Match) -> str:
        pairs = (item.split(":", 1) for item in match.group(2).split(";") if ":" in item)
        return " ".join(f"{name.strip()}='{value.strip()}'" for name, value in pairs)

    return _STYLE.sub(attributes, drawing)
