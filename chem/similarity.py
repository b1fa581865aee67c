"""Tanimoto similarity of one fingerprint to many, over bits packed into one array.

RDKit's ``BulkTanimotoSimilarity`` returns a Python float for every library
structure, and the caller then walks all of them in Python to keep the few
that are similar enough. Here the library's fingerprints are one numpy array of
64-bit words: one AND and one population count answer for all of them, and
only the structures at or above a threshold come back to Python.

The values are RDKit's to the last bit: ``common / (on_query + on_reference - common)``
in double precision, and 0.0 when neither fingerprint has a bit set.

>>> from rdkit import Chem, DataStructs
>>> from chem.library import fingerprint
>>> fps = [fingerprint(Chem.MolFromSmiles(s)) for s in ("CNC(C)Cc1ccccc1", "CC(N)Cc1ccccc1", "OCCO")]
>>> index = FingerprintIndex(fps)
>>> query = fingerprint(Chem.MolFromSmiles("CCNC(C)Cc1ccccc1"))
>>> [round(s, 3) for s in index.similarities(query)] == [round(s, 3) for s in DataStructs.BulkTanimotoSimilarity(query, fps)]
True
>>> [(i, round(s, 3)) for i, s in index.at_least(query, 0.5)]
[(0, 0.63), (1, 0.5)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import DataStructs


def packed(fingerprints: Sequence[DataStructs.ExplicitBitVect]) -> np.ndarray:
    """Fingerprints as rows of little-endian 64-bit words: bit i of a row is bit i of its fingerprint.

    The FPS text of a fingerprint is its bytes in hex, lowest bit first; reading it
    back is the quickest way RDKit offers from a bit vector to bytes.
    """
    sizes = {fp.GetNumBits() for fp in fingerprints}
    if not sizes:
        return np.zeros((0, 0), dtype="<u8")
    if len(sizes) > 1 or min(sizes) % 64:
        raise ValueError(f"fingerprints of {sorted(sizes)} bits: one size, a multiple of 64, is needed")
    text = "".join(DataStructs.BitVectToFPSText(fp) for fp in fingerprints)
    return np.frombuffer(bytes.fromhex(text), dtype="<u8").reshape(len(fingerprints), -1)


class FingerprintIndex:
    """Bit-vector fingerprints of equal size, searched by Tanimoto similarity."""

    def __init__(self, fingerprints: Sequence[DataStructs.ExplicitBitVect]) -> None:
        self.size = fingerprints[0].GetNumBits() if fingerprints else 0
        self.words = packed(fingerprints)
        self.on_bits = np.bitwise_count(self.words).sum(axis=1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.on_bits)

    def similarities(self, query: DataStructs.ExplicitBitVect) -> np.ndarray:
        """Tanimoto similarity of ``query`` to every fingerprint, in index order."""
        if not len(self):
            return np.zeros(0, dtype=np.float64)
        if query.GetNumBits() != self.size:
            raise ValueError(f"a {query.GetNumBits()}-bit query against {self.size}-bit fingerprints")
        words = packed([query])[0]
        common = np.bitwise_count(self.words & words).sum(axis=1, dtype=np.int64)
        union = self.on_bits + query.GetNumOnBits() - common
        scores = np.zeros(len(union), dtype=np.float64)
        np.divide(common, union, out=scores, where=union > 0)
        return scores

    def at_least(self, query: DataStructs.ExplicitBitVect, threshold: float) -> list[tuple[int, float]]:
        """(index, similarity) of the fingerprints at least ``threshold`` similar to ``query``, in index order."""
        scores = self.similarities(query)
        return [(int(i), float(scores[i])) for i in np.flatnonzero(scores >= threshold)]

    def ranked(self, query: DataStructs.ExplicitBitVect, tie_order: np.ndarray) -> list[tuple[int, float]]:
        """(index, similarity) of every fingerprint, the most similar first; equal similarities in
        ``tie_order`` (a rank for each fingerprint), then in index order."""
        scores = self.similarities(query)
        order = np.lexsort((tie_order, -scores))
        return list(zip(order.tolist(), scores[order].tolist(), strict=True))

    def nearest(self, query: DataStructs.ExplicitBitVect) -> tuple[int, float]:
        """(index, similarity) of the most similar fingerprint, the first of equals; (-1, 0.0) when empty."""
        if not len(self):
            return -1, 0.0
        scores = self.similarities(query)
        best = int(np.argmax(scores))
        return best, float(scores[best])
