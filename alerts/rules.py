"""Alert rules: what in a new detection deserves a warning, and how urgent it is.

Pure logic over plain facts: the application looks up the history (first
detection? how many in the region lately?) and hands it over as a
:class:`ComponentFacts`; the rules return :class:`Trigger` objects. Several
detections of one substance feed one alert: a trigger's ``key`` says which.

The rules (issue "Alerts"):

1. ``new_substance``: first detection in the network of a structure that is
   not in the reference library, or of an analog;
2. ``first_in_country``: first detection of a substance of concern in a
   country (analogs, new structures, controlled NPS and high-harm drugs);
3. ``high_harm``: an analog or new substance of a high-harm class raises
   severity to Severe or Extreme and urgency to Immediate (a modifier of 1, 2
   and 4, and a trigger of its own when a high-harm analog turns up again);
4. ``cluster``: N detections of one substance in one region within T days;
5. ``unexpected_content``: a controlled or dangerous substance in a sample
   sold as something else;
6. ``linked_cluster``: seizures linked by their chemical profiles (one supply)
   now found in two or more countries, for a high-harm substance (see
   :func:`linked_cluster`).

>>> facts = ComponentFacts(verdict="analog", drug_class="opioid", high_harm=True, skeleton_key="OIOQREYBGDAYGT",
...     substance_name="isotonitazene", country="CO", region="Antioquia", confidence="confirmed",
...     first_in_network=True, first_in_country=True, recent_in_region=1)
>>> [(t.rule, t.severity, t.urgency) for t in evaluate(facts, ClusterPolicy())]
[('new_substance', 'Extreme', 'Immediate')]
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
RULES = ("new_substance", "first_in_country", "high_harm", "cluster", "unexpected_content", "linked_cluster")

HIGH_HARM_CLASSES = frozenset({"opioid", "benzodiazepine"})
"""Classes whose new members get Severe at least: potent opioids and designer benzodiazepines."""
NPS_SINCE_YEAR = 2005
"""Controlled substances scheduled from this year on count as new psychoactive substances."""


def severity_rank(severity: str) -> int:
    """Extreme = 0 (most severe) ... Unknown = 4."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


@dataclass(frozen=True)
class ClusterPolicy:
    threshold: int = 3
    window_days: int = 14


@dataclass(frozen=True)
class ComponentFacts:
    """One matched component of a new detection, and what the network has seen of it before."""

    verdict: str
    drug_class: str | None
    high_harm: bool
    skeleton_key: str
    substance_name: str | None
    country: str
    region: str | None
    confidence: str
    first_in_network: bool
    first_in_country: bool
    recent_in_region: int  # detections of this substance in (country, region) within the window, this one included
    controlled_since_year: int | None = None
    sold_as: str | None = None
    expected_here: bool = True  # the sample was sold as this substance (or nothing was said)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trigger:
    rule: str
    key: str
    severity: str
    urgency: str
    certainty: str
    reasons: tuple[str, ...] = field(default=())

    @property
    def publishes_at_once(self) -> bool:
        """Extreme alerts from rules 1–3 go out without waiting for an analyst."""
        return self.severity == "Extreme" and self.rule in ("new_substance", "first_in_country", "high_harm")


def _certainty(confidence: str) -> str:
    return "Observed" if confidence == "confirmed" else "Likely"


def of_concern(verdict: str, high_harm: bool, controlled_since_year: int | None) -> bool:
    """Substances whose spread is early-warning news (not cocaine's thousandth seizure)."""
    if verdict in ("analog", "no_match"):
        return True
    if verdict != "controlled":
        return False
    recent = controlled_since_year is not None and controlled_since_year >= NPS_SINCE_YEAR
    return high_harm or recent


def _of_concern(facts: ComponentFacts) -> bool:
    return of_concern(facts.verdict, facts.high_harm, facts.controlled_since_year)


def _harm(facts: ComponentFacts, new: bool) -> tuple[str, str]:
    """(severity, urgency) of a substance that is new to the network or a country."""
    if facts.verdict in ("analog", "no_match") and facts.high_harm:
        return "Extreme", "Immediate"
    if facts.high_harm or facts.drug_class in HIGH_HARM_CLASSES:
        return "Severe", "Immediate"
    if facts.verdict == "analog":
        return ("Moderate" if new else "Minor"), "Expected"
    return "Minor", "Expected"


def evaluate(facts: ComponentFacts, cluster: ClusterPolicy) -> list[Trigger]:
    triggers: list[Trigger] = []
    certainty = _certainty(facts.confidence)
    substance = facts.skeleton_key
    if facts.verdict in ("analog", "no_match") and facts.first_in_network:
        severity, urgency = _harm(facts, new=True)
        if facts.verdict == "no_match" and not facts.high_harm:
            severity = "Minor"
        triggers.append(
            Trigger(
                "new_substance",
                f"new:{substance}",
                severity,
                urgency,
                certainty,
                ("first detection in the network",),
            )
        )
    elif _of_concern(facts) and facts.first_in_country:
        severity, urgency = _harm(facts, new=False)
        triggers.append(
            Trigger(
                "first_in_country",
                f"country:{substance}:{facts.country}",
                severity,
                urgency,
                certainty,
                (f"first detection in {facts.country}",),
            )
        )
    elif facts.verdict == "analog" and facts.high_harm:
        # a high-harm analog again: one running alert per substance keeps its count and countries
        triggers.append(
            Trigger(
                "high_harm",
                f"new:{substance}",
                "Extreme",
                "Immediate",
                certainty,
                ("high-harm analog detected again",),
            )
        )
    if _of_concern(facts) and facts.recent_in_region >= cluster.threshold:
        high = facts.high_harm or facts.drug_class in HIGH_HARM_CLASSES
        triggers.append(
            Trigger(
                "cluster",
                f"cluster:{substance}:{facts.country}:{_slug(facts.region or '')}",
                "Severe" if high else "Moderate",
                "Immediate" if high else "Expected",
                certainty,
                (
                    f"{facts.recent_in_region} detections in {facts.region or facts.country} "
                    f"within {cluster.window_days} days",
                ),
            )
        )
    if facts.sold_as and not facts.expected_here and facts.verdict in ("controlled", "analog"):
        if facts.drug_class == "opioid":
            severity, urgency = "Extreme", "Immediate"
        elif facts.drug_class in HIGH_HARM_CLASSES or facts.high_harm:
            severity, urgency = "Severe", "Immediate"
        else:
            severity, urgency = "Moderate", "Expected"
        triggers.append(
            Trigger(
                "unexpected_content",
                f"unexpected:{substance}:{_slug(facts.sold_as)}:{facts.country}",
                severity,
                urgency,
                certainty,
                (f"sold as {facts.sold_as}",),
            )
        )
    return triggers


@dataclass(frozen=True)
class ClusterFacts:
    """A cluster of seizures linked by their profiles (one supply), as it stands after a new link."""

    cluster_id: str
    substance_key: str
    drug_class: str | None
    high_harm: bool
    countries: tuple[str, ...]
    size: int
    confidence: str = "confirmed"


def linked_cluster(facts: ClusterFacts) -> Trigger | None:
    """A supply of a high-harm substance crossing a border: one alert per cluster.

    >>> facts = ClusterFacts("c1", "OIOQREYBGDAYGT", "opioid", True, ("CO", "MX"), 3)
    >>> t = linked_cluster(facts)
    >>> (t.rule, t.key, t.severity, t.urgency)
    ('linked_cluster', 'linked:OIOQREYBGDAYGT:c1', 'Severe', 'Immediate')
    >>> linked_cluster(ClusterFacts("c1", "OIOQREYBGDAYGT", "opioid", True, ("CO",), 5)) is None
    True
    >>> linked_cluster(ClusterFacts("c2", "XXXXXXXXXXXXXX", "cathinone", False, ("CO", "MX"), 2)) is None
    True
    """
    if len(set(facts.countries)) < 2:
        return None
    if not (facts.high_harm or facts.drug_class in HIGH_HARM_CLASSES):
        return None
    countries = sorted(set(facts.countries))
    return Trigger(
        "linked_cluster",
        f"linked:{facts.substance_key}:{facts.cluster_id}",
        "Severe",
        "Immediate",
        _certainty(facts.confidence),
        (
            f"{facts.size} seizures linked by chemical profile across {len(countries)} countries: {', '.join(countries)}",
        ),
    )


# --- what a sample was sold as -----------------------------------------------------------------


def _fold(text: str) -> str:
    """Lowercase, accents removed, punctuation to spaces: 'Éxtasis' -> 'extasis'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _slug(text: str) -> str:
    return _fold(text).replace(" ", "-")


@cache
def street_names() -> dict[str, frozenset[str]]:
    """Street and trade names (en/es/pt/fr) -> the substance names they stand for."""
    data = tomllib.loads(resources.files("alerts").joinpath("data/street_names.toml").read_text("utf-8"))
    table: dict[str, frozenset[str]] = {}
    for entry in data["name"]:
        meaning = frozenset(_fold(s) for s in entry["means"])
        for alias in entry["aliases"]:
            table[_fold(alias)] = meaning
    return table


def sold_as_matches(sold_as: str, names: tuple[str, ...] | list[str]) -> bool:
    """Whether a component known by ``names`` is what the sample was sold as.

    >>> sold_as_matches("éxtasis", ["MDMA", "3,4-methylenedioxymethamphetamine"])
    True
    >>> sold_as_matches("heroin", ["isotonitazene"])
    False
    >>> sold_as_matches("cocaine HCl", ["cocaine"])
    True
    """
    wanted = _fold(sold_as)
    if not wanted:
        return True
    expected = {wanted} | set(street_names().get(wanted, frozenset()))
    for token in wanted.split():
        expected |= street_names().get(token, frozenset())
        expected.add(token)
    folded = {_fold(n) for n in names if n}
    return any(e and (e == n or e in n.split() or n in e.split()) for e in expected for n in folded)
