"""Build ``drugcentral.csv`` from a checkout of unmtransinfo/DrugCentral-2023.

The source files (``drugcen/static/direct/structures.smiles.tsv`` and the
approval lists ``drugcen/static/{FDA,EMA,PMDA}_Approved.csv``) are read from a
work tree or a bare git directory; every structure-bearing active ingredient
becomes one row with its approvals and the DrugCentral drug card it comes
from. The output is sorted by DrugCentral id, so a rebuild from the same
commit gives the same file. ``--seed`` then writes ``standardized-seed.json``,
the standardized forms of every bundled structure, so that no installation
repeats the tautomer search for them. The data are CC BY-SA 4.0 (see
``DRUGCENTRAL-LICENSE.md``); so is the file this script writes.

Run from the repository root: ``python -m chem.data.build_drugcentral PATH-TO-DrugCentral-2023``.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import subprocess
import sys
from pathlib import Path

from rdkit import Chem, rdBase
from rdkit.Chem import rdMolDescriptors

from chem.library import _bundled_text
from chem.read import MAX_HEAVY_ATOMS

STRUCTURES = "drugcen/static/direct/structures.smiles.tsv"
APPROVALS = {
    "FDA": "drugcen/static/FDA_Approved.csv",
    "EMA": "drugcen/static/EMA_Approved.csv",
    "PMDA": "drugcen/static/PMDA_Approved.csv",
}
COLUMNS = (
    "id",
    "name",
    "smiles",
    "formula",
    "inchikey",
    "cas",
    "approvals",
    "atc",
    "category",
    "citation",
    "notes",
)
CITATION = (
    "DrugCentral 2023 (Avram et al., Nucleic Acids Res. 51 (2023) D1276-D1287; CC BY-SA 4.0), "
    "drug card {id}: https://drugcentral.org/drugcard/{id}"
)


def read_source(root: Path, path: str) -> str:
    """A file of the DrugCentral repository, from a work tree or a bare git directory."""
    if (root / path).exists():
        return (root / path).read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "--git-dir", str(root), "show", f"HEAD:{path}"], capture_output=True, check=True, text=True
    )
    return shown.stdout


def source_commit(root: Path) -> str:
    git_dir = root if not (root / ".git").exists() else root / ".git"
    done = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def approvals(root: Path) -> dict[str, list[str]]:
    """DrugCentral structure id -> the agencies whose approval list holds it."""
    found: dict[str, list[str]] = {}
    for agency, path in APPROVALS.items():
        for row in csv.reader(io.StringIO(read_source(root, path))):
            if row and row[0].strip().isdigit():
                found.setdefault(row[0].strip(), []).append(agency)
    return found


def slug(name: str, number: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80].strip("-")
    return f"dc{number}-{text}" if text else f"dc{number}"


def rows(root: Path) -> list[dict[str, str]]:
    approved = approvals(root)
    result = []
    reader = csv.DictReader(io.StringIO(read_source(root, STRUCTURES)), delimiter="\t")
    for source in reader:
        number, smiles = source["ID"].strip(), source["SMILES"].strip()
        mol = Chem.MolFromSmiles(smiles) if smiles else None
        if mol is None:
            continue  # no structure, or one RDKit cannot read: not a structure-bearing row
        if mol.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
            continue  # peptides and polymers beyond what ews accepts as a query could never match
        key = Chem.MolToInchiKey(mol)
        notes = []
        if key and source["InChIKey"].strip() and key != source["InChIKey"].strip():
            notes.append(f"RDKit InChIKey {key} differs from DrugCentral's")
        result.append(
            {
                "id": slug(source["INN"], number),
                "name": source["INN"].strip(),
                "smiles": smiles,
                "formula": rdMolDescriptors.CalcMolFormula(mol),
                "inchikey": source["InChIKey"].strip() or key,
                "cas": source["CAS_RN"].strip(),
                "approvals": ";".join(approved.get(number, [])),
                "atc": "",  # the public repository files carry no ATC codes
                "category": "medicine",
                "citation": CITATION.format(id=number),
                "notes": "; ".join(notes),
            }
        )
    result.sort(key=lambda row: int(row["id"][2:].split("-")[0]))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="DrugCentral-2023 work tree or bare git directory")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("drugcentral.csv"))
    parser.add_argument(
        "--seed",
        action="store_true",
        help="then standardize every bundled structure into the shipped seed cache (standardized-seed.json)",
    )
    args = parser.parse_args(argv)
    rdBase.DisableLog("rdApp.*")
    built = rows(args.source)
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(built)
    agencies = sum(bool(r["approvals"]) for r in built)
    print(
        f"{len(built)} structures ({agencies} with an FDA, EMA or PMDA approval) from commit "
        f"{source_commit(args.source)} -> {args.out}",
        file=sys.stderr,
    )
    if args.seed:
        from chem.library import SEED, bundled_substances, write_seed

        _bundled_text.cache_clear()
        count = write_seed(args.out.with_name(SEED), bundled_substances())
        print(f"{count} standardized structures -> {args.out.with_name(SEED)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
