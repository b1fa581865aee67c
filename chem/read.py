"""Read SMILES, InChI, Molfile (V2000/V3000) and SDF into RDKit molecules.

Every reader is bounded (text size, heavy atoms) and turns RDKit's complaints
into a :class:`StructureError` a chemist can act on.

>>> Chem.MolToSmiles(read_structure("CN1CCC[C@H]1c1cccnc1"))
'CN1CCC[C@H]1c1cccnc1'
>>> read_structure("C1CC(C")
Traceback (most recent call last):
...
chem.errors.StructureError: SMILES: extra open parentheses at position 5: C1CC(C
>>> read_structure("CC(C)(C)(C)C")
Traceback (most recent call last):
...
chem.errors.StructureError: bad valence on atom 2 (C): 5 bonds, more than carbon allows (atoms numbered from 1 in the order written)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from rdkit import Chem, rdBase

from chem.errors import StructureError

MAX_TEXT_CHARS = 10_000
"""SMILES and InChI longer than this are refused."""
MAX_MOLBLOCK_CHARS = 200_000
"""A Molfile (one SDF record) longer than this is refused."""
MAX_HEAVY_ATOMS = 250
"""Structures with more heavy atoms are refused: no drug of abuse comes close."""
MAX_SMARTS_RECURSIONS = 8
"""Substructure queries with more recursive SMARTS (``$(...)``) are refused: each one is matched again
at every atom of every library structure, so nesting them multiplies the work without bound."""

ATOM_NUMBERING = " (atoms numbered from 1 in the order written)"
"""Messages number atoms from 1, as chemists do; ``shared_atoms`` in match evidence are 0-based indices."""

_PERIODIC_TABLE = Chem.GetPeriodicTable()
_rdkit_log_lock = threading.Lock()


def _element_name(symbol: str) -> str:
    try:
        return _PERIODIC_TABLE.GetElementName(_PERIODIC_TABLE.GetAtomicNumber(symbol)).lower()
    except RuntimeError:
        return symbol


def _captured(call, *args, **kwargs):
    """Run an RDKit call and return (result, its log messages)."""
    with _rdkit_log_lock, rdBase.CaptureErrorLog() as capture:
        result = call(*args, **kwargs)
    lines = [re.sub(r"^\[\d\d:\d\d:\d\d\]\s*", "", line) for line in capture.messages.splitlines()]
    return result, [line for line in lines if line.strip()]


def _check_bounds(text: str, limit: int, what: str) -> str:
    if text is None or not text.strip():
        raise StructureError(f"{what}: empty input; give a structure", code="empty")
    if len(text) > limit:
        raise StructureError(f"{what}: {len(text)} characters, more than the {limit} accepted", code="too_large")
    return text


def _check_atoms(mol: Chem.Mol) -> None:
    heavy = mol.GetNumHeavyAtoms()
    if heavy > MAX_HEAVY_ATOMS:
        raise StructureError(f"{heavy} heavy atoms, more than the {MAX_HEAVY_ATOMS} accepted", code="too_large")
    if heavy == 0:
        raise StructureError("the structure has no heavy atoms", code="empty")


def _sanitize(mol: Chem.Mol) -> Chem.Mol:
    """Sanitize, translating the first chemistry problem into an actionable error."""
    problems, _ = _captured(Chem.DetectChemistryProblems, mol)
    if problems:
        raise _problem_error(mol, problems[0])
    with rdBase.BlockLogs():  # warnings on accepted input ("radical electrons set to zero") are noise
        Chem.SanitizeMol(mol)
    return mol


def _problem_error(mol: Chem.Mol, problem) -> StructureError:
    kind = problem.GetType()
    if kind == "AtomValenceException":
        atom = mol.GetAtomWithIdx(problem.GetAtomIdx())
        atom.UpdatePropertyCache(strict=False)
        valence = atom.GetValence(Chem.ValenceType.EXPLICIT)
        charge = f", charge {atom.GetFormalCharge():+d}" if atom.GetFormalCharge() else ""
        return StructureError(
            f"bad valence on atom {atom.GetIdx() + 1} ({atom.GetSymbol()}{charge}): "
            f"{valence} bonds, more than {_element_name(atom.GetSymbol())} allows{ATOM_NUMBERING}",
            code="valence",
        )
    if kind in ("KekulizeException", "AtomKekulizeException"):
        indices = problem.GetAtomIndices() if kind == "KekulizeException" else (problem.GetAtomIdx(),)
        atoms = ", ".join(f"{i + 1} ({mol.GetAtomWithIdx(i).GetSymbol()})" for i in indices)
        return StructureError(
            f"aromatic ring cannot be kekulized at atoms {atoms}{ATOM_NUMBERING}: check the aromatic atoms, "
            "or mark the pyrrole-type nitrogen with its hydrogen ([nH])",
            code="aromaticity",
        )
    return StructureError(f"unreadable structure: {problem.Message()}", code="unreadable")


_BRACKET_ATOM = re.compile(r"\[(\d*)([A-Za-z][a-z]?)")


def _smiles_syntax_error(text: str, log: list[str]) -> StructureError:
    for match in _BRACKET_ATOM.finditer(text):
        symbol = match.group(2)
        if symbol in ("se", "as", "te", "c", "n", "o", "p", "s", "b"):
            continue
        if symbol not in _KNOWN_SYMBOLS and symbol[:1] not in _KNOWN_SYMBOLS:
            return StructureError(
                f"SMILES: unknown element '{symbol}' at position {match.start(2) + 1}",
                code="unknown_element",
            )
    detail = next((line for line in log if "while parsing" in line or "for input" in line), "")
    position = next((line for line in log if "around position" in line), "")
    reason = re.sub(r"^SMILES Parse Error:\s*", "", detail)
    reason = re.sub(r"\s*(while parsing|for input):.*$", "", reason) or "syntax error"
    where = re.search(r"position (\d+)", position)
    at = f" at position {where.group(1)}" if where else ""
    return StructureError(f"SMILES: {reason}{at}: {text}", code="syntax")


_KNOWN_SYMBOLS = frozenset(_PERIODIC_TABLE.GetElementSymbol(z) for z in range(1, 119)) | {"*"}


def read_smiles(text: str) -> Chem.Mol:
    text = _check_bounds(text, MAX_TEXT_CHARS, "SMILES").strip()
    if any(ch.isspace() for ch in text):
        text = text.split()[0]  # "SMILES name" lines: the name is not part of the structure
    mol, log = _captured(Chem.MolFromSmiles, text, sanitize=False)
    if mol is None:
        raise _smiles_syntax_error(text, log)
    _check_atoms(mol)
    return _sanitize(mol)


def read_inchi(text: str) -> Chem.Mol:
    text = _check_bounds(text, MAX_TEXT_CHARS, "InChI").strip()
    if not text.startswith("InChI="):
        raise StructureError("InChI: must start with 'InChI='", code="syntax")
    mol, log = _captured(Chem.MolFromInchi, text, sanitize=True, removeHs=True, treatWarningAsError=False)
    if mol is None:
        reason = " ".join(line.split(":", 1)[-1].strip() for line in log).strip()
        raise StructureError(f"InChI: {reason or 'not a valid InChI string'}", code="syntax")
    _check_atoms(mol)
    return mol


def read_molblock(text: str) -> Chem.Mol:
    text = _check_bounds(text, MAX_MOLBLOCK_CHARS, "Molfile")  # not stripped: the title line may be blank
    if "M  END" not in text:
        raise StructureError("Molfile: no 'M  END' line; give a V2000 or V3000 Molfile", code="syntax")
    mol, log = _captured(Chem.MolFromMolBlock, text, sanitize=False, removeHs=False, strictParsing=True)
    if mol is None:
        reason = next((line for line in log if line.strip()), "not a valid Molfile")
        raise StructureError(f"Molfile: {reason}", code="syntax")
    _check_atoms(mol)
    mol = _sanitize(mol)
    return Chem.RemoveHs(mol)


def detect_format(text: str) -> str:
    """``inchi``, ``molfile`` or ``smiles`` for one structure's text."""
    stripped = text.lstrip()
    if stripped.startswith("InChI="):
        return "inchi"
    if "M  END" in text or "V2000" in text or "V3000" in text:
        return "molfile"
    return "smiles"


_READERS = {"smiles": read_smiles, "inchi": read_inchi, "molfile": read_molblock}


def read_smarts(text: str) -> Chem.Mol | None:
    """A bounded SMARTS query, or None when ``text`` is not SMARTS (InChI, or unparseable).

    >>> read_smarts("[$(" * 9 + "*" + ")]" * 9)
    Traceback (most recent call last):
    ...
    chem.errors.StructureError: SMARTS: 9 recursive queries ($(...)), more than the 8 accepted
    """
    text = _check_bounds(text, MAX_TEXT_CHARS, "SMARTS").strip()
    if text.startswith("InChI="):
        return None
    recursions = text.count("$(")
    if recursions > MAX_SMARTS_RECURSIONS:
        raise StructureError(
            f"SMARTS: {recursions} recursive queries ($(...)), more than the {MAX_SMARTS_RECURSIONS} accepted",
            code="too_large",
        )
    with rdBase.BlockLogs():
        try:
            pattern = Chem.MolFromSmarts(text)
        except Exception:  # noqa: BLE001 - RDKit raises several types for bad SMARTS
            return None
    if pattern is not None and pattern.GetNumAtoms() > MAX_HEAVY_ATOMS:
        raise StructureError(
            f"SMARTS: {pattern.GetNumAtoms()} query atoms, more than the {MAX_HEAVY_ATOMS} accepted",
            code="too_large",
        )
    return pattern


def read_structure(text: str, fmt: str | None = None) -> Chem.Mol:
    """Read one structure; ``fmt`` is ``smiles``, ``inchi`` or ``molfile`` (guessed when None)."""
    if text is None:
        raise StructureError("empty input; give a structure", code="empty")
    fmt = fmt or detect_format(text)
    try:
        reader = _READERS[fmt]
    except KeyError:
        raise StructureError(
            f"unsupported format {fmt!r}; accepted: smiles, inchi, molfile", code="unsupported_format"
        ) from None
    return reader(text)


@dataclass
class SDFRecord:
    """One record of an SDF file: its title, data items and structure (or the error)."""

    index: int
    title: str
    properties: dict[str, str] = field(default_factory=dict)
    molblock: str = ""
    mol: Chem.Mol | None = None
    error: StructureError | None = None


_PROPERTY_HEADER = re.compile(r"^>.*?<([^>]+)>")


def iter_sdf(text: str) -> Iterator[SDFRecord]:
    """Records of an SDF, each read on its own so that one bad record spares the rest."""
    lines: list[str] = []
    index = 0
    for line in text.splitlines():
        if line.strip() == "$$$$":
            if any(entry.strip() for entry in lines):
                yield _sdf_record(index, lines)
                index += 1
            lines = []
        else:
            lines.append(line)
    if any(entry.strip() for entry in lines):
        yield _sdf_record(index, lines)


def _sdf_record(index: int, lines: list[str]) -> SDFRecord:
    end = next((i for i, line in enumerate(lines) if line.startswith("M  END")), None)
    title = lines[0].strip() if lines else ""
    if end is None:
        return SDFRecord(index, title, error=StructureError("SDF record without an 'M  END' line", code="syntax"))
    molblock = "\n".join(lines[: end + 1]) + "\n"
    properties: dict[str, str] = {}
    key: str | None = None
    values: list[str] = []
    for line in lines[end + 1 :]:
        header = _PROPERTY_HEADER.match(line)
        if header:
            key, values = header.group(1).strip(), []
        elif key is not None and line.strip() == "":
            properties[key] = "\n".join(values)
            key = None
        elif key is not None:
            values.append(line)
    if key is not None:
        properties[key] = "\n".join(values)
    record = SDFRecord(index, title, properties, molblock)
    try:
        record.mol = read_molblock(molblock)
    except StructureError as error:
        record.error = error
    return record
