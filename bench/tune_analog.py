"""Choose the thresholds of the analog decision by measurement.

For every validation structure (bench/validation.py) the nearest controlled
substances are computed once, with an MCS for the top three; then the
decision :func:`chem.match.analog_by_similarity` is replayed over a grid of
thresholds, with family rules switched off so that the similarity evidence
stands on its own. Prints recall on the two positive sets and the
false-positive rate on the negatives for each setting, best first.

Run: ``python -m bench.tune_analog``.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from bench.validation import rows
from chem.library import ReferenceLibrary
from chem.match import DEFAULT_POLICY, _neighbours, analog_by_similarity, neighbour_evidence
from chem.standardize import standardize_text


def features(library: ReferenceLibrary):
    probe = replace(DEFAULT_POLICY, supported_similarity=0.0, reported_similarity=0.0)
    sets = {"recent": [], "nps": [], "negatives": []}
    items = [
        ("recent", r, date.fromisoformat(r["un_controlled_since"]) - timedelta(days=1))
        for r in rows("recently_scheduled.csv")
    ]
    items += [("nps", r, date.today()) for r in rows("nps_positives.csv")]
    items += [("negatives", r, date.today()) for r in rows("negatives.csv")]
    for group, row, as_of in items:
        std = standardize_text(row["smiles"])
        if any(s.status == "known" for s in library.by_inchikey.get(std.inchikey, [])):
            continue  # decided by identity, not by similarity
        neighbours = _neighbours(std, library, as_of, probe, "UN")
        sets[group].append(
            [
                neighbour_evidence(std.mol, s.standardized.mol, score, probe, with_mcs=rank < 3)
                for rank, (score, s) in enumerate(neighbours)
            ]
        )
    return sets


def main() -> None:
    library = ReferenceLibrary.bundled(cache_dir=Path.home() / ".cache" / "ews")
    sets = features(library)
    results = []
    for similarity, supported, mcs, min_atoms, nitrogen in itertools.product(
        (0.45, 0.5, 0.55, 0.6, 0.65),
        (0.2, 0.25, 0.3, 0.35, 0.4),
        (0.5, 0.55, 0.6, 0.65, 0.7),
        (6, 8, 10),
        (True, False),
    ):
        policy = replace(
            DEFAULT_POLICY,
            similarity=similarity,
            supported_similarity=supported,
            mcs_score=mcs,
            min_atoms=min_atoms,
            require_nitrogen=nitrogen,
        )
        rate = {g: sum(analog_by_similarity(e, policy) for e in items) / len(items) for g, items in sets.items()}
        results.append((rate, policy))
    # best: highest mean recall with a false-positive rate at or under 2 %
    admissible = [r for r in results if r[0]["negatives"] <= 0.02]
    admissible.sort(key=lambda r: -(r[0]["recent"] + r[0]["nps"]))
    print(
        f"{len(sets['recent'])} recently scheduled, {len(sets['nps'])} NPS, {len(sets['negatives'])} negatives "
        "(family rules off; known substances excluded)"
    )
    print("similarity supported mcs  min_atoms nitrogen | recall recent  recall NPS  FPR")
    for rate, p in admissible[:15]:
        print(
            f"{p.similarity:10.2f} {p.supported_similarity:9.2f} {p.mcs_score:4.2f} {p.min_atoms:9d} {str(p.require_nitrogen):8s} |"
            f" {rate['recent']:13.3f} {rate['nps']:11.3f} {rate['negatives']:5.3f}"
        )
    current = (
        next(r for r in results if r[1] == DEFAULT_POLICY)
        if any(r[1] == DEFAULT_POLICY for r in results)
        else None
    )
    if current:
        rate = current[0]
        print(
            f"current default: recall recent {rate['recent']:.3f}, NPS {rate['nps']:.3f}, FPR {rate['negatives']:.3f}"
        )


if __name__ == "__main__":
    main()
