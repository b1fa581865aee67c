"""Build ``nps_inventory.csv`` from the amberNPS classification set.

Source: ``nps_classification.csv`` of the public repository nutof-pefoce/amberNPS
(MIT licence), the 2,361 new psychoactive substances, as SMILES with their
EUDA (EMCDDA, European Database on New Drugs) substance group, that the
amberNPS application (Correa et al., Emerging Trends in Drugs, Addictions, and
Health 4 (2024) 100151) classifies against. The file is read from a work tree,
a bare git directory (at :data:`PINNED_COMMIT`) or a plain copy, and checked
against :data:`PINNED_BLOB`, its git object id at that commit, so that a
rebuild reproduces this very file.

Every source row becomes one row: its line in the source as ``id``
(``amberNPS:<line>``) and in ``citation``, the SMILES as given, the formula
and InChIKey computed with RDKit, the source group in ``source_class`` and the
drug class of ews's vocabulary (:mod:`chem.classes`) in ``class``. The mapping
is one to one except where ews's vocabulary is finer than the EUDA groups, and
there a structure test decides (:func:`drug_class`): ergolines among the
indolalkylamines are ``lysergamide``, dibenzopyran and cannabidiol-type
structures among the cannabinoids are ``cannabinoid``. The EUDA groups
"Others" (``Unknown`` in the source) and "Plants & extracts" have no
counterpart, so their rows carry no ``class`` and count for recall only.
Names come from ews's own reference files when one of them holds the same
InChIKey; otherwise the row is named by its id (the source has no names).

Run from the repository root:
``python tests/data/validation/build_nps_inventory.py PATH-TO-amberNPS``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors

SOURCE_FILE = "nps_classification.csv"
PINNED_COMMIT = "99ab24a49e84420d9d7e94b791717a42c38fdb59"
PINNED_BLOB = "7c6fc25d7183d9c578ae94a96355e7c07d345aec"
HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent.parent / "chem" / "data"
COLUMNS = ("id", "name", "smiles", "formula", "inchikey", "class", "source_class", "citation")
CITATION = (
    "amberNPS NPS classification set (Correa et al., Emerging Trends Drugs Addict. Health 4 (2024) 100151; "
    "github.com/nutof-pefoce/amberNPS, commit {commit}, nps_classification.csv line {line}; MIT licence), "
    "EUDA substance group '{group}'"
)
GROUPS = {
    "Opioids": "opioid",
    "Cannabinoids": "synthetic_cannabinoid",
    "Cathinones": "cathinone",
    "Phenethylamines": "phenethylamine",
    "Arylcyclohexylamines": "arylcyclohexylamine",
    "Benzodiazepines": "benzodiazepine",
    "Indolalkylamines": "tryptamine",
    "Arylalkylamines": "arylalkylamine",
    "Piperazine derivates": "piperazine",
    "Piperidines & pyrrolidines": "piperidine_pyrrolidine",
    "Aminoindanes": "aminoindane",
    "Unknown": "",  # the EUDA group "Others": no drug class to agree with
    "Plants & extracts": "",
}
# the ergoline ring system, any bond orders (2-oxo-2,3-dihydro metabolites included)
ERGOLINE = Chem.MolFromSmarts(
    "[#6]1~[#6]2~[#6]3~[#6]~[#6]~[#6]~[#6]4~[#7]~[#6]~[#6](~[#6]~3~4)~[#6]~[#6]~2~[#7]~[#6]~[#6]~1"
)
CLASSICAL_CANNABINOID = (
    # dibenzopyran (THC, HHC, HU-210, THCP): benzopyran with the gem-dimethyl ring fused to a carbocycle
    Chem.MolFromSmarts("c1cccc2c1-[#6;R2]1~[#6]~[#6]~[#6]~[#6]~[#6;R2]~1-[#6](-[CH3])(-[CH3])-[#8]-2"),
    # cannabidiol type: a 2,6-dioxygenated aryl (or its quinone) on a p-menthane ring
    Chem.MolFromSmarts(
        "[#8]~[#6]1~[#6]~[#6]~[#6]~[#6](~[#8])~[#6]~1-[#6;R1]1~[#6;R1]~[#6;R1]~[#6;R1]~[#6;R1]~[#6;R1]~1"
    ),
)


def git_blob_id(text: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(text) + text).hexdigest()


def read_source(root: Path) -> bytes:
    """The source file from a plain copy, a work tree or a bare git directory at the pinned commit."""
    if root.is_file():
        return root.read_bytes()
    if (root / SOURCE_FILE).exists():
        return (root / SOURCE_FILE).read_bytes()
    shown = subprocess.run(
        ["git", "--git-dir", str(root), "show", f"{PINNED_COMMIT}:{SOURCE_FILE}"], capture_output=True, check=True
    )
    return shown.stdout


def drug_class(group: str, mol: Chem.Mol) -> str:
    """ews's drug class for a source row: the EUDA group's, refined where ews's vocabulary is finer."""
    if group not in GROUPS:
        raise ValueError(f"source group {group!r} is not one of {sorted(GROUPS)}")
    if group == "Indolalkylamines" and mol.HasSubstructMatch(ERGOLINE):
        return "lysergamide"
    if group == "Cannabinoids" and any(mol.HasSubstructMatch(p) for p in CLASSICAL_CANNABINOID):
        return "cannabinoid"
    return GROUPS[group]


def reference_names() -> dict[str, str]:
    """InChIKey -> a name from ews's own reference and validation files, for readable reports."""
    names: dict[str, str] = {}
    files = [
        DATA / "un_1961.csv",
        DATA / "un_1971.csv",
        DATA / "un_1988.csv",
        DATA / "known.csv",
        DATA / "drugcentral.csv",
        HERE / "nps_positives.csv",
        HERE / "recently_scheduled.csv",
    ]
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = row.get("inchikey", "")
                if not key:
                    mol = Chem.MolFromSmiles(row.get("smiles", ""))
                    key = Chem.MolToInchiKey(mol) if mol is not None else ""
                if key and row.get("name"):
                    names.setdefault(key, row["name"])
    return names


def rows(source: bytes, commit: str = PINNED_COMMIT) -> list[dict[str, str]]:
    names = reference_names()
    result = []
    seen: set[str] = set()
    for line, source_row in enumerate(csv.DictReader(io.StringIO(source.decode("utf-8"))), start=2):
        smiles, group = source_row["SMILES"].strip(), source_row["DrugClass"].strip()
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            print(f"line {line}: unreadable SMILES {smiles!r} left out", file=sys.stderr)
            continue
        key = Chem.MolToInchiKey(mol)
        if key in seen:
            print(f"line {line}: duplicate InChIKey {key} left out", file=sys.stderr)
            continue
        seen.add(key)
        row_id = f"amberNPS:{line}"
        result.append(
            {
                "id": row_id,
                "name": names.get(key, row_id),
                "smiles": smiles,
                "formula": rdMolDescriptors.CalcMolFormula(mol),
                "inchikey": key,
                "class": drug_class(group, mol),
                "source_class": group,
                "citation": CITATION.format(commit=commit[:12], line=line, group=group),
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="amberNPS work tree, bare git directory or the CSV itself")
    parser.add_argument("--out", type=Path, default=HERE / "nps_inventory.csv")
    args = parser.parse_args(argv)
    rdBase.DisableLog("rdApp.*")
    source = read_source(args.source)
    if git_blob_id(source) != PINNED_BLOB:
        print(f"{SOURCE_FILE} is not the pinned version (git blob {PINNED_BLOB})", file=sys.stderr)
        return 1
    built = rows(source)
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(built)
    print(f"{len(built)} NPS from commit {PINNED_COMMIT} -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
