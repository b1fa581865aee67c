"""The reference library in the database, and its in-memory index per process.

``ews library load`` writes the bundled lists into the database; ``ews library
import`` adds a national list. Each process keeps a :class:`ReferenceLibrary`
built from the database and rebuilds it when the library version changes, so
an import on one node process reaches every other within seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from chem.families import load_families
from chem.generic import load_definitions
from chem.library import (
    Control,
    LibraryError,
    ReferenceLibrary,
    StandardizationCache,
    Substance,
    bundled_substances,
    fold_medicines,
    read_list,
)
from chem.standardize import from_standardized_smiles
from ews.db import reader_of, session_scope, utcnow
from ews.models import NodeState, SubstanceControl, SubstanceRecord
from ews.problems import PROBLEM_BASE, Problem

LIBRARY_VERSION_KEY = "library_version"
BUNDLED_SOURCE = "bundled"


@dataclass
class LoadReport:
    substances: int
    controls: int
    skipped: list[str]
    version: int


def _bump_version(session: Session) -> int:
    state = session.get(NodeState, LIBRARY_VERSION_KEY)
    if state is None:
        state = NodeState(key=LIBRARY_VERSION_KEY, value="0")
    version = int(state.value or 0) + 1
    state.value = str(version)
    state.updated_at = utcnow()
    session.add(state)
    return version


def library_version(session: Session) -> int:
    state = session.get(NodeState, LIBRARY_VERSION_KEY)
    return int(state.value) if state and state.value else 0


def _record(substance: Substance, source: str) -> SubstanceRecord:
    std = substance.standardized
    return SubstanceRecord(
        id=substance.id,
        name=substance.name,
        synonyms=list(substance.synonyms),
        smiles=substance.smiles,
        std_smiles=std.smiles if std else "",
        inchikey=std.inchikey if std else None,
        skeleton_key=std.skeleton_key if std else None,
        formula=std.formula if std else substance.formula,
        status=substance.status,
        drug_class=substance.drug_class,
        category=substance.category,
        constituents=list(substance.constituents),
        excepted_from=substance.excepted_from,
        citation=substance.citation,
        notes=substance.notes,
        source=source,
    )


def _control_rows(substance_id: str, controls: list[Control], source: str) -> list[SubstanceControl]:
    return [SubstanceControl.of(substance_id, c, source) for c in controls]


def _standardize_all(substances: list[Substance], cache_dir: Path | None) -> list[str]:
    cache = StandardizationCache(cache_dir)
    skipped = []
    for substance in substances:
        if substance.smiles:
            try:
                substance.standardized = cache.standardized(substance.smiles)
            except ValueError as error:
                skipped.append(f"{substance.name}: {error}")
    cache.save()
    return skipped


def load_bundled(engine: Engine, cache_dir: Path | None = None) -> LoadReport:
    """(Re)load the bundled lists: replaces earlier bundled rows, keeps imported national lists."""
    substances = bundled_substances()
    skipped = _standardize_all(substances, cache_dir)
    substances = fold_medicines(substances)
    with session_scope(engine) as session:
        session.exec(delete(SubstanceControl).where(col(SubstanceControl.source) == BUNDLED_SOURCE))
        existing = {r.id: r for r in session.exec(select(SubstanceRecord)).all()}
        controls = 0
        for substance in substances:
            record = _record(substance, BUNDLED_SOURCE)
            current = existing.get(substance.id)
            if current is not None:
                for field in SubstanceRecord.model_fields:
                    setattr(current, field, getattr(record, field))
                current.updated_at = utcnow()
                session.add(current)
            else:
                session.add(record)
        session.flush()  # substances before the controls that reference them
        for substance in substances:
            rows = _control_rows(substance.id, substance.controls, BUNDLED_SOURCE)
            controls += len(rows)
            session.add_all(rows)
        session.flush()
        # bundled substances that left the data files, and have no national control, go
        bundled_ids = {s.id for s in substances}
        for record in existing.values():
            if record.source == BUNDLED_SOURCE and record.id not in bundled_ids:
                has_controls = session.exec(
                    select(SubstanceControl.id).where(SubstanceControl.substance_id == record.id)
                ).first()
                if has_controls is None:
                    session.delete(record)
        version = _bump_version(session)
    return LoadReport(len(substances), controls, skipped, version)


def import_list(engine: Engine, path: Path, jurisdiction: str | None, cache_dir: Path | None = None) -> LoadReport:
    """Add a national list: its rows become controls of existing substances (same structure) or new ones."""
    substances = read_list(path)
    if jurisdiction is None:
        nameless = next((s for s in substances for c in s.controls if c.jurisdiction is None), None)
        if nameless is not None:
            raise LibraryError(
                f"{path.name}: {nameless.name!r} has no jurisdiction; give --jurisdiction CODE "
                "or a jurisdiction column, so that its controls are not taken for another country's"
            )
    skipped = _standardize_all(substances, cache_dir)
    source = f"import:{path.name}"
    code = jurisdiction.upper() if jurisdiction else None
    controls = 0
    with session_scope(engine) as session:
        session.exec(delete(SubstanceControl).where(col(SubstanceControl.source) == source))
        for substance in substances:
            std = substance.standardized
            if std is None and substance.smiles:
                continue
            target = None
            if std is not None:
                target = session.exec(
                    select(SubstanceRecord).where(SubstanceRecord.inchikey == std.inchikey)
                ).first()
            if target is None:
                prefix = (code or "list").lower()
                record = _record(substance, source)
                record.id = f"{prefix}-{substance.id}"[:120]
                existing = session.get(SubstanceRecord, record.id)
                if existing is None:
                    session.add(record)
                    session.flush()
                    target = record
                else:
                    target = existing
            rows = _control_rows(
                target.id,
                [
                    replace(
                        c, jurisdiction=code or c.jurisdiction, citation=c.citation or f"national list {path.name}"
                    )
                    for c in substance.controls
                ],
                source,
            )
            controls += len(rows)
            session.add_all(rows)
        version = _bump_version(session)
    return LoadReport(len(substances), controls, skipped, version)


def library_from_db(session: Session, cache_dir: Path | None = None) -> ReferenceLibrary:
    """The in-memory index of what the database holds (standardized SMILES are reused, not recomputed).

    ``cache_dir`` keeps the fingerprints of the known substances between starts.
    """
    records = session.exec(select(SubstanceRecord)).all()
    controls: dict[str, list[Control]] = {}
    # in the order they were written (the data files' order): PostgreSQL returns unordered rows in
    # whatever order its pages hold them, which changes as bundled rows are deleted and rewritten
    for row in session.exec(select(SubstanceControl).order_by(col(SubstanceControl.id))).all():
        controls.setdefault(row.substance_id, []).append(row.control())
    substances = []
    for record in records:
        substance = Substance(
            id=record.id,
            name=record.name,
            status=record.status,
            smiles=record.smiles,
            synonyms=tuple(record.synonyms),
            drug_class=record.drug_class,
            formula=record.formula,
            controls=controls.get(record.id, []),
            category=record.category,
            constituents=tuple(record.constituents),
            excepted_from=record.excepted_from,
            citation=record.citation,
            notes=record.notes,
            source=record.source,
        )
        if record.std_smiles:
            substance.standardized = from_standardized_smiles(
                record.std_smiles, (), record.inchikey, record.formula
            )
        substances.append(substance)
    return ReferenceLibrary(substances, load_families(), load_definitions(), cache_dir=cache_dir)


NOT_LOADED_REASON = "no reference library is loaded; run `ews library load` (or `ews db upgrade`)"
RETRY_AFTER_SECONDS = 30


class LibraryNotLoaded(Problem):
    """Identification refused: answering without a library would call fentanyl an analog."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "Service unavailable",
            NOT_LOADED_REASON,
            type_=PROBLEM_BASE + "library-not-loaded",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class LibraryHolder:
    """This process's library, rebuilt when the database's library version moves on."""

    def __init__(self, engine: Engine, check_every: float = 2.0, cache_dir: Path | None = None) -> None:
        self.engine = engine
        self.cache_dir = cache_dir
        self.check_every = check_every
        self._lock = threading.Lock()
        self._library: ReferenceLibrary | None = None
        self._version = -1
        self._checked = 0.0

    @property
    def version(self) -> int:
        return self._version

    @property
    def loaded(self) -> bool:
        """Whether the database holds a reference library (``ews library load`` has run)."""
        return bool(self.get().substances)

    def require_loaded(self) -> ReferenceLibrary:
        """The library, or :class:`LibraryNotLoaded` when the database holds none."""
        library = self.get()
        if not library.substances:
            raise LibraryNotLoaded()
        return library

    def snapshot(self) -> tuple[ReferenceLibrary, int]:
        """The loaded library and its version, read together (a reload between the two reads
        would pair a library with another's version). Raises :class:`LibraryNotLoaded`."""
        self.require_loaded()
        with self._lock:
            library, version = self._library, self._version
        assert library is not None
        if not library.substances:
            raise LibraryNotLoaded()
        return library, version

    def get(self) -> ReferenceLibrary:
        now = time.monotonic()
        if self._library is not None and now - self._checked < self.check_every:
            return self._library
        with self._lock:
            if self._library is not None and time.monotonic() - self._checked < self.check_every:
                return self._library
            with Session(reader_of(self.engine)) as session:
                version = library_version(session)
                if self._library is None or version != self._version:
                    self._library = library_from_db(session, self.cache_dir)
                    self._version = version
            self._checked = time.monotonic()
            return self._library
