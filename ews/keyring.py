"""Secrets at rest: peer tokens, webhook secrets and the SMTP password, encrypted with ``EWS_SECRET_KEY``.

The key is any string of at least 32 characters. When ``EWS_SECRET_KEY`` is
unset, one is generated on first use into ``secret.key`` in the node's data
directory (the folder of the SQLite database, or ``EWS_DATA_DIR``, ``./var``
by default), readable by its owner only. Every process of a node finds the
same file, so they agree without configuration.

Rotation: set the new key in ``EWS_SECRET_KEY`` and the old one(s) in
``EWS_SECRET_KEY_PREVIOUS`` (comma-separated); values encrypted under any of
them are read, new values are written under the new one, and
``ews admin rotate-secrets`` re-encrypts every stored value under the new key,
after which the old key can be dropped.

Stored values look like ``enc:v1:<Fernet token>`` (AES-128-CBC + HMAC-SHA256).
A value without the prefix was stored before encryption existed; it is read as
it is, and ``ews admin rotate-secrets`` (run by ``ews db upgrade``) encrypts it.
"""

from __future__ import annotations

import base64
import os
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from ews.config import get_settings
from ews.db import normalize_url

PREFIX = "enc:v1:"
KEY_FILE = "secret.key"
MIN_KEY_LENGTH = 32
_create_lock = threading.Lock()


class SecretKeyError(RuntimeError):
    """The secret key is missing, too short, or does not open a stored value."""


def data_dir(database_url: str) -> Path:
    """The node's data directory: ``EWS_DATA_DIR``, else the SQLite database's folder, else ``./var``."""
    configured = os.environ.get("EWS_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    url = make_url(normalize_url(database_url))
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        database = url.database
        if database.startswith("file:"):  # an SQLite URI filename (sqlite:///file:/path?mode=ro&uri=true)
            database = database[len("file:") :].split("?", 1)[0]
        return Path(database).parent
    # PostgreSQL: the data directory this process would use for its own SQLite file (docs/running.md)
    return get_settings().data_dir or Path("var")


def _fernet(secret: str) -> Fernet:
    """A Fernet key derived from any string (HKDF-SHA256), so an operator may use a passphrase."""
    if len(secret) < MIN_KEY_LENGTH:
        raise SecretKeyError(
            f"EWS_SECRET_KEY must be at least {MIN_KEY_LENGTH} characters "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ews secrets at rest v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def generated_key(directory: Path) -> str:
    """The key in ``directory/secret.key``, created (mode 0600) if it does not exist yet."""
    path = directory / KEY_FILE
    with _create_lock:
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            candidate = base64.urlsafe_b64encode(os.urandom(32)).decode()
            try:
                # O_EXCL: of two processes starting at once, one writes and the other reads its key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(candidate + "\n")
    key = path.read_text().strip()
    if not key:
        raise SecretKeyError(f"{path} is empty; delete it to generate a new key, or set EWS_SECRET_KEY")
    return key


class Keyring:
    """Encrypts with the current key; decrypts with the current or any previous one."""

    def __init__(self, current: str, previous: list[str] | None = None) -> None:
        self._fernet = MultiFernet([_fernet(current), *(_fernet(p) for p in previous or [])])
        self.current = current

    def encrypt(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # stored before encryption existed: `ews admin rotate-secrets` encrypts it
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with EWS_SECRET_KEY or EWS_SECRET_KEY_PREVIOUS; "
                "was the key changed without keeping the old one in EWS_SECRET_KEY_PREVIOUS?"
            ) from None

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted under the current key (plaintext values are encrypted)."""
        if not stored.startswith(PREFIX):
            return self.encrypt(stored)
        try:
            return PREFIX + self._fernet.rotate(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with EWS_SECRET_KEY or EWS_SECRET_KEY_PREVIOUS; "
                "put the key it was stored under in EWS_SECRET_KEY_PREVIOUS"
            ) from None

    def is_current(self, stored: str) -> bool:
        if not stored.startswith(PREFIX):
            return False
        try:
            _fernet(self.current).decrypt(stored[len(PREFIX) :].encode())
        except InvalidToken:
            return False
        return True


def _url_of(target: Engine | str) -> str:
    return target if isinstance(target, str) else target.url.render_as_string(hide_password=False)


def keyring_for(target: Engine | str) -> Keyring:
    """The keyring of the node whose database is ``target`` (an engine or a URL)."""
    settings = get_settings()
    return _keyring(_url_of(target), settings.secret_key, settings.secret_key_previous)


@lru_cache(maxsize=16)
def _keyring(url: str, secret_key: str | None, previous: str | None) -> Keyring:
    current = secret_key or generated_key(data_dir(url))
    older = [p.strip() for p in (previous or "").split(",") if p.strip()]
    return Keyring(current, older)
