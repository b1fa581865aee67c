"""Batch matching throughput against the bare RDKit floor, in the same process.

The floor is what any tool must do per structure: parse, standardize
(RDKit's cleanup, fragment parent, uncharge, canonical tautomer), InChIKey and
a Morgan fingerprint. ews does that and then decides: identity, listing
clauses, generic definitions, family rules, similarity and, when undecided,
an MCS. The structures are every reference and validation structure plus
analogs made from them (halogen, methyl and methoxy walks on aromatic
carbons), a few thousand in all.

Both are timed by the wall clock and by the CPU time of the process: on a
shared machine the CPU-time ratio is the one to trust. ews's time includes its start-up: loading the library (through the
standardization cache, as ``ews match`` does) is counted with the matching.
Then the same batch through ``ews.matching.match_all`` on every core, and the
start-up of ``ews match`` itself: a fresh ``ews match --smiles`` process, cached
library, the best and the median of several runs.

Floor and ews run alternately ``--rounds`` times (default 3) and the median round is reported.

Run: ``python -m bench.match_throughput [--limit N] [--rounds N] [--startup-runs N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rdkit import Chem, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.MolStandardize import rdMolStandardize

from bench.validation import rows
from chem.library import BUNDLED_MEDICINES, ReferenceLibrary, bundled_substances
from chem.match import match_text
from ews.matching import Query, default_jobs, match_all

RDLogger.DisableLog("rdApp.*")
SUBSTITUENTS = ("F", "Cl", "Br", "C", "OC")


def structures(limit: int, seed: int = 7) -> list[str]:
    """Reference and validation structures, and analogs walked from them."""
    # the UN lists and known.csv, not the 3,900 DrugCentral medicines: the same set as before they came
    base = [s.smiles for s in bundled_substances() if s.smiles and s.source != f"bundled:{BUNDLED_MEDICINES}"]
    for name in ("recently_scheduled.csv", "nps_positives.csv", "negatives.csv"):
        base += [r["smiles"] for r in rows(name)]
    random.seed(seed)
    result = list(dict.fromkeys(base))
    analogs = []
    for smiles in result:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            continue
        aromatic = [
            a.GetIdx() for a in mol.GetAtoms() if a.GetIsAromatic() and a.GetSymbol() == "C" and a.GetTotalNumHs()
        ]
        for index in random.sample(aromatic, min(2, len(aromatic))):
            editable = Chem.RWMol(mol)
            substituent = Chem.MolFromSmiles(random.choice(SUBSTITUENTS))
            offset = editable.GetNumAtoms()
            editable.InsertMol(substituent)
            editable.AddBond(index, offset, Chem.BondType.SINGLE)
            editable.GetAtomWithIdx(index).SetNumExplicitHs(0)
            try:
                Chem.SanitizeMol(editable)
                analogs.append(Chem.MolToSmiles(editable))
            except Exception:  # noqa: BLE001 - an impossible walk is just skipped
                continue
    result += analogs
    random.shuffle(result)
    return result[:limit]


def floor(smiles_list: list[str]) -> tuple[float, float]:
    """Structures per second (wall, CPU) for parse + standardize + InChIKey + Morgan, RDKit only."""
    enumerator = rdMolStandardize.TautomerEnumerator()
    uncharger = rdMolStandardize.Uncharger()
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    start, cpu = time.perf_counter(), time.process_time()
    for smiles in smiles_list:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            continue
        mol = rdMolStandardize.Cleanup(mol)
        mol = rdMolStandardize.FragmentParent(mol)
        mol = uncharger.uncharge(mol)
        mol = enumerator.Canonicalize(mol)
        Chem.MolToInchiKey(mol)
        generator.GetFingerprint(mol)
    count = len(smiles_list)
    return count / (time.perf_counter() - start), count / (time.process_time() - cpu)


def ews_rate(smiles_list: list[str], cache_dir: Path) -> tuple[float, float, dict]:
    """Structures per second (wall, CPU), the library load (start-up) included."""
    verdicts: dict[str, int] = {}
    start, cpu = time.perf_counter(), time.process_time()
    library = ReferenceLibrary.bundled(cache_dir=cache_dir)
    for smiles in smiles_list:
        result = match_text(smiles, library)
        verdict = result.get("verdict", "error")
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    count = len(smiles_list)
    return count / (time.perf_counter() - start), count / (time.process_time() - cpu), verdicts


def parallel_rate(smiles_list: list[str], cache_dir: Path, jobs: int) -> float:
    start = time.perf_counter()
    library = ReferenceLibrary.bundled(cache_dir=cache_dir)
    queries = [Query(name=str(i), text=smiles) for i, smiles in enumerate(smiles_list)]
    count = sum(1 for _ in match_all(queries, library, jobs=jobs))
    return count / (time.perf_counter() - start)


def startup(runs: int, cache_dir: Path) -> list[float]:
    """Wall time of ``ews match --smiles CCO`` in a fresh process, the library cached."""
    env = {**os.environ, "EWS_CACHE_DIR": str(cache_dir)}
    command = [sys.executable, "-m", "ews.cli", "match", "--smiles", "CCO", "--format", "json"]
    subprocess.run(command, env=env, capture_output=True, check=True)  # fills the cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--startup-runs", type=int, default=7)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="floor and ews run alternately this many times (each ews round loads the library afresh); "
        "the median round is reported, so a burst of load on a shared machine moves one round, not the figure",
    )
    args = parser.parse_args()
    cache_dir = Path.home() / ".cache" / "ews"
    ReferenceLibrary.bundled(cache_dir=cache_dir)  # the cache as a user has it after the first run
    batch = structures(args.limit)
    floor(batch[:100])  # warm up
    rounds = []
    for _ in range(max(1, args.rounds)):
        floor_rate, floor_cpu = floor(batch)
        rate, rate_cpu, verdicts = ews_rate(batch, cache_dir)
        rounds.append((rate_cpu / floor_cpu, rate / floor_rate, floor_rate, floor_cpu, rate, rate_cpu))
    rounds.sort()
    _, _, floor_rate, floor_cpu, rate, rate_cpu = rounds[len(rounds) // 2]
    jobs = default_jobs()
    parallel = parallel_rate(batch, cache_dir, jobs)
    started = startup(args.startup_runs, cache_dir)
    print(f"structures: {len(batch)} (reference, validation and walked analogs)")
    print(
        f"RDKit floor (parse+standardize+InChIKey+Morgan): {floor_rate:8.1f} structures/s ({floor_cpu:.1f} per CPU s)"
    )
    print(f"ews match, one process, library load included:   {rate:8.1f} structures/s ({rate_cpu:.1f} per CPU s)")
    print(
        f"ratio ews / floor: {rate / floor_rate:.2f} wall clock, {rate_cpu / floor_cpu:.2f} CPU time  (target >= 0.60)"
    )
    if len(rounds) > 1:
        print("CPU-time ratio of each round:", ", ".join(f"{r[0]:.2f}" for r in rounds), "(the median above)")
    print(
        f"ews match_all on {jobs} processes:                 {parallel:8.1f} structures/s ({parallel / rate:.2f}x)"
    )
    print(
        f"start-up of `ews match --smiles CCO` (library cached, {len(started)} runs): "
        f"best {min(started):.2f} s, median {statistics.median(started):.2f} s  (target < 1 s)"
    )
    print("verdicts:", ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))


if __name__ == "__main__":
    main()
