"""Where a node's database is found, without the settings machinery (pydantic).

``ews match`` asks this first: with no node database it needs nothing else from
the settings, and starts without importing them (see :mod:`ews.config`).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_NAME = "var"
DATABASE_FILE = "ews.db"
NOT_FOUND = f"no {DATA_DIR_NAME}/{DATABASE_FILE} here or in a parent folder"
"""How the settings say that no database was configured or found."""


def find_node_database(start: Path | None = None) -> Path | None:
    """The nearest ``var/ews.db`` at or above ``start`` (the current directory), or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DATA_DIR_NAME / DATABASE_FILE
        if candidate.is_file():
            return candidate
    return None


def database_configured(environ: dict[str, str] | None = None) -> bool:
    """Whether ``EWS_DATABASE_URL`` or ``EWS_DATA_DIR`` names a database (read as the settings read them:
    any case, an empty value unset)."""
    names = {key.upper(): value for key, value in (os.environ if environ is None else environ).items()}
    return bool(names.get("EWS_DATABASE_URL") or names.get("EWS_DATA_DIR"))
