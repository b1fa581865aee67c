"""Identify submitted structures against this process's library, with a result cache.

Labs report the same few substances again and again (cocaine, heroin,
fentanyl, the adulterants): a bounded LRU of match results, keyed by the exact
input and the legal question, spares the chemistry for repeats. The cache
belongs to one library version and is dropped when the library changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

from chem.match import match_text
from ews.services.library import LibraryHolder


class Identifier:
    def __init__(self, holder: LibraryHolder, size: int = 20_000) -> None:
        self.holder = holder
        self.size = size
        self._cache: OrderedDict[tuple, dict] = OrderedDict()
        self._version = -1
        self._lock = threading.Lock()

    def identify(
        self, text: str, fmt: str, *, name: str | None, jurisdiction: str, as_of: date | None = None
    ) -> dict:
        """The match result (INTERFACE.md) for one structure; ``error`` set when unreadable.

        Raises :class:`LibraryNotLoaded` (503) while the database holds no reference library."""
        library = self.holder.require_loaded()
        as_of = as_of or date.today()
        key = (text, fmt, name, jurisdiction, as_of)
        with self._lock:
            if self._version != self.holder.version:
                self._cache.clear()
                self._version = self.holder.version
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        result = match_text(text, library, name=name, fmt=fmt, as_of=as_of, jurisdiction=jurisdiction)
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return result
