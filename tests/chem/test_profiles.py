"""The link score between seizure profiles (chem.profiles): what links, what does not, and why."""

from __future__ import annotations

import random

import pytest

from bench.profile_links import SCENARIOS, at_threshold, pairs, population
from chem.profiles import (
    LINK_THRESHOLD,
    METRICS,
    Appearance,
    Component,
    Profile,
    canberra,
    compare,
    pearson,
    pretreat,
)

TESLA = Appearance(colour="pink", logo="Tesla", shape="round", mass_mg=310.0, diameter_mm=9.0)


def mdma(amounts, adulterants=("caffeine",), appearance=TESLA, active=35.0):
    markers = [Component(f"M{i}", "impurity", a) for i, a in enumerate(amounts)]
    cut = [Component(name, "adulterant", 6.0) for name in adulterants]
    return Profile((Component("MDMA", "active", active), *cut, *markers), appearance)


BATCH = (0.20, 0.11, 0.030, 0.008)


def test_seizures_of_one_batch_link_and_the_score_names_what_they_share():
    link = compare(mdma(BATCH), mdma((0.22, 0.10, 0.033, 0.007), active=31.0))
    assert link.linked and link.score > 0.85
    assert link.shared[:2] == ["MDMA", "caffeine"] and {"logo", "mass_mg"} <= set(link.shared)


def test_a_new_synthesis_pressed_and_cut_alike_by_the_same_producer_is_not_linked():
    link = compare(mdma(BATCH), mdma((0.02, 0.40, 0.300, 0.050)))
    assert link.parts["physical"] == 1.0 and link.parts["cut"] == 1.0
    assert not link.linked


def test_a_seizure_cut_again_downstream_stays_linked():
    diluted = Profile(
        tuple(Component(c.key, c.role, c.amount * 0.6 if c.amount else None) for c in mdma(BATCH).components)
        + (Component("levamisole", "adulterant", 10.0),),
        TESLA,
    )
    assert compare(mdma(BATCH), diluted).linked


def test_different_actives_and_bare_profiles_never_link():
    other = Profile((Component("MDA", "active", 35.0), *mdma(BATCH).components[1:]), TESLA)
    assert compare(mdma(BATCH), other).score == 0.0
    bare = Profile((Component("cocaine", "active", 80.0),))
    assert not compare(bare, Profile((Component("cocaine", "active", 81.0),))).linked


def test_enantiomer_ratios_that_disagree_weaken_a_link():
    racemic = Profile((Component("MA", "active", 70.0, 50.0), Component("P", "impurity", 0.2)), TESLA)
    single = Profile((Component("MA", "active", 70.0, 99.0), Component("P", "impurity", 0.2)), TESLA)
    same = compare(racemic, racemic)
    assert same.score == 1.0 and "enantiomer_ratio" in same.shared
    assert compare(racemic, single).score < same.score


def test_metrics_and_pretreatments():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert canberra([1, 0], [1, 1]) == pytest.approx(0.5)
    assert sum(pretreat([3.0, 1.0], "sum")) == pytest.approx(1.0)
    for metric in METRICS.values():
        assert metric([0.5, 0.3, 0.2], [0.5, 0.3, 0.2]) == pytest.approx(1.0)


def test_the_operating_point_holds_on_a_generated_population():
    """A floor, not a timing: the bench's population (small) keeps FPR <= 0.5 % at recall >= 80 %."""
    candidates = pairs(population(random.Random(3), 12))
    scores = [(compare(a, b).score, linked) for a, b, linked in candidates]
    recall, fpr = at_threshold(scores, LINK_THRESHOLD)
    assert sum(linked for _, linked in scores) > 100 and len(SCENARIOS) == 3
    assert recall >= 0.80 and fpr <= 0.005
