"""What start-up keeps between runs: standardized forms and the fingerprints of the known substances."""

from __future__ import annotations

from chem.library import ReferenceLibrary, bundled_substances


def _small_library(cache_dir) -> ReferenceLibrary:
    wanted = {"caffeine", "lidocaine", "procaine", "ephedrine", "codeine", "granisetron"}
    return ReferenceLibrary.build([s for s in bundled_substances() if s.name in wanted], cache_dir=cache_dir)


def test_known_fingerprints_are_kept_and_a_damaged_file_is_recomputed(tmp_path):
    first = _small_library(tmp_path)
    known, fingerprints = first.known_index
    files = list(tmp_path.glob("known-fingerprints-*.bin"))
    assert len(files) == 1 and {s.name for s in known} >= {"caffeine", "lidocaine", "granisetron"}
    second = _small_library(tmp_path)
    assert [fp.ToBitString() for fp in second.known_index[1]] == [fp.ToBitString() for fp in fingerprints]
    files[0].write_bytes(b"\x05\x00\x00\x00garbage")
    third = _small_library(tmp_path)
    assert [fp.ToBitString() for fp in third.known_index[1]] == [fp.ToBitString() for fp in fingerprints]


def test_library_substances_keep_lazy_identifiers_that_match_a_fresh_standardization(tmp_path):
    library = _small_library(tmp_path)
    again = _small_library(tmp_path)  # from the cache: no molecule parsed yet
    for substance in again.substances:
        fresh = next(s for s in library.substances if s.id == substance.id)
        assert substance.standardized.inchikey == fresh.standardized.inchikey
        assert substance.standardized.inchi == fresh.standardized.inchi
        assert substance.standardized.has_stereo == fresh.standardized.has_stereo
