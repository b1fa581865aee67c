"""How the laws of the Americas answer for substances whose own listing the engine is not shown.

For each bundled national list (``chem/data/national``) a fixed 15 % of its rows is held out: the
rows whose ``sha256("<jurisdiction>:<id>")`` falls in the lowest 15 of 100 buckets, a split that
depends on nothing but the id. The held-out rows are written, with their sources, to
``tests/data/validation/jurisdictions_holdout.csv`` (``--write``). Each held-out substance is then
matched in its own jurisdiction with a library from which that country's listing of it has been
removed (its other listings stay: the UN conventions, other countries' lists) and counted as

* ``controlled``: still under control there (verdict ``controlled`` or ``precursor``), by a UN
  listing in force or by one of the country's generic definitions (the legal question: would
  the law catch it without the name?);
* ``flagged``: controlled, a precursor, or an analog (the early-warning question);
* anything else (``known``, ``no_match``) is a miss, listed with ``--misses``.

Run: ``python -m bench.jurisdictions [--write] [--misses]``.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

from chem.families import load_families
from chem.generic import load_definitions
from chem.library import ReferenceLibrary, bundled_substances, national_lists, read_csv_rows
from chem.match import match
from chem.standardize import standardize_text

HOLDOUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "validation" / "jurisdictions_holdout.csv"
SHARE = 15  # percent
AS_OF = date(2026, 1, 1)
FIELDS = ("jurisdiction", "id", "name", "smiles", "instrument", "schedule", "controlled_since", "citation")


def held_out(jurisdiction: str, substance_id: str) -> bool:
    digest = hashlib.sha256(f"{jurisdiction}:{substance_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < SHARE


def holdout_rows() -> list[dict[str, str]]:
    """The held-out rows of every bundled national list (one row per substance and jurisdiction)."""
    chosen: dict[tuple[str, str], dict[str, str]] = {}
    for name in national_lists():
        text = resources.files("chem").joinpath(f"data/{name}").read_text(encoding="utf-8")
        for _, row in read_csv_rows(text, name):
            key = (row["jurisdiction"], row["id"])
            if row["smiles"] and held_out(*key) and key not in chosen:
                chosen[key] = {f: row.get(f, "") for f in FIELDS}
    return sorted(chosen.values(), key=lambda r: (r["jurisdiction"], r["id"]))


def write_holdout() -> None:
    with open(HOLDOUT, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(holdout_rows())


def read_holdout() -> list[dict[str, str]]:
    with open(HOLDOUT, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Outcome:
    jurisdiction: str
    verdicts: Counter = field(default_factory=Counter)
    controlled_by: Counter = field(default_factory=Counter)  # un | generic
    misses: list[tuple[str, str]] = field(default_factory=list)
    beyond_un: Counter = field(default_factory=Counter)  # verdicts of those not under UN control

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    @property
    def controlled(self) -> int:
        return self.verdicts["controlled"] + self.verdicts["precursor"]

    @property
    def flagged(self) -> int:
        return self.verdicts["controlled"] + self.verdicts["precursor"] + self.verdicts["analog"]


def library_without(jurisdiction: str, ids: set[str], cache_dir: Path | None) -> ReferenceLibrary:
    """The bundled library with ``jurisdiction``'s own listings of ``ids`` removed."""
    substances = []
    for substance in bundled_substances():
        if substance.id in ids:
            substance = copy.copy(substance)
            substance.controls = [c for c in substance.controls if c.jurisdiction != jurisdiction]
        substances.append(substance)
    return ReferenceLibrary.build(substances, load_families(), load_definitions(), cache_dir)


def evaluate(cache_dir: Path | None = None, rows: list[dict[str, str]] | None = None) -> dict[str, Outcome]:
    rows = read_holdout() if rows is None else rows
    outcomes: dict[str, Outcome] = {}
    for jurisdiction in sorted({r["jurisdiction"] for r in rows}):
        mine = [r for r in rows if r["jurisdiction"] == jurisdiction]
        library = library_without(jurisdiction, {r["id"] for r in mine}, cache_dir)
        outcome = outcomes[jurisdiction] = Outcome(jurisdiction)
        for row in mine:
            result = match(standardize_text(row["smiles"]), library, as_of=AS_OF, jurisdiction=jurisdiction)
            outcome.verdicts[result.verdict] += 1
            substance = library.by_id.get(row["id"])
            if substance is None or not any(c.in_force("UN", AS_OF) for c in substance.controls):
                outcome.beyond_un[result.verdict] += 1
            if result.verdict in ("controlled", "precursor"):
                bases = {c["basis"] for c in result.controls if c["jurisdiction"] == jurisdiction}
                outcome.controlled_by["generic" if "generic" in bases else "un"] += 1
            if result.verdict not in ("controlled", "precursor", "analog"):
                outcome.misses.append((row["name"], result.verdict))
    return outcomes


def false_positives(cache_dir: Path | None = None) -> dict[str, tuple[int, int]]:
    """Per jurisdiction: unrelated medicines and chemicals (negatives.csv) called analog, of all."""
    from bench.validation import rows as validation_rows

    library = ReferenceLibrary.bundled(cache_dir=cache_dir)
    negatives = [standardize_text(r["smiles"]) for r in validation_rows("negatives.csv")]
    counts = {}
    for code in ("UN", *sorted({r["jurisdiction"] for r in read_holdout()})):
        verdicts = [match(std, library, as_of=AS_OF, jurisdiction=code).verdict for std in negatives]
        counts[code] = (verdicts.count("analog"), len(verdicts))
    return counts


def report(outcomes: dict[str, Outcome]) -> str:
    lines = [
        "held-out national listings, matched in their own jurisdiction without that listing (as of 2026-01-01)"
    ]
    for code, o in outcomes.items():
        lines.append(
            f"{code}: {o.total:3d} held out; still under control {o.controlled / o.total:.3f} ({o.controlled}: "
            f"{o.controlled_by['un']} by a UN listing, {o.controlled_by['generic']} by a generic definition); "
            f"flagged {o.flagged / o.total:.3f} ({o.flagged}/{o.total})"
        )
        beyond = sum(o.beyond_un.values())
        if beyond:
            flagged = o.beyond_un["controlled"] + o.beyond_un["precursor"] + o.beyond_un["analog"]
            lines.append(
                f"    of which {beyond} beyond the UN lists: controlled {o.beyond_un['controlled']}, "
                f"flagged {flagged}, known {o.beyond_un['known']}, no_match {o.beyond_un['no_match']}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"(re)write {HOLDOUT.name} from the bundled lists")
    parser.add_argument("--misses", action="store_true", help="list the held-out substances not flagged")
    args = parser.parse_args()
    if args.write:
        write_holdout()
    outcomes = evaluate(Path.home() / ".cache" / "ews")
    print(report(outcomes))
    rates = false_positives(Path.home() / ".cache" / "ews")
    print(
        "negatives (350 unrelated medicines and chemicals) called analog: "
        + ", ".join(f"{code} {n / total:.3f} ({n}/{total})" for code, (n, total) in rates.items())
    )
    if args.misses:
        for outcome in outcomes.values():
            for name, verdict in outcome.misses:
                print(f"  {outcome.jurisdiction}: {name} -> {verdict}")


if __name__ == "__main__":
    main()
