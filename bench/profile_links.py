"""How well do profile links separate seizures of one batch from seizures of others?

Generates batch populations (a batch is one recipe: active substance and
purity, adulterants, diluents, synthesis markers with their amounts, tablet
press), draws seizures from each batch with the within-batch variation the
profiling literature reports, and scores every pair of seizures that share
their active substance (the candidates ews compares). Prints, for each
pre-treatment and metric, the recall at a false-positive rate of 0.5 % and the
area under the ROC; then the ROC of the method in use (chem.profiles
constants) and its operating point.

Within-batch variation used (sources in docs/profiles.md):
- major components (active, adulterants): relative standard deviation 5 % in
  powders; the active of tablets 15 % (tablets of one batch differ widely in
  content: Hecht et al., Drug Test Anal 2019);
- traces (impurities, by-products): RSD 20 %, and a trace under 0.05 % is
  missed (below the limit of detection) in 15 % of seizures, others in 3 %;
- tablet mass RSD 2 %, diameter +-0.05 mm;
- one seizure in ten was cut again downstream (diluted, which normalisation
  to the sum removes) and one in twenty got an extra adulterant;
- two laboratories: the second does not measure a fixed fifth of the markers;
- three batches in ten come from the producer of the batch before: the same
  press (logo, colour, shape, mass, diameter) and cutting agents, a new
  synthesis — the hardest unlinked pairs.

    python -m bench.profile_links [--batches 40] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from dataclasses import dataclass

from chem import profiles
from chem.library import ReferenceLibrary
from chem.match import match_text
from chem.profiles import Appearance, Component, Profile
from ews.services.links import MAX_CANDIDATES

ADULTERANTS = [
    "caffeine",
    "levamisole",
    "phenacetin",
    "lidocaine",
    "paracetamol",
    "procaine",
    "diltiazem",
    "hydroxyzine",
    "benzocaine",
    "dextromethorphan",
    "tetracaine",
    "aminopyrine",
]
DILUENTS = ["lactose", "mannitol", "sorbitol", "cellulose", "glucose", "sucrose", "inositol"]
LOGOS = [
    "Tesla",
    "Red Bull",
    "Philipp Plein",
    "Superman",
    "Rolex",
    "Punisher",
    "Blue Punisher",
    "Heineken",
    "Domino",
    "Mitsubishi",
    "Instagram",
    "Bitcoin",
]
COLOURS = ["pink", "blue", "orange", "green", "yellow", "white", "purple", "red"]
SHAPES = ["round", "rectangular", "triangular", "shield"]


@dataclass(frozen=True)
class Scenario:
    name: str
    active: str
    markers: int  # route-specific impurities and by-products that a route may leave
    routes: int
    tablets: bool
    purity: tuple[float, float]


SCENARIOS = (
    Scenario("MDMA tablets", "MDMA", 14, 3, True, (20.0, 55.0)),
    Scenario("cocaine powder", "cocaine", 12, 1, False, (30.0, 90.0)),
    Scenario("nitazene powder", "isotonitazene", 8, 2, False, (1.0, 15.0)),
)


def _zipf(rng: random.Random, items: list[str]) -> str:
    weights = [1.0 / (rank + 1) for rank in range(len(items))]
    return rng.choices(items, weights)[0]


@dataclass
class Batch:
    scenario: Scenario
    purity: float
    adulterants: dict[str, float]
    diluents: list[str]
    markers: dict[str, float]
    logo: str | None
    colour: str | None
    shape: str | None
    mass_mg: float | None
    diameter_mm: float | None


def make_batch(rng: random.Random, scenario: Scenario, baselines: list[dict[str, float]]) -> Batch:
    route = rng.randrange(scenario.routes)
    markers = {
        key: base * math.exp(rng.gauss(0.0, 0.6))  # batches of one route differ around its typical amounts
        for key, base in baselines[route].items()
        if rng.random() < 0.75
    }
    count = rng.choices([0, 1, 2, 3], [0.25, 0.4, 0.25, 0.1])[0]
    adulterants: dict[str, float] = {}
    while len(adulterants) < count:
        adulterants[_zipf(rng, ADULTERANTS)] = rng.uniform(2.0, 30.0)
    tablets = scenario.tablets
    return Batch(
        scenario=scenario,
        purity=rng.uniform(*scenario.purity),
        adulterants=adulterants,
        diluents=rng.sample(DILUENTS, rng.choice([0, 1, 1, 2])),
        markers=markers,
        logo=_zipf(rng, LOGOS) if tablets else None,
        colour=_zipf(rng, COLOURS) if tablets else None,
        shape=_zipf(rng, SHAPES) if tablets else None,
        mass_mg=rng.uniform(220.0, 450.0) if tablets else None,
        diameter_mm=rng.choice([8.0, 9.0, 10.0, 11.0]) if tablets else None,
    )


def seizure(rng: random.Random, batch: Batch, unmeasured: frozenset[str]) -> Profile:
    """One seizure drawn from a batch, as one laboratory reports it."""
    scenario = batch.scenario
    dilution = rng.uniform(0.5, 0.9) if rng.random() < 0.1 else 1.0
    active_rsd = 0.15 if scenario.tablets else 0.05
    components = [Component(scenario.active, "active", batch.purity * dilution * rng.gauss(1.0, active_rsd))]
    for key, amount in batch.adulterants.items():
        components.append(Component(key, "adulterant", amount * dilution * rng.gauss(1.0, 0.05)))
    if rng.random() < 0.05:
        extra = _zipf(rng, ADULTERANTS)
        if extra not in batch.adulterants:
            components.append(Component(extra, "adulterant", rng.uniform(2.0, 20.0)))
    for key in batch.diluents:
        components.append(Component(key, "diluent", None))
    for key, amount in batch.markers.items():
        if key in unmeasured:
            continue
        missed = 0.15 if amount < 0.05 else 0.03
        if rng.random() < missed:
            continue
        value = amount * dilution * max(0.05, rng.gauss(1.0, 0.20))
        components.append(Component(key, "impurity", value))
    appearance = Appearance()
    if scenario.tablets:
        appearance = Appearance(
            colour=batch.colour,
            logo=batch.logo,
            shape=batch.shape,
            mass_mg=(batch.mass_mg or 0) * rng.gauss(1.0, 0.02),
            diameter_mm=(batch.diameter_mm or 0) + rng.gauss(0.0, 0.05),
        )
    return Profile(tuple(c for c in components if c.amount is None or c.amount > 0), appearance)


def population(rng: random.Random, batches: int) -> list[tuple[int, Profile]]:
    """(batch number, seizure profile) for every seizure of every scenario."""
    seizures: list[tuple[int, Profile]] = []
    number = 0
    for scenario in SCENARIOS:
        keys = [f"{scenario.active}-marker-{i}" for i in range(scenario.markers)]
        baselines = [{k: 10 ** rng.uniform(-2.3, 0.3) for k in keys} for _ in range(scenario.routes)]
        second_lab_misses = frozenset(rng.sample(keys, len(keys) // 5))
        batch = None
        for _ in range(batches):
            previous = batch
            batch = make_batch(rng, scenario, baselines)
            if previous is not None and rng.random() < 0.3:
                # the same producer again: same press and cut, a new synthesis batch
                batch.adulterants = {k: v * rng.gauss(1.0, 0.1) for k, v in previous.adulterants.items()}
                batch.diluents = previous.diluents
                batch.logo, batch.colour, batch.shape = previous.logo, previous.colour, previous.shape
                batch.mass_mg, batch.diameter_mm = previous.mass_mg, previous.diameter_mm
            for _ in range(rng.randint(3, 7)):
                unmeasured = second_lab_misses if rng.random() < 0.5 else frozenset()
                seizures.append((number, seizure(rng, batch, unmeasured)))
            number += 1
    return seizures


def pairs(seizures: list[tuple[int, Profile]]) -> list[tuple[Profile, Profile, bool]]:
    """Every pair that shares an active substance (the candidates ews scores), and whether it is linked."""
    result = []
    for i, (batch_a, a) in enumerate(seizures):
        for batch_b, b in seizures[i + 1 :]:
            if a.actives & b.actives:
                result.append((a, b, batch_a == batch_b))
    return result


def roc(scores: list[tuple[float, bool]]) -> list[tuple[float, float, float]]:
    """(threshold, recall, false-positive rate) at every distinct score, highest threshold first."""
    ordered = sorted(scores, key=lambda s: -s[0])
    positives = sum(1 for _, linked in ordered if linked) or 1
    negatives = sum(1 for _, linked in ordered if not linked) or 1
    points, tp, fp = [], 0, 0
    for index, (score, linked) in enumerate(ordered):
        tp += linked
        fp += not linked
        if index + 1 == len(ordered) or ordered[index + 1][0] != score:
            points.append((score, tp / positives, fp / negatives))
    return points


def auc(points: list[tuple[float, float, float]]) -> float:
    area, last_recall, last_fpr = 0.0, 0.0, 0.0
    for _, recall, fpr in points:
        area += (fpr - last_fpr) * (recall + last_recall) / 2
        last_recall, last_fpr = recall, fpr
    return area + (1 - last_fpr) * (1 + last_recall) / 2


def recall_at(points: list[tuple[float, float, float]], max_fpr: float) -> tuple[float, float]:
    """The best recall with a false-positive rate at most ``max_fpr``, and its threshold."""
    best = (0.0, 1.0)
    for threshold, recall, fpr in points:
        if fpr <= max_fpr and recall > best[0]:
            best = (recall, threshold)
    return best


def at_threshold(scores: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    positives = [s for s, linked in scores if linked]
    negatives = [s for s, linked in scores if not linked]
    return (
        sum(s >= threshold for s in positives) / max(1, len(positives)),
        sum(s >= threshold for s in negatives) / max(1, len(negatives)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per scenario")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seizures = population(rng, args.batches)
    candidates = pairs(seizures)
    linked = sum(1 for *_, is_linked in candidates if is_linked)
    print(
        f"{len(seizures)} seizures from {args.batches * len(SCENARIOS)} batches in {len(SCENARIOS)} scenarios; "
        f"{len(candidates)} candidate pairs sharing an active substance: {linked} linked, "
        f"{len(candidates) - linked} unlinked"
    )
    print()
    print(f"{'pre-treatment':<14} {'metric':<10} {'part':<9} {'AUC':>6} {'recall@FPR0.5%':>15} {'threshold':>10}")
    started = time.perf_counter()
    best = None
    for pretreatment in profiles.PRETREATMENTS:
        for metric in profiles.METRICS:
            chem_scores = []
            combined = []
            for a, b, is_linked in candidates:
                chem_scores.append((profiles.chemistry(a, b, metric, pretreatment) or 0.0, is_linked))
                combined.append((profiles.compare(a, b, metric, pretreatment).score, is_linked))
            for part, scores in (("chemistry", chem_scores), ("combined", combined)):
                points = roc(scores)
                recall, threshold = recall_at(points, 0.005)
                print(
                    f"{pretreatment:<14} {metric:<10} {part:<9} {auc(points):>6.4f} {recall:>15.3f} {threshold:>10.4f}"
                )
                if part == "combined" and (best is None or recall > best[0]):
                    best = (recall, pretreatment, metric, threshold)
    elapsed = time.perf_counter() - started
    assert best is not None
    print()
    print(f"best combined at FPR <= 0.5 %: {best[1]} + {best[2]}, recall {best[0]:.3f} at score >= {best[3]:.4f}")
    print(
        f"in use (chem.profiles): {profiles.PRETREATMENT} + {profiles.METRIC}, "
        f"threshold {profiles.LINK_THRESHOLD}, context weight {profiles.CONTEXT_WEIGHT}"
    )
    scores = [(profiles.compare(a, b).score, is_linked) for a, b, is_linked in candidates]
    print()
    print("ROC of the method in use (threshold, recall, false-positive rate):")
    for step in range(-8, 9, 2):
        threshold = round(profiles.LINK_THRESHOLD + step / 100, 2)
        recall, fpr = at_threshold(scores, threshold)
        marker = "  <- LINK_THRESHOLD" if math.isclose(threshold, profiles.LINK_THRESHOLD) else ""
        print(f"  {threshold:.2f}  recall {recall:.3f}  FPR {fpr:.4f}{marker}")
    recall, fpr = at_threshold(scores, profiles.LINK_THRESHOLD)
    print()
    print(
        f"operating point: score >= {profiles.LINK_THRESHOLD}: recall {recall:.3f}, false-positive rate "
        f"{fpr * 100:.2f} % (target: FPR <= 0.5 % at recall >= 80 %)"
    )
    by_scenario: dict[str, list[tuple[float, bool]]] = {}
    for (a, _, _), score in zip(candidates, scores, strict=True):
        name = next(s.name for s in SCENARIOS if s.active in a.actives)
        by_scenario.setdefault(name, []).append(score)
    for name, group in by_scenario.items():
        r, f = at_threshold(group, profiles.LINK_THRESHOLD)
        print(f"  {name:<16} recall {r:.3f}  FPR {f * 100:.2f} %  ({len(group)} pairs)")
    started = time.perf_counter()
    for a, b, _ in candidates:
        profiles.compare(a, b)
    per_pair = (time.perf_counter() - started) / max(1, len(candidates))
    library = ReferenceLibrary.bundled()
    nitazene = "CCCCCOc1ccc(Cc2nc3cc([N+](=O)[O-])ccc3n2CCN2CCCCC2)cc1"
    match_text(nitazene, library)  # warm
    started = time.perf_counter()
    for _ in range(20):
        match_text(nitazene, library)
    per_match = (time.perf_counter() - started) / 20
    scoring = per_pair * MAX_CANDIDATES
    print(
        f"cost of one comparison: {per_pair * 1e6:.0f} us; a new detection against the {MAX_CANDIDATES} "
        f"candidates ews compares at most: {scoring * 1e3:.1f} ms of scoring = {scoring / per_match:.2f} x "
        f"the identification of one component in the same run ({per_match * 1e3:.1f} ms)"
    )
    print(f"(the ROC table scored {len(candidates) * 16 * 2} pairs in {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
