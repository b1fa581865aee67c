"""Seizure profiles and the link score between two of them.

A profile is what a lab measured in one seizure: its components (each known
by the first block of its InChIKey, with a role and an amount) and the
physical characteristics of the sample. Two seizures from one production
batch share a profile up to the within-batch variation; the score says how
alike two profiles are, from 0 (nothing shared) to 1.

The method follows the harmonised forensic-profiling practice (ENFSI/UNODC
amphetamine, cocaine and heroin profiling): the amounts of the components are
pre-treated (normalised to their sum), compared with a metric (here the
Canberra distance, which weighs traces as much as major components), and a link is declared above a threshold read off the score distributions of
linked and unlinked pairs (ROC). The adulterant and diluent set is compared
with the Jaccard index, the physical characteristics within tolerances, and
the three are combined into one score. ``python -m bench.profile_links``
measures every pre-treatment and metric on generated batch populations and
prints the ROC from which :data:`METRIC`, :data:`PRETREATMENT` and
:data:`LINK_THRESHOLD` were chosen.

>>> a = Profile((Component("MDMA", "active", 35.0), Component("CAFF", "adulterant", 5.0),
...     Component("IMP1", "impurity", 0.20), Component("IMP2", "impurity", 0.05)),
...     Appearance(colour="pink", logo="Tesla", shape="round", mass_mg=300, diameter_mm=9.0))
>>> b = Profile((Component("MDMA", "active", 33.0), Component("CAFF", "adulterant", 5.3),
...     Component("IMP1", "impurity", 0.22), Component("IMP2", "impurity", 0.05)),
...     Appearance(colour="Pink", logo="tesla", shape="round", mass_mg=304, diameter_mm=9.1))
>>> link = compare(a, b)
>>> round(link.score, 2), link.linked
(0.96, True)
>>> link.shared[:3]
['MDMA', 'CAFF', 'IMP1']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

ROLES = ("active", "adulterant", "diluent", "impurity", "by_product", "unknown")
"""What a component is in the seizure: the drug, a cutting agent, a filler, or a marker of its synthesis."""
CUT_ROLES = frozenset({"adulterant", "diluent"})
MARKER_ROLES = frozenset({"impurity", "by_product"})

# --- the method, chosen by measurement (python -m bench.profile_links) --------------------------
PRETREATMENT = "sum"
"""Normalise amounts to their sum: a seizure cut again downstream keeps its ratios."""
METRIC = "canberra"
"""Canberra similarity of the normalised amounts: every component weighs alike whatever its amount, so
traces count as much as the major components. On the bench it beat Pearson, cosine and Euclidean under
every pre-treatment (as Carby-Robinson et al. 2021 found for cocaine)."""
LINK_THRESHOLD = 0.60
"""Score at or above which two seizures are linked: the bench's operating point. At 0.55 the false-positive
rate was 0.37 % and 0.48 % on two generated populations, too close to the 0.5 % target; 0.60 keeps it
near 0.2 % at a recall of about 0.90 (python -m bench.profile_links; figures in docs/profiles.md)."""
CONTEXT_WEIGHT = 0.3
"""How much disagreement in cutting agents (Jaccard), physical characteristics and enantiomer ratios
lowers the chemical similarity: full disagreement multiplies it by 0.7. A part that cannot be compared (no cutting agents on
either side, no physical characteristic recorded on both) is left out."""
MIN_FEATURES = 2
"""A profile needs this many components or physical characteristics besides its active substance(s)."""
MASS_TOLERANCE = 0.05
"""Tablet masses within 5 % agree (a batch's tablet mass varies by a few percent)."""
DIAMETER_TOLERANCE_MM = 0.3
"""Tablet diameters within 0.3 mm agree (one punch, measuring error of a calliper)."""
ENANTIOMER_TOLERANCE = 5.0
"""Enantiomer ratios of the same component within 5 percentage points agree."""


@dataclass(frozen=True)
class Component:
    key: str
    """What the component is: the first block of its InChIKey (stereo- and salt-independent)."""
    role: str = "unknown"
    amount: float | None = None
    """Its share of the sample in percent (w/w); None when only its presence was reported."""
    enantiomer_ratio: float | None = None
    """Share of the (R)- or (+)-enantiomer in percent, where measured: it tells synthesis routes apart
    (methamfetamine from ephedrine is one enantiomer, from P2P racemic)."""


@dataclass(frozen=True)
class Appearance:
    colour: str | None = None
    logo: str | None = None
    shape: str | None = None
    mass_mg: float | None = None
    diameter_mm: float | None = None


@dataclass(frozen=True)
class Profile:
    components: tuple[Component, ...]
    appearance: Appearance = field(default_factory=Appearance)

    @cached_property
    def actives(self) -> frozenset[str]:
        return frozenset(c.key for c in self.components if c.role == "active")

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(c.key for c in self.components)

    @cached_property
    def cut(self) -> frozenset[str]:
        return frozenset(c.key for c in self.components if c.role in CUT_ROLES)

    @cached_property
    def features(self) -> int:
        """What there is to link on besides the active substance: other components and physical traits."""
        others = sum(1 for c in self.components if c.role != "active")
        a = self.appearance
        physical = sum(1 for v in (a.colour, a.logo, a.shape, a.mass_mg, a.diameter_mm) if v)
        return others + physical

    @cached_property
    def amounts(self) -> dict[str, float]:
        result: dict[str, float] = {}
        for c in self.components:
            if c.amount is not None and c.amount > 0 and c.role != "diluent":
                result[c.key] = result.get(c.key, 0.0) + c.amount
        return result


def amount_percent(
    purity_percent: float | None, amount_mg: float | None, unit_mass_mg: float | None
) -> float | None:
    """A component's share in percent: as reported, or its mass per unit over the unit's mass.

    >>> amount_percent(None, 90.0, 300.0)
    30.0
    >>> amount_percent(12.5, None, None)
    12.5
    >>> amount_percent(None, 90.0, None) is None
    True
    """
    if purity_percent is not None:
        return purity_percent
    if amount_mg is not None and unit_mass_mg:
        return 100.0 * amount_mg / unit_mass_mg
    return None


# --- pre-treatments ----------------------------------------------------------------------------


def _normalised(values: Sequence[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values] if total > 0 else list(values)


def pretreat(values: Sequence[float], method: str = PRETREATMENT) -> list[float]:
    """Pre-treat amounts before a comparison: ``none``, ``sum`` (normalised to the sum),
    ``sum_4th_root`` or ``sum_log`` (log10(1 + 10^4 x) of the normalised amount, so zeros stay zero).

    >>> [round(v, 3) for v in pretreat([1.0, 0.0, 0.01], "sum_4th_root")]
    [0.998, 0.0, 0.315]
    """
    if method == "none":
        return list(values)
    normalised = _normalised(values)
    if method == "sum":
        return normalised
    if method == "sum_4th_root":
        return [v**0.25 for v in normalised]
    if method == "sum_log":
        return [math.log10(1.0 + 1e4 * v) for v in normalised]
    raise ValueError(f"unknown pre-treatment {method!r}")


# --- comparison metrics, each a similarity in [0, 1] ---------------------------------------------


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    if n < 2:
        return 1.0 if n == 1 and x[0] > 0 and y[0] > 0 else 0.0
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return 1.0 if sxx == syy == 0 else 0.0
    return max(0.0, sxy / math.sqrt(sxx * syy))


def cosine(x: Sequence[float], y: Sequence[float]) -> float:
    dot = sum(a * b for a, b in zip(x, y, strict=True))
    norm = math.sqrt(sum(a * a for a in x) * sum(b * b for b in y))
    return max(0.0, dot / norm) if norm else 0.0


def canberra(x: Sequence[float], y: Sequence[float]) -> float:
    """1 - the Canberra distance over the number of variables."""
    if not x:
        return 0.0
    distance = sum(abs(a - b) / (abs(a) + abs(b)) for a, b in zip(x, y, strict=True) if abs(a) + abs(b) > 0)
    return 1.0 - distance / len(x)


def euclidean(x: Sequence[float], y: Sequence[float]) -> float:
    """1 - the Euclidean distance of the unit-length vectors over its largest value, sqrt(2)."""
    nx = math.sqrt(sum(a * a for a in x)) or 1.0
    ny = math.sqrt(sum(b * b for b in y)) or 1.0
    distance = math.sqrt(sum((a / nx - b / ny) ** 2 for a, b in zip(x, y, strict=True)))
    return max(0.0, 1.0 - distance / math.sqrt(2.0))


METRICS: dict[str, Callable[[Sequence[float], Sequence[float]], float]] = {
    "pearson": pearson,
    "cosine": cosine,
    "canberra": canberra,
    "euclidean": euclidean,
}
PRETREATMENTS = ("none", "sum", "sum_4th_root", "sum_log")


# --- the parts of the score --------------------------------------------------------------------


def chemistry(a: Profile, b: Profile, metric: str = METRIC, pretreatment: str = PRETREATMENT) -> float | None:
    """Similarity of the measured amounts over the union of components (absent = 0); None without amounts."""
    amounts_a, amounts_b = a.amounts, b.amounts
    if not amounts_a or not amounts_b:
        return None
    keys = sorted(set(amounts_a) | set(amounts_b))
    x = pretreat([amounts_a.get(k, 0.0) for k in keys], pretreatment)
    y = pretreat([amounts_b.get(k, 0.0) for k in keys], pretreatment)
    return METRICS[metric](x, y)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float | None:
    """|A ∩ B| / |A ∪ B|; None when both are empty (nothing to compare).

    >>> jaccard(frozenset({"caffeine", "levamisole"}), frozenset({"caffeine"}))
    0.5
    """
    union = a | b
    return len(a & b) / len(union) if union else None


def _text(value: str | None) -> str | None:
    return " ".join(value.casefold().split()) if value and value.strip() else None


def physical(a: Appearance, b: Appearance) -> tuple[float | None, list[str]]:
    """The share of physical characteristics recorded on both sides that agree, and their names."""
    agree: list[str] = []
    compared = 0
    for name in ("logo", "colour", "shape"):
        x, y = _text(getattr(a, name)), _text(getattr(b, name))
        if x and y:
            compared += 1
            if x == y:
                agree.append(name)
    if a.mass_mg and b.mass_mg:
        compared += 1
        if abs(a.mass_mg - b.mass_mg) <= MASS_TOLERANCE * max(a.mass_mg, b.mass_mg):
            agree.append("mass_mg")
    if a.diameter_mm and b.diameter_mm:
        compared += 1
        if abs(a.diameter_mm - b.diameter_mm) <= DIAMETER_TOLERANCE_MM:
            agree.append("diameter_mm")
    return (len(agree) / compared if compared else None), agree


def enantiomers(a: Profile, b: Profile) -> float | None:
    """The share of components with an enantiomer ratio on both sides whose ratios agree.

    >>> racemic = Profile((Component("MA", "active", 70.0, 50.0),))
    >>> ephedrine_route = Profile((Component("MA", "active", 72.0, 99.0),))
    >>> enantiomers(racemic, ephedrine_route)
    0.0
    """
    ratios_b = {c.key: c.enantiomer_ratio for c in b.components if c.enantiomer_ratio is not None}
    compared = [
        abs(c.enantiomer_ratio - ratios_b[c.key]) <= ENANTIOMER_TOLERANCE
        for c in a.components
        if c.enantiomer_ratio is not None and c.key in ratios_b
    ]
    return sum(compared) / len(compared) if compared else None


@dataclass(frozen=True)
class Link:
    score: float
    linked: bool
    parts: dict[str, float]
    shared: list[str]
    """Component keys present in both (actives first, then cutting agents, then markers), then the
    physical characteristics that agree."""


def may_link(
    a: Profile,
    b: Profile,
    metric: str = METRIC,
    pretreatment: str = PRETREATMENT,
    threshold: float = LINK_THRESHOLD,
) -> bool:
    """False when :func:`compare` would certainly not link the two: it refuses them, or their chemical
    similarity alone is below the threshold (the other parts can only lower the score). Cheaper than
    the comparison, for sifting many candidates."""
    chem = _comparable_chemistry(a, b, metric, pretreatment)
    return chem is not None and chem >= threshold


def _comparable_chemistry(a: Profile, b: Profile, metric: str, pretreatment: str) -> float | None:
    """The chemical similarity of two profiles, or None when they are not to be compared at all
    (different active substances, or too few features)."""
    if not (a.actives & b.actives) and (a.actives or b.actives):
        return None
    if a.features < MIN_FEATURES or b.features < MIN_FEATURES:
        return None
    chem = chemistry(a, b, metric, pretreatment)
    if chem is None:
        # only the presence of components was reported: a Jaccard index over all of them
        chem = jaccard(a.keys, b.keys) or 0.0
    return chem


def compare(
    a: Profile,
    b: Profile,
    metric: str = METRIC,
    pretreatment: str = PRETREATMENT,
    threshold: float = LINK_THRESHOLD,
) -> Link:
    """The link score of two profiles: their chemical similarity, lowered where the cutting agents
    and the physical characteristics disagree.

    Two seizures with different active substances are never linked: a batch is one recipe. Nor is a
    profile with fewer than :data:`MIN_FEATURES` features besides its active substance: "cocaine, 80 %"
    matches every other pure cocaine and says nothing about a common source.
    """
    chem = _comparable_chemistry(a, b, metric, pretreatment)
    if chem is None:
        return Link(0.0, False, {}, [])
    parts: dict[str, float] = {"chemistry": chem}
    cut = jaccard(a.cut, b.cut)
    if cut is not None:
        parts["cut"] = cut
    phys, agreeing = physical(a.appearance, b.appearance)
    if phys is not None:
        parts["physical"] = phys
    chirality = enantiomers(a, b)
    if chirality is not None:
        parts["enantiomers"] = chirality
        if chirality == 1.0:
            agreeing.append("enantiomer_ratio")
    context = [parts[name] for name in ("cut", "physical", "enantiomers") if name in parts]
    agreement = sum(context) / len(context) if context else 1.0
    # the chemistry decides (a batch is a synthesis); what it was cut with and pressed into can only
    # confirm or weaken it: two batches from one press and one cut stay apart
    score = chem * (1.0 - CONTEXT_WEIGHT + CONTEXT_WEIGHT * agreement)
    keys_b = {c.key for c in b.components}
    order = {"active": 0, "adulterant": 1, "diluent": 2, "impurity": 3, "by_product": 3, "unknown": 4}
    shared_components = []
    for c in sorted(a.components, key=lambda c: order.get(c.role, 4)):
        if c.key in keys_b and c.key not in shared_components:
            shared_components.append(c.key)
    return Link(
        round(score, 4),
        score >= threshold,
        {k: round(v, 4) for k, v in parts.items()},
        [
            *shared_components,
            *agreeing,
        ],
    )
