"""Read the structures a user hands to ``ews match`` (SMILES, CSV, SDF, .smi) and match them, on every core.

A large file is spread over worker processes that inherit the library from
the parent (fork: nothing is loaded twice); results come back in input order.
Small inputs stay in one process, where a pool would cost more than it saves.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdkit import Chem

from chem.library import ReferenceLibrary
from chem.match import match_text
from chem.read import iter_sdf

PARALLEL_MINIMUM = 200
"""Structures below which ``match_all`` stays in one process."""


class InputError(ValueError):
    """The input file cannot be used at all (a usage error, not a bad row)."""


@dataclass
class Query:
    """One structure to match, as the user gave it, or the reason it could not be taken."""

    name: str | None
    text: str | None
    fmt: str | None = None
    error: str | None = None
    error_code: str | None = None


STRUCTURE_COLUMNS = ("smiles", "inchi", "molfile", "structure")


def queries_from_csv(text: str, source: str) -> Iterator[Query]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {(c or "").strip().lower(): c for c in reader.fieldnames or []}
    structure_column = next((columns[c] for c in STRUCTURE_COLUMNS if c in columns), None)
    if structure_column is None:
        raise InputError(
            f"{source}: no structure column; the CSV needs a header with 'name,smiles' "
            f"(or an 'inchi' or 'molfile' column)"
        )
    name_column = columns.get("name")
    for number, row in enumerate(reader, start=2):
        text_value = (row.get(structure_column) or "").strip()
        name = (row.get(name_column) or "").strip() if name_column else None
        if not text_value and not name:
            continue
        yield Query(name=name or f"{source}:{number}", text=text_value)


def queries_from_smi(text: str, source: str) -> Iterator[Query]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        if parts[0].lower() == "smiles":  # a header line
            continue
        name = parts[1].strip() if len(parts) > 1 else f"{source}:{number}"
        yield Query(name=name, text=parts[0], fmt="smiles")


def queries_from_sdf(text: str, source: str) -> Iterator[Query]:
    for record in iter_sdf(text):
        name = record.properties.get("name") or record.title or f"{source}:{record.index + 1}"
        if record.error is not None:
            yield Query(
                name=name, text=record.molblock or None, error=str(record.error), error_code=record.error.code
            )
        else:
            yield Query(name=name, text=Chem.MolToSmiles(record.mol), fmt="smiles")


def queries_from_file(path: Path) -> Iterator[Query]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    suffix = path.suffix.lower()
    if suffix in (".sdf", ".sd", ".mol"):
        return queries_from_sdf(text, path.name)
    if suffix in (".smi", ".smiles", ".txt"):
        return queries_from_smi(text, path.name)
    if suffix in (".csv", ".tsv"):
        return queries_from_csv(text, path.name)
    raise InputError(f"{path}: unknown file type {suffix!r}; accepted: .csv (name,smiles), .sdf, .smi")


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def match_query(query: Query, library: ReferenceLibrary, as_of: date | None, jurisdiction: str) -> dict:
    """The match result of one query, or its error object."""
    if query.error is not None:
        return {"name": query.name, "input": query.text, "error": query.error, "error_code": query.error_code}
    return match_text(
        query.text or "", library, name=query.name, fmt=query.fmt, as_of=as_of, jurisdiction=jurisdiction
    )


_worker_task: tuple[ReferenceLibrary, date | None, str] | None = None


def _match_in_worker(query: Query) -> dict:
    assert _worker_task is not None, "set by match_all before the pool forks"
    library, as_of, jurisdiction = _worker_task
    return match_query(query, library, as_of, jurisdiction)


def match_all(
    queries: Sequence[Query],
    library: ReferenceLibrary,
    *,
    as_of: date | None = None,
    jurisdiction: str = "UN",
    jobs: int = 1,
) -> Iterator[dict]:
    """Match results in input order, over ``jobs`` processes when the input is large enough."""
    global _worker_task
    jobs = max(1, min(jobs, len(queries) // (PARALLEL_MINIMUM // 2) or 1))
    if jobs == 1 or len(queries) < PARALLEL_MINIMUM or "fork" not in multiprocessing.get_all_start_methods():
        for query in queries:
            yield match_query(query, library, as_of, jurisdiction)
        return
    library.known_index  # noqa: B018 - built once here, shared with the workers by fork
    _worker_task = (library, as_of, jurisdiction)
    chunk = max(1, min(32, len(queries) // (jobs * 8)))
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap(_match_in_worker, queries, chunksize=chunk)
    finally:
        _worker_task = None
