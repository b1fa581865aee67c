"""Hostile chemistry next to a benign request: how long each takes, as a ratio in the same run.

A real server (uvicorn in a thread, SQLite with the bundled library) answers a
benign request (caffeine to POST /api/v1/match) and then each hostile request
of ``tests/ews/test_hostile_input.py``; every time is the median of a few runs,
printed with its ratio to the benign one and the status answered.

Run: ``python -m bench.hostile [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from ews.app import create_app
from ews.config import Settings
from ews.db import engine_for
from ews.migrate import upgrade
from ews.services.library import load_bundled
from tests.conftest import make_actor
from tests.ews.test_hostile_input import (
    DETECTION,
    FULLERENE,
    HUGE_SMILES,
    MALFORMED_MOLFILE,
    MALFORMED_SDF,
    SMARTS_BOMBS,
    gzip_bomb,
    many_ring_closures,
    v3000_molfile,
)
from tests.support import running


def cases() -> list[tuple[str, str, str, dict]]:
    huge_detection = {**DETECTION, "components": [{"smiles": HUGE_SMILES, "name": "huge"}]}
    found = [
        ("20 kB SMILES to match", "POST", "/api/v1/match", {"json": {"smiles": HUGE_SMILES}}),
        ("20 kB SMILES to detections", "POST", "/api/v1/detections", {"json": huge_detection}),
        ("10,000-atom molfile", "POST", "/api/v1/match", {"json": {"molfile": v3000_molfile(10_000)}}),
        ("2,000-atom molfile", "POST", "/api/v1/match", {"json": {"molfile": v3000_molfile(2_000)}}),
        ("fullerene C60", "POST", "/api/v1/match", {"json": {"smiles": FULLERENE}}),
        ("400 fused rings", "POST", "/api/v1/match", {"json": {"smiles": many_ring_closures(400)}}),
        ("malformed molfile", "POST", "/api/v1/match", {"json": {"molfile": MALFORMED_MOLFILE}}),
        (
            "malformed SDF batch",
            "POST",
            "/api/v1/detections:batch",
            {"content": MALFORMED_SDF.encode(), "headers": {"Content-Type": "chemical/x-mdl-sdfile"}},
        ),
        (
            "gzip bomb (300 MB expanded)",
            "POST",
            "/api/v1/detections:batch",
            {
                "content": gzip_bomb(300),
                "headers": {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            },
        ),
    ]
    deep = "[$(" * 1990 + "*~*" + ")]" * 1990  # refused since the limit on recursive SMARTS
    found.append(
        (
            "SMARTS 1,990 nested $(...)",
            "GET",
            "/api/v1/substances",
            {"params": {"smiles": deep, "mode": "substructure"}},
        )
    )
    for i, smarts in enumerate(SMARTS_BOMBS):
        params = {"smiles": smarts, "mode": "substructure"}
        found.append((f"SMARTS bomb {i + 1}", "GET", "/api/v1/substances", {"params": params}))
    return found


def timed(http: httpx.Client, method: str, url: str, kwargs: dict, repeat: int) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        status = http.request(method, url, **kwargs).status_code
        times.append(time.perf_counter() - start)
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ews.db'}"
        cache = Path.home() / ".cache" / "ews"
        upgrade(url)
        load_bundled(engine_for(url), cache)
        settings = Settings(database_url=url, cache_dir=cache, node_id="bench", scheduler="off")
        lab = make_actor(url, "lab", "CO")
        with (
            running(create_app(settings)) as base,
            httpx.Client(base_url=base, headers=lab.headers, timeout=300) as http,
        ):
            caffeine = {"json": {"smiles": "Cn1cnc2c1c(=O)n(C)c(=O)n2C"}}
            timed(http, "POST", "/api/v1/match", caffeine, 1)  # warm up
            benign, _ = timed(http, "POST", "/api/v1/match", caffeine, args.repeat)
            print(f"{'benign: caffeine to match':34} {benign * 1000:9.1f} ms   1.0x  (200)")
            for name, method, path, kwargs in cases():
                took, status = timed(http, method, path, kwargs, args.repeat)
                print(f"{name:34} {took * 1000:9.1f} ms {took / benign:6.1f}x  ({status})")


if __name__ == "__main__":
    main()
