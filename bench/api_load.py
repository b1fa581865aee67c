"""Sustained detections per second, and latency, of `ews serve` under load.

`ews serve` runs in its own process (two API workers, scheduler off: this
measures the API, not delivery); this process is the load generator: C
concurrent clients POST detections of realistic mixtures (a drug with its
usual adulterants, new analogs among them) for D seconds. Run on SQLite and
on PostgreSQL (a fresh database on 127.0.0.1:5432).

Run: ``python -m bench.api_load [--seconds 20] [--clients 16] [--workers 2] [--database sqlite|postgresql|both]``.
With ``--baseline PREVIOUS_CHECKOUT [--rounds 3]`` the same benchmark of another checkout's code runs
alternately with this one, and the figures are printed as ratios: on a shared machine only
figures taken in the same minutes compare. The CPU figures are also compared divided by the load
generator's CPU per detection in the same run: the generator does the same work for every detection,
so what it took says how fast the machine was meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.validation import rows
from ews.db import engine_for, session_scope
from ews.migrate import upgrade
from ews.services.admin import create_organisation, issue_key
from ews.services.library import load_bundled

WORKERS = int(os.environ.get("EWS_BENCH_WORKERS", "2"))
ADULTERANTS = [
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "c1ccc(cc1)[C@H]1CN2CCSC2=N1",  # levamisole
    "CCOc1ccc(NC(C)=O)cc1",  # phenacetin
    "CCN(CC)CC(=O)Nc1c(C)cccc1C",  # lidocaine
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
]
DRUGS = [
    "COC(=O)[C@H]1[C@@H](OC(=O)c2ccccc2)C[C@@H]2CC[C@H]1N2C",  # cocaine
    "CC(=O)O[C@H]1C=C[C@H]2[C@H]3Cc4ccc(OC(C)=O)c5O[C@@H]1[C@]2(CCN3C)c45",  # heroin
    "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",  # fentanyl
    "CNC(C)Cc1ccccc1",  # methamphetamine
    "CNC(C)Cc1ccc2c(c1)OCO2",  # MDMA
]


def mixtures(count: int, seed: int = 11) -> list[list[str]]:
    random.seed(seed)
    new = [r["smiles"] for r in rows("nps_positives.csv")]
    result = []
    for _ in range(count):
        drug = random.choice(new) if random.random() < 0.3 else random.choice(DRUGS)
        result.append([drug, *random.sample(ADULTERANTS, random.randint(0, 2))])
    return result


def prepare(url: str, cache: str) -> str:
    upgrade(url)
    engine = engine_for(url)
    load_bundled(engine, Path(cache))
    with session_scope(engine) as session:
        lab = create_organisation(session, "bench lab", "lab", "CO")
        _, key = issue_key(session, lab, None)
    engine.dispose()
    return key


def serve(url: str, port: int, workers: int = WORKERS) -> subprocess.Popen:
    env = {
        **os.environ,
        "EWS_DATABASE_URL": url,
        "EWS_SCHEDULER": "off",
        "EWS_NODE_ID": "bench",
        # every client is on one address here; the per-key limit (and so the limiter's work) stays on
        "EWS_RATE_LIMIT_PER_ADDRESS": "10000000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ews.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-scheduler",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("ews serve did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (Linux /proc; 0 where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _tree(pid: int) -> list[int]:
    """A process and its descendants (the uvicorn supervisor and its workers)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        pending += [int(c) for c in children]
    return found


def backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to this database (a server's pool, autovacuum), this query's own left out."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


class CpuMeter:
    """CPU seconds spent by the server's processes and by the PostgreSQL backends serving its database.

    Throughput on a shared machine moves with everyone else's load; the CPU a detection costs
    moves much less, and says what the two cores could carry alone."""

    def __init__(self, server: subprocess.Popen, url: str | None) -> None:
        self.server = server
        self.url = url

    def sample(self) -> dict[str, dict[int, float]]:
        return {
            "server": {pid: _cpu_seconds(pid) for pid in _tree(self.server.pid)},
            "database": {pid: _cpu_seconds(pid) for pid in backends(self.url)} if self.url else {},
        }

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        return {
            part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in after[part].items())
            for part in after
        }


def load(port: int, key: str, seconds: float, clients: int) -> tuple[int, list[float], int]:
    pool = mixtures(2000)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        # http.client on one kept-alive connection: the generator shares the two cores with what it
        # measures, and httpx spent about three times its CPU per request
        nonlocal errors
        http = HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        i = number
        try:
            while time.monotonic() < stop:
                body = {
                    "external_ref": f"bench-{uuid.uuid4().hex}",
                    "sample": {
                        "form": "powder",
                        "seized_on": "2026-11-01",
                        "country": "CO",
                        "region": random.choice(["Antioquia", "Valle del Cauca", "Bogotá"]),
                    },
                    "components": [{"smiles": s} for s in pool[i % len(pool)]],
                }
                started = time.perf_counter()
                http.request("POST", "/api/v1/detections", body=json.dumps(body).encode(), headers=headers)
                response = http.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    if response.status == 201:
                        latencies.append(elapsed)
                    else:
                        errors += 1
                i += clients
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), latencies, errors


def run(database: str, seconds: float, clients: int, workers: int = WORKERS) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        if database == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
        else:
            admin = os.environ.get(
                "EWS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
            )
            name = f"ews_bench_{uuid.uuid4().hex[:8]}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = admin.rsplit("/", 1)[0] + "/" + name
        key = prepare(url, f"{folder}/cache")
        port = 18000 + random.randint(0, 999)
        server = serve(url, port, workers)
        meter = CpuMeter(server, None if database == "sqlite" else url)
        try:
            load(port, key, 3, clients)  # warm-up: caches, connections
            before = meter.sample()
            generator = time.process_time()
            count, latencies, errors = load(port, key, seconds, clients)
            cpu = CpuMeter.spent(before, meter.sample())
            cpu["generator"] = time.process_time() - generator
        finally:
            server.terminate()
            server.wait(timeout=20)
        if database != "sqlite":
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(
        f"{database:10s} {count / seconds:7.1f} detections/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   "
        f"({count} in {seconds:g} s, {clients} clients, {errors} errors)"
    )
    per = 1000 / max(count, 1)
    database_cpu = f", PostgreSQL {cpu['database'] * per:5.1f}" if database != "sqlite" else ""
    print(
        f"{'':10s} CPU per detection (ms): server {cpu['server'] * per:5.1f}{database_cpu}, "
        f"load generator {cpu['generator'] * per:5.2f}",
        flush=True,
    )
    return {
        "rate": count / seconds,
        "p50": p50,
        "p95": p95,
        "server_cpu": cpu["server"] * per,
        "database_cpu": cpu["database"] * per,
        "generator_cpu": cpu["generator"] * per,
    }


FIGURES = re.compile(
    r"(?P<rate>[\d.]+) detections/s\s+p50\s+(?P<p50>[\d.]+) ms\s+p95\s+(?P<p95>[\d.]+) ms.*?"
    r"server\s+(?P<server_cpu>[\d.]+)(?:, PostgreSQL\s+(?P<database_cpu>[\d.]+))?"
    r"(?:, load generator\s+(?P<generator_cpu>[\d.]+))?",
    re.S,
)


def run_baseline(checkout: Path, database: str, seconds: float, clients: int) -> dict[str, float]:
    """The same benchmark with the code of another checkout (its own server, migrations and load)."""
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.api_load",
            "--database",
            database,
            "--seconds",
            str(seconds),
            "--clients",
            str(clients),
        ],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = FIGURES.search(printed)
    if found is None:
        raise RuntimeError(f"no figures in the baseline's output:\n{printed}")
    print(f"{'baseline':10s} {printed.strip()}", flush=True)
    return {k: float(v or 0) for k, v in found.groupdict().items()}


def compare(checkout: Path, database: str, seconds: float, clients: int, rounds: int, workers: int) -> None:
    """Alternate the baseline and this code, ``rounds`` pairs, and print this code's figures over the baseline's."""
    pairs = []
    for number in range(rounds):
        print(f"-- round {number + 1} of {rounds}", flush=True)
        before = run_baseline(checkout, database, seconds, clients)
        after = run(database, seconds, clients, workers)
        pairs.append((before, after))
    print(f"this code / baseline ({checkout}), {database}, mean of {rounds} pairs:")
    for figure in ("rate", "p50", "p95", "server_cpu", "database_cpu"):
        old = statistics.mean(b[figure] for b, _ in pairs)
        new = statistics.mean(a[figure] for _, a in pairs)
        ratios = [a[figure] / b[figure] for b, a in pairs if b[figure]]
        spread = f"(pairwise {min(ratios):.2f}-{max(ratios):.2f})" if ratios else ""
        print(f"  {figure:12s} {old:8.1f} -> {new:8.1f}   x{new / old if old else 0:.2f} {spread}")
    # The load generator does the same work for every detection in both runs: the CPU it took per
    # detection says how fast the shared machine was during each run, and divides that out.
    for figure in ("server_cpu", "database_cpu"):
        ratios = [
            (a[figure] / a["generator_cpu"]) / (b[figure] / b["generator_cpu"])
            for b, a in pairs
            if b[figure] and b.get("generator_cpu") and a.get("generator_cpu")
        ]
        if ratios:
            print(
                f"  {figure:12s} per generator CPU   x{statistics.mean(ratios):.2f} "
                f"(pairwise {min(ratios):.2f}-{max(ratios):.2f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of other code (e.g. a worktree of the previous commit): run it and this code alternately, and print ratios",
    )
    parser.add_argument("--rounds", type=int, default=3, help="baseline/this-code pairs with --baseline")
    parser.add_argument(
        "--workers",
        type=int,
        default=WORKERS,
        help="API worker processes of this code's server (default EWS_BENCH_WORKERS, else 2; a baseline takes "
        "EWS_BENCH_WORKERS)",
    )
    args = parser.parse_args()
    for database in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        if args.baseline:
            compare(args.baseline, database, args.seconds, args.clients, args.rounds, args.workers)
        else:
            run(database, args.seconds, args.clients, args.workers)


if __name__ == "__main__":
    main()
