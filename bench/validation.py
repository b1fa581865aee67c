"""Recall and false-positive rate of the analog decision on substances the library has not seen.

Three sets in tests/data/validation (sources on every row):

* ``recently_scheduled.csv``: substances the CND placed under control 2015–2025,
  each matched as of the day before its vote — the library of that day did not
  list it, so a good system says ``analog``;
* ``nps_positives.csv``: NPS reported to early-warning systems and not under
  international control today — expected ``analog``;
* ``negatives.csv``: medicines and chemicals unrelated to drugs of abuse —
  expected anything but ``analog``.

Run: ``python -m bench.validation [--no-families]``.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chem.library import ReferenceLibrary
from chem.match import DEFAULT_POLICY, AnalogPolicy, match
from chem.standardize import standardize_text

VALIDATION = Path(__file__).resolve().parent.parent / "tests" / "data" / "validation"


def rows(name: str) -> list[dict]:
    with open(VALIDATION / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Outcome:
    name: str
    expected: str
    verdicts: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    def rate(self, verdict: str) -> float:
        return self.verdicts[verdict] / self.total if self.total else 0.0


def evaluate(library: ReferenceLibrary, policy: AnalogPolicy = DEFAULT_POLICY) -> dict[str, Outcome]:
    outcomes = {
        "recently_scheduled": Outcome("recently_scheduled", "analog"),
        "nps_positives": Outcome("nps_positives", "analog"),
        "negatives": Outcome("negatives", "not analog"),
    }
    for row in rows("recently_scheduled.csv"):
        as_of = date.fromisoformat(row["un_controlled_since"]) - timedelta(days=1)
        result = match(standardize_text(row["smiles"]), library, as_of=as_of, name=row["name"], policy=policy)
        _record(outcomes["recently_scheduled"], row["name"], result.verdict, "analog")
    for row in rows("nps_positives.csv"):
        result = match(standardize_text(row["smiles"]), library, name=row["name"], policy=policy)
        _record(outcomes["nps_positives"], row["name"], result.verdict, "analog")
    for row in rows("negatives.csv"):
        result = match(standardize_text(row["smiles"]), library, name=row["name"], policy=policy)
        _record(outcomes["negatives"], row["name"], result.verdict, None)
    return outcomes


def _record(outcome: Outcome, name: str, verdict: str, expected: str | None) -> None:
    outcome.verdicts[verdict] += 1
    wrong = verdict != expected if expected else verdict == "analog"
    if wrong:
        outcome.misses.append((name, verdict))


def report(outcomes: dict[str, Outcome]) -> str:
    recent, nps, negatives = outcomes["recently_scheduled"], outcomes["nps_positives"], outcomes["negatives"]
    lines = [
        f"recently scheduled (as of the day before the vote): recall {recent.rate('analog'):.3f} "
        f"({recent.verdicts['analog']}/{recent.total})",
        f"NPS not under international control:               recall {nps.rate('analog'):.3f} "
        f"({nps.verdicts['analog']}/{nps.total}; known {nps.verdicts['known']})",
        f"negatives (unrelated medicines and chemicals):     false-positive rate {negatives.rate('analog'):.3f} "
        f"({negatives.verdicts['analog']}/{negatives.total})",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-families", action="store_true", help="similarity and MCS evidence only")
    parser.add_argument("--misses", action="store_true", help="list what was decided wrongly")
    args = parser.parse_args()
    policy = AnalogPolicy(use_families=not args.no_families)
    library = ReferenceLibrary.bundled(cache_dir=Path.home() / ".cache" / "ews")
    outcomes = evaluate(library, policy)
    print(report(outcomes))
    if args.misses:
        for outcome in outcomes.values():
            for name, verdict in outcome.misses:
                print(f"  {outcome.name}: {name} -> {verdict}")


if __name__ == "__main__":
    main()
