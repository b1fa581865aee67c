"""Migrations: they build the schema the models describe, on both databases, and go down again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import ews.models  # noqa: F401
from ews.db import engine_for
from ews.migrate import alembic_config


def test_migrations_match_the_models(database_url):
    engine = engine_for(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_downgrade_to_base_and_up_again(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    engine = engine_for(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert {"detection", "alert", "delivery", "feed_entry", "peer"} <= set(inspect(engine).get_table_names())
