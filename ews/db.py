"""Database engine and sessions: SQLite embedded, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Engine, Insert, Table, TypeDecorator, create_engine, event, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, SQLModel

M = TypeVar("M", bound=SQLModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


JSONType = JSON().with_variant(JSONB(), "postgresql")


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs; use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, writer: bool = True) -> Engine:
    """An engine; on SQLite a *writer* takes the write lock when its transaction begins.

    SQLite allows one writer at a time. Writers begin with BEGIN IMMEDIATE, so
    two of them queue on the busy timeout instead of failing when both try to
    upgrade a read lock; readers begin deferred and, in WAL mode, never wait.
    """
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(connection, _record):
            connection.isolation_level = None  # transactions are begun below, not by pysqlite
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """The shared writer engine of a database."""
    return make_engine(url)


@lru_cache(maxsize=8)
def reader_for(url: str) -> Engine:
    """The shared engine for read-only sessions (the writer itself on PostgreSQL)."""
    return make_engine(url, writer=False) if normalize_url(url).startswith("sqlite") else engine_for(url)


def reader_of(engine: Engine) -> Engine:
    return reader_for(engine.url.render_as_string(hide_password=False))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def construct(model: type[M], **values: Any) -> M:
    """A new, transient row of a table model: the values given and every other field's default, as
    ``model(**values)`` makes it, without the per-attribute events of SQLModel's constructor (a table
    model is not validated either way). Four times cheaper, for rows a hot path makes by the handful
    (tests/ews/test_db.py compares the two)."""
    instance = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    given = set(values)
    for name, field in model.model_fields.items():
        if name not in given and not field.is_required():
            values[name] = field.get_default(call_default_factory=True)
    instance.__dict__.update(values)
    object.__setattr__(instance, "__pydantic_fields_set__", given)
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def insert_new(session: Session, *rows: SQLModel) -> None:
    """Insert new rows with Core statements, one per table in the order given (a parent before its
    children), the rows of a table in one statement. The objects stay outside the session: nothing is
    tracked, flushed or read back. For a hot path, where the unit of work costs more CPU than the
    statements themselves; an autoincremented key left None is filled in by the database, unseen."""
    by_table: dict[Table, list[dict]] = {}
    for row in rows:
        table: Table = type(row).__table__  # type: ignore[attr-defined]
        values = {}
        for column in table.columns:
            value = getattr(row, column.key)
            if value is None and column.primary_key:
                continue
            values[column.key] = value
        by_table.setdefault(table, []).append(values)
    connection = session.connection()
    for table, values_list in by_table.items():
        connection.execute(_insert_into(table), values_list)


@lru_cache(maxsize=64)
def _insert_into(table: Table) -> Insert:
    """One INSERT statement per table for the process: a new one each time is built and its cache key
    made again."""
    return insert(table)
