"""Recall and false-positive rate of the analog decision on substances the library has not seen.

Three sets in tests/data/validation (sources on every row):

* ``recently_scheduled.csv``: substances the CND placed under control 2015–2025,
  each matched as of the day before its vote — the library of that day did not
  list it, so a good system says ``analog``;
* ``nps_positives.csv``: NPS reported to early-warning systems and not under
  international control today — expected ``analog``;
* ``nps_inventory.csv``: 2,361 NPS with their EUDA substance group, derived from
  the amberNPS classification set by ``build_nps_inventory.py`` (licence and
  attribution in ``NPS-INVENTORY-LICENSE.md``) — expected ``analog``. The rows
  that the benchmark's library identifies (UN-listed, a known medicine or
  chemical) are no held-out positives and are counted apart; recall and
  drug-class agreement are over the others, and the groups "Others" and
  "Plants & extracts" are reported apart as they have no drug class;
* ``negatives.csv``: medicines and chemicals unrelated to drugs of abuse —
  expected anything but ``analog``;
* held-out medicines: the bundled DrugCentral file split before any tuning
  into five folds by a seeded hash of the DrugCentral id (:data:`SPLIT_SEED`,
  :func:`medicine_folds`), about 790 medicines each.
  Fold 0 is the **test** fold: the library of this benchmark leaves it out, and
  the false-positive rate is measured on those of its medicines that nothing
  else in the library knows (no identity through known.csv, a UN list or the
  other folds). Fold 1 is the **development** fold (``--dev``): what was looked
  at while tuning. The medicine vetoes of the analog decision (chem/match.py,
  docs/identify.md) were developed on folds 1-4, each held out together with
  fold 0 (``--fold N``), so that no fold-0 medicine was in the library while
  tuning; fold 0 was run only for the reported figure. The negatives of
  ``negatives.csv`` that the library knows are left out of the false-positive
  count too, for the same reason.

The false positives among the held-out medicines are broken down: some are
also on the NPS inventories above (a medicine sold as an NPS: adinazolam,
phenibut) or controlled as a class by a bundled national law (the US CSA's
barbituric acid derivatives). They count as false positives all the same; the
breakdown says how much of the rate is of that kind, and a second line gives
the rate less them. With ``--misses`` each held-out medicine called analog is
listed with the evidence that made it one (:func:`cause`).

Run: ``python -m bench.validation [--no-families] [--medicine-veto] [--dev | --fold N] [--misses]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chem.errors import StructureError
from chem.families import load_families
from chem.generic import load_definitions
from chem.library import (
    BUNDLED_MEDICINES,
    ReferenceLibrary,
    StandardizationCache,
    _bundled_text,
    bundled_jurisdictions,
    bundled_substances,
)
from chem.match import DEFAULT_POLICY, AnalogPolicy, match
from chem.standardize import Standardized, standardize_text

VALIDATION = Path(__file__).resolve().parent.parent / "tests" / "data" / "validation"
SPLIT_SEED = 20261204
"""Seed of the split of DrugCentral into five folds; fixed before any rule or threshold was tuned."""
FOLDS = 5
TEST_FOLD, DEV_FOLD = 0, 1
CACHE = Path.home() / ".cache" / "ews"


def rows(name: str) -> list[dict]:
    with open(VALIDATION / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def medicine_rows() -> list[dict]:
    return list(csv.DictReader(_bundled_text(BUNDLED_MEDICINES).splitlines()))


def medicine_folds() -> list[list[dict]]:
    """DrugCentral rows in five folds: each row's fold is a seeded hash of its DrugCentral id.

    A row keeps its fold when the file is rebuilt with rows added or dropped.
    """
    folds: list[list[dict]] = [[] for _ in range(FOLDS)]
    for row in medicine_rows():
        number = row["id"][2:].split("-")[0]  # dc<DrugCentral id>-<name>
        digest = hashlib.sha256(f"{SPLIT_SEED}:{number}".encode()).digest()
        folds[int.from_bytes(digest[:8], "big") % FOLDS].append(row)
    return folds


def library_without(held_out: list[dict], cache_dir: Path | None = CACHE) -> ReferenceLibrary:
    """The bundled library less the held-out medicines."""
    exclude = {row["id"] for row in held_out}
    return ReferenceLibrary.build(
        bundled_substances(exclude=exclude), load_families(), load_definitions(), cache_dir
    )


def unknown_to(library: ReferenceLibrary, candidates: list[dict]) -> list[tuple[dict, Standardized]]:
    """Candidates (with their standardized form) that no substance of the library identifies, stereo aside."""
    found = []
    store = StandardizationCache(CACHE)
    for row in candidates:
        try:
            std = store.standardized(row["smiles"])
        except StructureError:
            continue  # beyond the bounds of a query (peptides of 300 atoms): not a fair question
        if std.skeleton_key not in library.by_skeleton:
            found.append((row, std))
    store.save()
    return found


@dataclass
class Outcome:
    name: str
    expected: str
    verdicts: Counter = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)
    causes: dict[str, str] = field(default_factory=dict)
    """Of the held-out medicines called analog: the evidence that made each one (:func:`cause`)."""
    classes_agreeing: int = 0
    classes_compared: int = 0
    class_misses: list[tuple[str, str, str]] = field(default_factory=list)
    identified: int = 0
    """Rows that the library identifies (listed or known): no held-out positives, not counted."""
    groups: dict[str, Counter] = field(default_factory=dict)
    """Verdicts by the source's substance group, where the set has one."""
    explained: tuple[int, int, int] | None = None
    """Of the held-out medicines called analog: how many an NPS inventory lists, how many a bundled law
    controls, how many either."""

    @property
    def class_agreement(self) -> float:
        """Share of the flagged substances whose drug class is the one the source gives."""
        return self.classes_agreeing / self.classes_compared if self.classes_compared else 0.0

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    def rate(self, verdict: str) -> float:
        return self.verdicts[verdict] / self.total if self.total else 0.0


def evaluate(
    library: ReferenceLibrary, policy: AnalogPolicy = DEFAULT_POLICY, held_out: list[dict] | None = None
) -> dict[str, Outcome]:
    outcomes = {
        "recently_scheduled": Outcome("recently_scheduled", "analog"),
        "nps_positives": Outcome("nps_positives", "analog"),
        "nps_inventory": Outcome("nps_inventory", "analog"),
        "nps_inventory_other": Outcome("nps_inventory_other", "analog"),
        "negatives": Outcome("negatives", "not analog"),
        "held_out": Outcome("held_out", "not analog"),
    }
    for row in rows("recently_scheduled.csv"):
        as_of = date.fromisoformat(row["un_controlled_since"]) - timedelta(days=1)
        result = match(standardize_text(row["smiles"]), library, as_of=as_of, name=row["name"], policy=policy)
        _record(outcomes["recently_scheduled"], row["name"], result.verdict, "analog")
        _compare_class(outcomes["recently_scheduled"], row, result.verdict, result.drug_class)
    for row in rows("nps_positives.csv"):
        result = match(standardize_text(row["smiles"]), library, name=row["name"], policy=policy)
        _record(outcomes["nps_positives"], row["name"], result.verdict, "analog")
        _compare_class(outcomes["nps_positives"], row, result.verdict, result.drug_class)
    inventory = rows("nps_inventory.csv")
    held = unknown_to(library, inventory)
    outcomes["nps_inventory"].identified = len(inventory) - len(held)
    for row, std in held:
        result = match(std, library, name=row["name"], policy=policy)
        outcome = outcomes["nps_inventory" if row["class"] else "nps_inventory_other"]
        _record(outcome, row["name"], result.verdict, "analog", row["source_class"])
        _compare_class(outcome, row, result.verdict, result.drug_class)
    for row, std in unknown_to(library, rows("negatives.csv")):
        result = match(std, library, name=row["name"], policy=policy)
        _record(outcomes["negatives"], row["name"], result.verdict, None)
    inventories = {std.skeleton_key for _, std in held} | {
        standardize_text(row["smiles"]).skeleton_key
        for name in ("nps_positives.csv", "recently_scheduled.csv")
        for row in rows(name)
    }
    on_inventory = controlled_somewhere = either = 0
    for row, std in unknown_to(library, held_out or []):
        result = match(std, library, name=row["name"], policy=policy)
        _record(outcomes["held_out"], row["name"], result.verdict, None)
        if result.verdict == "analog":
            outcomes["held_out"].causes[row["name"]] = cause(result)
            listed = std.skeleton_key in inventories
            laws = [
                code
                for code in bundled_jurisdictions()
                if code != "UN" and match(std, library, jurisdiction=code, policy=policy).verdict == "controlled"
            ]
            on_inventory += listed
            controlled_somewhere += bool(laws)
            either += listed or bool(laws)
            notes = (["on an NPS inventory"] if listed else []) + (
                [f"controlled in {', '.join(laws)}"] if laws else []
            )
            if notes:
                outcomes["held_out"].causes[row["name"]] += f"; {'; '.join(notes)}"
    outcomes["held_out"].explained = (on_inventory, controlled_somewhere, either)
    return outcomes


def cause(result) -> str:
    """The evidence that made ``result`` an analog, in the order the decision weighs it."""
    found = result.matches
    elsewhere = [m["substance"]["name"] for m in found if m["kind"] == "identity"]
    if elsewhere:
        return "identity with a substance controlled elsewhere: " + ", ".join(elsewhere)
    vetoed = " ".join(w for w in result.warnings if w.startswith("not an analog by the family"))
    families = [
        m["family"]["id"]
        for m in found
        if m["kind"] == "family" and f"family {m['family']['name']}:" not in vetoed
    ]
    if families:
        return "family " + ", ".join(families)
    generic = [
        f"{m['definition']['jurisdiction']} {m['definition']['id']}" for m in found if m["kind"] == "generic"
    ]
    if generic:
        return "definition " + ", ".join(generic)
    similar = [m for m in found if m["kind"] == "similarity"]
    if similar:
        top = max(similar, key=lambda m: (m["score"] >= 0.5, m.get("mcs_score", 0), m["score"]))
        mcs = f", MCS {top['mcs_score']:.2f}" if "mcs_score" in top else ""
        return f"similarity {top['substance']['name']} {top['score']:.2f}{mcs}"
    return "?"


def _record(outcome: Outcome, name: str, verdict: str, expected: str | None, group: str = "") -> None:
    outcome.verdicts[verdict] += 1
    if group:
        outcome.groups.setdefault(group, Counter())[verdict] += 1
    wrong = verdict != expected if expected else verdict == "analog"
    if wrong:
        outcome.misses.append((name, verdict))


def _compare_class(outcome: Outcome, row: dict, verdict: str, drug_class: str | None) -> None:
    if verdict not in ("analog", "controlled") or not row.get("class"):
        return
    outcome.classes_compared += 1
    if drug_class == row["class"]:
        outcome.classes_agreeing += 1
    else:
        outcome.class_misses.append((row["name"], row["class"], drug_class or "none"))


def report(outcomes: dict[str, Outcome]) -> str:
    recent, nps, negatives = outcomes["recently_scheduled"], outcomes["nps_positives"], outcomes["negatives"]
    lines = [
        f"recently scheduled (as of the day before the vote): recall {recent.rate('analog'):.3f} "
        f"({recent.verdicts['analog']}/{recent.total})",
        f"NPS not under international control:               recall {nps.rate('analog'):.3f} "
        f"({nps.verdicts['analog']}/{nps.total}; known {nps.verdicts['known']})",
        f"drug-class agreement of the flagged (both sets):    "
        f"{(recent.classes_agreeing + nps.classes_agreeing) / max(1, recent.classes_compared + nps.classes_compared):.3f} "
        f"({recent.classes_agreeing + nps.classes_agreeing}/{recent.classes_compared + nps.classes_compared})",
    ]
    inventory, other = outcomes.get("nps_inventory"), outcomes.get("nps_inventory_other")
    if inventory is not None and other is not None and inventory.total:
        lines.append(
            f"NPS inventory (amberNPS, EUDA groups):              recall {inventory.rate('analog'):.3f} "
            f"({inventory.verdicts['analog']}/{inventory.total}; known {inventory.verdicts['known']}; "
            f"{inventory.identified} more identified by the library)"
        )
        lines.append(
            f"  drug-class agreement of the flagged:              {inventory.class_agreement:.3f} "
            f"({inventory.classes_agreeing}/{inventory.classes_compared})"
        )
        lines.append(
            f"  groups Others and Plants & extracts:            recall {other.rate('analog'):.3f} "
            f"({other.verdicts['analog']}/{other.total})"
        )
        for group, verdicts in sorted({**inventory.groups, **other.groups}.items()):
            total = sum(verdicts.values())
            lines.append(f"    {group:<28} recall {verdicts['analog'] / total:.3f} ({verdicts['analog']}/{total})")
    lines += [
        f"negatives (unrelated medicines and chemicals):     false-positive rate {negatives.rate('analog'):.3f} "
        f"({negatives.verdicts['analog']}/{negatives.total} the library does not know)",
    ]
    held = outcomes.get("held_out")
    if held is not None and held.total and held.explained is not None:
        on_inventory, controlled, either = held.explained
        lines.append(
            f"held-out medicines called analog that an NPS inventory lists: {on_inventory}, that a bundled "
            f"national law controls: {controlled}"
        )
    if held is not None and held.total:
        both = held.verdicts["analog"] + negatives.verdicts["analog"]
        lines.append(
            f"held-out medicines (DrugCentral fold):            false-positive rate {held.rate('analog'):.3f} "
            f"({held.verdicts['analog']}/{held.total}; no_match {held.verdicts['no_match']}, "
            f"controlled {held.verdicts['controlled']})"
        )
        if held.explained is not None:
            rest = held.verdicts["analog"] - held.explained[2]
            lines.append(
                f"  less those an NPS inventory lists or a national law controls: false-positive rate "
                f"{rest / held.total:.3f} ({rest}/{held.total})"
            )
        lines.append(
            f"held-out medicines and negatives together:        false-positive rate "
            f"{both / (held.total + negatives.total):.3f} ({both}/{held.total + negatives.total})"
        )
    if held is not None and held.causes:
        kinds = Counter(_kind(text) for text in held.causes.values())
        lines.append(
            "held-out medicines called analog, by evidence:     "
            + ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
        )
    return "\n".join(lines)


def _kind(text: str) -> str:
    """The kind of evidence of a :func:`cause`: the family rule by its id, else similarity, definition, identity."""
    evidence = text.split(";")[0]
    if evidence.startswith("family "):
        return evidence.split(",")[0]
    return evidence.split(" ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-families", action="store_true", help="similarity and MCS evidence only")
    parser.add_argument("--misses", action="store_true", help="list what was decided wrongly")
    parser.add_argument(
        "--dev", action="store_true", help="hold out the development fold instead of the test fold"
    )
    parser.add_argument(
        "--fold",
        type=int,
        choices=range(1, FOLDS),
        help="hold out this development fold together with the test fold (the test fold stays unseen)",
    )
    parser.add_argument(
        "--medicine-veto",
        action="store_true",
        help="weigh family rules and foreign definitions against the medicines (AnalogPolicy.known_member_veto)",
    )
    args = parser.parse_args()
    policy = AnalogPolicy(use_families=not args.no_families, known_member_veto=args.medicine_veto)
    folds = medicine_folds()
    fold = args.fold or (DEV_FOLD if args.dev else TEST_FOLD)
    held_out = folds[fold]
    library = library_without(held_out + (folds[TEST_FOLD] if args.fold else []))
    print(
        f"split: DrugCentral in {FOLDS} folds by seed {SPLIT_SEED}; held out fold "
        f"{fold} ({'test' if fold == TEST_FOLD else 'development'}{', with the test fold' if args.fold else ''}), "
        f"{len(held_out)} medicines; library {len(library.substances)} substances"
    )
    outcomes = evaluate(library, policy, held_out)
    print(report(outcomes))
    if args.misses:
        for outcome in outcomes.values():
            for name, verdict in outcome.misses:
                why = f" ({outcome.causes[name]})" if name in outcome.causes else ""
                print(f"  {outcome.name}: {name} -> {verdict}{why}")
            for name, expected, found in outcome.class_misses:
                print(f"  {outcome.name}: {name} class {found}, source says {expected}")


if __name__ == "__main__":
    main()
