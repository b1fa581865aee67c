"""The on-disk standardization cache never turns a foreign or damaged file into a crash."""

from __future__ import annotations

import json

from chem.library import StandardizationCache

CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"


def test_entries_of_another_shape_are_recomputed(tmp_path):
    cache = StandardizationCache(tmp_path)
    assert cache.path is not None
    cache.path.write_text(json.dumps({CAFFEINE: ["Cn1c(=O)c2c(ncn2C)n(C)c1=O", [], {"extra": 1}], "CCO": "x"}))
    again = StandardizationCache(tmp_path)
    assert again.standardized(CAFFEINE).inchikey == "RYYVLZVUVIJVGH-UHFFFAOYSA-N"
    assert again.standardized("CCO").smiles == "CCO"


def test_a_damaged_file_is_an_empty_cache(tmp_path):
    cache = StandardizationCache(tmp_path)
    assert cache.path is not None
    cache.path.write_text("{not json")
    assert StandardizationCache(tmp_path).standardized(CAFFEINE).formula == "C8H10N4O2"
