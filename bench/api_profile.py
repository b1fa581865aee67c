"""Where the time of one detection goes: SQL statements per detection by table, and a profile.

Drives ``POST /api/v1/detections`` in this process, one request after another,
with the mixtures of ``bench.api_load``, on a fresh PostgreSQL database (or
SQLite). After ``--warm`` requests (the network grows: links, clusters and
alerts have history to read), it counts over ``--requests`` more the
statements sent to the database per detection, grouped by statement and table,
with the time spent in them; ``--profile`` adds a cProfile of the submission
(``ews.services.detections.submit``), sorted by cumulative time; ``--parts``
the CPU time (of the thread that ran it) of each named step of the request, as
a share of the CPU the server side spent: cProfile's own cost falls on many
small calls and distorts shares, these few timers do not.

Statement counts do not depend on the machine's load; times do.

Run: ``python -m bench.api_profile [--database postgresql|sqlite] [--warm 1500] [--requests 300] [--profile] [--parts]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import tempfile
import threading
import time
import uuid
from collections import Counter

from sqlalchemy import create_engine, event, text

from bench.api_load import backends, mixtures, prepare


def _label(statement: str) -> str:
    """``SELECT detection``, ``INSERT INTO audit_log``: the verb and the first table; a SELECT with the
    start of what it selects (two queries of one table differ there)."""
    flat = " ".join(statement.split())
    verb = re.match(r"(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s+(.*)", flat)
    if verb is None:
        return flat[:40]
    if verb.group(1) == "SELECT":
        table = re.search(r" FROM (\w+)", flat)
        return f"SELECT {table.group(1) if table else flat[:40]}: {flat[7:47]}"
    return f"{verb.group(1)} {verb.group(2).split()[0]}"


def _schedstat_ns(pid: int) -> int:
    """Nanoseconds a process has run on a CPU (Linux /proc/PID/schedstat; 0 where unreadable)."""
    try:
        return int(open(f"/proc/{pid}/schedstat").read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0


def _backend_ns(connection) -> int:
    """CPU nanoseconds so far of the PostgreSQL backend behind a connection (0 for SQLite)."""
    info = getattr(connection.connection.dbapi_connection, "info", None)
    pid = getattr(info, "backend_pid", None)
    return _schedstat_ns(pid) if pid else 0


def _body(mixture: list[str]) -> dict:
    return {
        "external_ref": f"profile-{uuid.uuid4().hex}",
        "sample": {
            "form": "powder",
            "seized_on": "2026-11-01",
            "country": "CO",
            "region": random.choice(["Antioquia", "Valle del Cauca", "Bogotá"]),
        },
        "components": [{"smiles": s} for s in mixture],
    }


PARTS = [
    # (module, owner, attribute, label): the steps of a submission timed by --parts
    ("ews.services.detections", None, "submit", "submit (all of it)"),
    ("ews.services.detections", None, "_identified_components", "identification and component rows"),
    ("ews.services.detections", None, "insert_new", "detection, components, audit row: inserts"),
    ("ews.services.alerting", "Alerting", "__call__", "alert rules"),
    ("ews.services.alerting", None, "history", "alert rules: substance history query"),
    ("ews.services.alerting", "Alerting", "raise_alert", "alert rules: raise or merge an alert"),
    ("ews.services.links", "Linker", "__call__", "linking"),
    ("ews.services.links", None, "candidates", "linking: candidates query"),
    ("ews.services.links", None, "_profiles_of", "linking: candidate profiles not kept"),
    ("chem.profiles", None, "may_link", "linking: may_link"),
    ("chem.profiles", None, "compare", "linking: compare"),
    ("ews.services.links", "Linker", "_cluster", "linking: keeping the cluster"),
    ("ews.services.links", None, "_store_links", "linking: storing links"),
    ("ews.services.feeds", "FeedRecorder", "__call__", "feed entry"),
]


def _time_parts(cpu: Counter[str]) -> None:
    """Wrap each step of PARTS to add the CPU time of its thread to ``cpu`` (outermost call only)."""
    import functools
    import importlib

    active = threading.local()

    for module_name, owner_name, attribute, label in PARTS:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        original = getattr(owner, attribute)

        def timed(*args, _original=original, _label=label, **kwargs):
            if getattr(active, _label, False):
                return _original(*args, **kwargs)
            setattr(active, _label, True)
            started = time.thread_time()
            try:
                return _original(*args, **kwargs)
            finally:
                cpu[_label] += time.thread_time() - started
                setattr(active, _label, False)

        setattr(owner, attribute, functools.wraps(original)(timed))


def run(database: str, warm: int, requests: int, profile: bool, parts: bool = False) -> None:
    from fastapi.testclient import TestClient

    folder = tempfile.mkdtemp()
    admin = None
    name = ""
    if database == "sqlite":
        url = f"sqlite:///{folder}/profile.db"
    else:
        admin = create_engine(
            os.environ.get("EWS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
            isolation_level="AUTOCOMMIT",
        )
        name = f"ews_profile_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    os.environ.update(EWS_DATABASE_URL=url, EWS_SCHEDULER="off", EWS_DATA_DIR=folder)
    try:
        key = prepare(url, f"{folder}/cache")
        from ews.api import detections as api
        from ews.app import create_app
        from ews.db import engine_for

        app = create_app()
        part_cpu: Counter[str] = Counter()
        if parts:
            _time_parts(part_cpu)
        profiler = cProfile.Profile()
        measuring = False
        submit = api.service.submit

        def profiled_submit(*args, **kwargs):
            if not (measuring and profile):
                return submit(*args, **kwargs)
            profiler.enable()
            try:
                return submit(*args, **kwargs)
            finally:
                profiler.disable()

        api.service.submit = profiled_submit
        counts: Counter[str] = Counter()
        seconds: Counter[str] = Counter()
        backend: Counter[str] = Counter()

        @event.listens_for(engine_for(url), "before_cursor_execute")
        def _started(connection, cursor, statement, parameters, context, executemany):
            connection.info["statement_started"] = time.perf_counter()
            connection.info["backend_started"] = _backend_ns(connection)

        @event.listens_for(engine_for(url), "after_cursor_execute")
        def _done(connection, cursor, statement, parameters, context, executemany):
            label = _label(statement)
            counts[label] += 1
            seconds[label] += time.perf_counter() - connection.info["statement_started"]
            backend[label] += _backend_ns(connection) - connection.info["backend_started"]

        pool = mixtures(2000)
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}
            for i in range(warm):
                assert (
                    client.post("/api/v1/detections", json=_body(pool[i % len(pool)]), headers=headers).status_code
                    == 201
                )
            counts.clear()
            seconds.clear()
            backend.clear()
            part_cpu.clear()
            database_pids = backends(url) if database == "postgresql" else []
            backend_before = sum(_schedstat_ns(pid) for pid in database_pids)
            measuring = True
            started, cpu, client_cpu = time.perf_counter(), time.process_time(), time.thread_time()
            for i in range(warm, warm + requests):
                response = client.post("/api/v1/detections", json=_body(pool[i % len(pool)]), headers=headers)
                assert response.status_code == 201, response.text
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            client_cpu = time.thread_time() - client_cpu
            backend_total = (
                sum(_schedstat_ns(pid) for pid in (backends(url) if database == "postgresql" else []))
                - backend_before
            )
        api.service.submit = submit
        engine_for(url).dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(
        f"{database}: {requests} detections after {warm}: {elapsed / requests * 1000:.1f} ms each, "
        f"process CPU {cpu / requests * 1000:.1f} ms each, "
        f"{sum(counts.values()) / requests:.2f} SQL statements per detection "
        f"({sum(seconds.values()) / requests * 1000:.1f} ms in them)"
    )
    if database == "postgresql":
        print(
            f"PostgreSQL CPU: {backend_total / requests / 1e6:.2f} ms per detection, "
            f"{sum(backend.values()) / requests / 1e6:.2f} ms of it while a statement ran "
            "(the rest: commits, and autovacuum); per statement:"
        )
    for label, count in counts.most_common():
        cpu_in_database = f"  {backend[label] / requests / 1e6:6.2f} ms CPU" if database == "postgresql" else ""
        print(f"  {count / requests:6.2f}  {seconds[label] / requests * 1000:6.2f} ms{cpu_in_database}  {label}")
    if parts:
        # the test client's own thread is the load generator: what is left is the server side
        server = cpu - client_cpu
        print(f"CPU of the server side: {server / requests * 1000:.2f} ms per detection; its steps:")
        for _, _, _, label in PARTS:
            share = part_cpu[label] / server * 100 if server else 0.0
            print(f"  {part_cpu[label] / requests * 1000:6.2f} ms  {share:5.1f} %  {label}")
    if profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--warm", type=int, default=1500, help="detections stored before counting")
    parser.add_argument("--requests", type=int, default=300, help="detections counted")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the submission")
    parser.add_argument("--parts", action="store_true", help="also print the CPU time of each step of a request")
    args = parser.parse_args()
    run(args.database, args.warm, args.requests, args.profile, args.parts)


if __name__ == "__main__":
    main()
