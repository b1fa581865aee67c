"""Identify submitted structures against this process's library, with a result cache in two levels.

Labs report the same few substances again and again (cocaine, heroin,
fentanyl, the adulterants): a repeated structure should not run the chemistry
again. In front, a bounded LRU of this process; behind it, the
``identification`` table, shared by every process of the node, so a structure
is matched once per node (not once per API worker) and a restart starts warm.

A result depends on the exact input (text and format), the name, the legal
question (jurisdiction, date), the reference library and the chemistry's code;
the key is a digest of all of them. A new library version or new chemistry
code gives new keys, so old results are never read again (and are deleted by
:meth:`Identifier.forget_stale`). The table keeps the result as the JSON text
made from the fresh result, so a result read back is byte for byte the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from datetime import date
from functools import cache
from pathlib import Path

from rdkit import rdBase
from sqlalchemy import delete, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

import chem
from chem.match import match_text
from ews.db import reader_of, utcnow
from ews.models import Identification
from ews.services.library import LibraryHolder

log = logging.getLogger("ews.identify")
_TABLE = Identification.__table__  # type: ignore[attr-defined]


@cache
def chemistry_version() -> str:
    """A digest of the chemistry's code and data files and of RDKit's version: a change to either
    may change a result, so it is part of every cache key."""
    digest = hashlib.sha256(rdBase.rdkitVersion.encode())
    root = Path(chem.__file__).parent
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(text: str, fmt: str, name: str | None, jurisdiction: str, as_of: date, library_version: int) -> str:
    """The identification table's key: a digest of everything a result depends on."""
    parts = [chemistry_version(), str(library_version), fmt, name, jurisdiction, as_of.isoformat(), text]
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


class Identifier:
    def __init__(self, holder: LibraryHolder, size: int = 20_000, shared: bool = True) -> None:
        self.holder = holder
        self.size = size
        self.shared = shared  # read and write the node's identification table
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._version = -1
        self._day: date | None = None
        self._lock = threading.Lock()

    def identify(
        self,
        text: str,
        fmt: str,
        *,
        name: str | None,
        jurisdiction: str,
        as_of: date | None = None,
        share: bool = True,
    ) -> dict:
        """The match result (INTERFACE.md) for one structure; ``error`` set when unreadable.

        ``share=False`` keeps the result out of the node's table (anonymous callers).
        Raises :class:`LibraryNotLoaded` (503) while the database holds no reference library."""
        library, version = self.holder.snapshot()
        today = date.today()
        as_of = as_of or today
        key = (text, fmt, name, jurisdiction, as_of)
        with self._lock:
            stale = self._version != version or self._day != today
            if stale:
                self._cache.clear()
                self._version, self._day = version, today
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        if stale and self.shared:
            self.forget_stale(version, today)
        shared_key = cache_key(text, fmt, name, jurisdiction, as_of, version) if self.shared else None
        result = self._read(shared_key) if shared_key else None
        if result is None:
            result = match_text(text, library, name=name, fmt=fmt, as_of=as_of, jurisdiction=jurisdiction)
            if shared_key and share and "error" not in result:
                self._write(shared_key, version, as_of, result)
        with self._lock:
            if self._version == version:
                self._cache[key] = result
                if len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return result

    # --- the node's table: best effort, the chemistry answers when the database cannot ------------

    def _read(self, key: str) -> dict | None:
        try:
            with reader_of(self.holder.engine).connect() as connection:
                stored = connection.execute(sa_select(_TABLE.c.result).where(_TABLE.c.key == key)).scalar()
        except SQLAlchemyError as error:
            log.warning("identification cache unreadable: %s", type(error).__name__)
            return None
        return json.loads(stored) if stored is not None else None

    def _write(self, key: str, version: int, as_of: date, result: dict) -> None:
        engine = self.holder.engine
        insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        try:
            text = json.dumps(result, separators=(",", ":"))
        except (TypeError, ValueError):  # a result that is not plain JSON stays in this process
            return
        row = {"key": key, "library_version": version, "as_of": as_of, "result": text, "created_at": utcnow()}
        try:
            with engine.begin() as connection:
                connection.execute(insert(_TABLE).values(**row).on_conflict_do_nothing(index_elements=["key"]))
        except SQLAlchemyError as error:
            log.warning("identification cache not written: %s", type(error).__name__)

    def forget_stale(self, version: int, today: date) -> int:
        """Delete results of another library version or of a past day (they cannot be asked for again
        by a detection: it is identified as of today)."""
        try:
            with self.holder.engine.begin() as connection:
                return connection.execute(
                    delete(_TABLE).where(or_(_TABLE.c.library_version != version, _TABLE.c.as_of < today))
                ).rowcount
        except SQLAlchemyError as error:
            log.warning("identification cache not pruned: %s", type(error).__name__)
            return 0
