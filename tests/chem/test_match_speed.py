"""The fast paths of the match engine give the answers of the straightforward ones.

Similarity search over packed bits, one-step screening of family rules and
definition cores, and the ester/ether parent screen only skip work: on the
validation structures the match results (verdict, class, every piece of
evidence, every similarity value) are the same as those of a library that
does each step the plain way — RDKit's bulk similarity, every rule and
definition tried, every ester and ether cleaved.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from rdkit import Chem, DataStructs

from bench.validation import rows
from chem.library import ReferenceLibrary, fingerprint
from chem.match import DEFAULT_POLICY, _ester_ether_parents, match
from chem.screening import ScreenIndex, may_contain, screen
from chem.similarity import FingerprintIndex
from chem.standardize import standardize_text

AS_OF = date(2026, 1, 1)
# the MCS stops after 0.25 s of CPU; generous here as well, so that the plain and the fast paths compare the same searches
POLICY = replace(DEFAULT_POLICY, mcs_timeout_seconds=30.0)


class PlainLibrary(ReferenceLibrary):
    """The library with its shortcuts taken out: each step done the straightforward way."""

    def similar_controlled(self, query_fp, threshold, among=None):
        scores = DataStructs.BulkTanimotoSimilarity(query_fp, self.controlled_fps)
        pairs = zip(scores, self.controlled, among if among is not None else [True] * len(scores), strict=True)
        return [(score, s) for score, s, wanted in pairs if score >= threshold and wanted]

    def controlled_in_force(self, jurisdiction, on):
        return [
            any(
                c.status == "controlled" and c.applies_in(jurisdiction) and c.in_force_anywhere(on)
                for c in s.controls
            )
            for s in self.controlled
        ]

    def nearest_known(self, query_fp):
        known, fingerprints = self.known_index
        if not known:
            return 0.0, None
        scores = DataStructs.BulkTanimotoSimilarity(query_fp, fingerprints)
        best = max(range(len(scores)), key=scores.__getitem__)
        return scores[best], known[best]

    def possible_rules(self, molecule_screen):
        return list(self.families), [True] * len(self.definitions)

    def may_be_ester_or_ether(self, molecule_screen):
        return True


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def library(cache_dir) -> ReferenceLibrary:
    return ReferenceLibrary.bundled(cache_dir=cache_dir)


@pytest.fixture(scope="module")
def plain(cache_dir, library) -> PlainLibrary:
    built = PlainLibrary.bundled(cache_dir=cache_dir)
    assert len(built.substances) == len(library.substances)
    return built


def _structures() -> list[str]:
    smiles = []
    for name in ("recently_scheduled.csv", "nps_positives.csv", "negatives.csv"):
        smiles += [row["smiles"] for row in rows(name)]
    return list(dict.fromkeys(smiles))


@pytest.fixture(scope="module")
def structures() -> list:
    """The validation structures, standardized."""
    return [standardize_text(text) for text in _structures()]


def test_packed_similarity_is_rdkits_to_the_last_bit(library, structures):
    known, known_fps = library.known_index
    fingerprints = library.controlled_fps + known_fps
    index = FingerprintIndex(fingerprints)
    for std in structures[::3]:
        query = fingerprint(std.mol)
        assert index.similarities(query).tolist() == DataStructs.BulkTanimotoSimilarity(query, fingerprints)
    best, score = library.known_fingerprint_index.nearest(fingerprint(structures[0].mol))
    plain = DataStructs.BulkTanimotoSimilarity(fingerprint(structures[0].mol), known_fps)
    assert score == max(plain) and best == plain.index(max(plain))


def test_ranked_neighbours_come_in_the_order_of_a_plain_sort(library, structures):
    known, known_fps = library.known_index
    for std in structures[::7]:
        query = fingerprint(std.mol)
        for fast, substances, fingerprints in (
            (library.controlled_by_similarity(query), library.controlled, library.controlled_fps),
            (library.known_by_similarity(query), known, known_fps),
        ):
            scores = DataStructs.BulkTanimotoSimilarity(query, fingerprints)
            plain = sorted(zip(scores, substances, strict=True), key=lambda pair: (-pair[0], pair[1].name))
            assert [(score, s.id) for score, s in fast] == [(score, s.id) for score, s in plain]


def test_an_empty_index_finds_nothing():
    query = fingerprint(Chem.MolFromSmiles("CCO"))
    assert FingerprintIndex([]).at_least(query, 0.0) == [] and FingerprintIndex([]).nearest(query) == (-1, 0.0)
    assert ScreenIndex([]).possible(screen(Chem.MolFromSmiles("CCO"))).tolist() == []


def test_screen_index_agrees_with_may_contain(library, structures):
    screens = [s for rule in library.families for s in rule.screens]
    index = ScreenIndex(screens)
    for std in structures[::2]:
        molecule_screen = screen(std.mol)
        assert index.possible(molecule_screen).tolist() == [may_contain(molecule_screen, q) for q in screens]


def test_rules_left_out_by_the_screen_cannot_match(library, structures):
    for std in structures:
        families, cores = library.possible_rules(screen(std.mol))
        for rule in library.families:
            if rule not in families:
                assert rule.matching_atoms(std.mol) is None, rule.id
        for definition, possible in zip(library.definitions, cores, strict=True):
            if not possible:
                assert definition.covers(std.mol, std.skeleton_key, tautomers=False) is None, definition.id


def test_no_ester_or_ether_parent_is_missed_by_the_screen(library, structures):
    screened_out = 0
    for std in structures:
        if not library.may_be_ester_or_ether(screen(std.mol)):
            screened_out += 1
            assert list(_ester_ether_parents(std, library, "UN", AS_OF)) == [], std.smiles
    assert screened_out > len(structures) // 2  # the screen does skip most structures


def test_esters_and_ethers_of_listed_substances_are_still_found(library):
    heroin = standardize_text("CC(=O)Oc1ccc2CC3N(C)CCC45C(Oc1c24)C(OC(C)=O)C=CC35")
    codeine_ethyl = standardize_text("CCOc1ccc2CC3N(C)CCC45C(Oc1c24)C(O)C=CC35")  # ethylmorphine
    for std in (heroin, codeine_ethyl):
        assert library.may_be_ester_or_ether(screen(std.mol))
        fast = list(_ester_ether_parents(std, library, "UN", AS_OF, screen(std.mol)))
        assert fast and fast == list(_ester_ether_parents(std, library, "UN", AS_OF))


@pytest.mark.parametrize("jurisdiction", ["UN", "GB"])  # the holdout below asks the Americas
def test_match_results_are_those_of_the_plain_library(library, plain, structures, jurisdiction):
    for std in structures:
        fast = match(std, library, as_of=AS_OF, jurisdiction=jurisdiction, policy=POLICY).to_dict()
        slow = match(std, plain, as_of=AS_OF, jurisdiction=jurisdiction, policy=POLICY).to_dict()
        assert fast == slow, std.smiles


def test_holdout_results_are_those_of_the_plain_library(library, plain):
    for row in rows("jurisdictions_holdout.csv"):
        std = standardize_text(row["smiles"])
        kwargs = {"as_of": AS_OF, "jurisdiction": row["jurisdiction"], "policy": POLICY}
        assert match(std, library, **kwargs).to_dict() == match(std, plain, **kwargs).to_dict(), row["name"]
