"""The Alembic migrations and the SQLAlchemy models describe the same schema, on SQLite and
on PostgreSQL: a database upgraded to head, compared with the models' metadata by
Alembic's autogenerate (what ``alembic revision --autogenerate`` would write), gives no
difference: no table, column, type, nullability, server default, index, unique or
foreign key that one has and the other lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.platform.db import Database
from podium.platform.models import Base


@pytest.fixture
def upgraded(tmp_path: Path, database: str | None):
    db = Database(database or f"sqlite:///{tmp_path / 'podium.db'}")
    db.upgrade()
    yield db
    db.dispose()


def test_migrations_at_head_match_the_models(upgraded: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from podium.platform.db import alembic_config

    with upgraded.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True, "target_metadata": Base.metadata}
        )
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert context.get_current_revision() == head
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == [], f"the migrations at {head} and models.py differ ({conn.dialect.name}): {diff}"
    # the comparison really saw the tables (an empty database would differ by every table)
    assert set(Base.metadata.tables) <= tables


def test_the_comparison_sees_a_difference(upgraded: Database) -> None:
    """The check can fail: a column the models have and the database lacks is reported."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import Column, Integer, MetaData

    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["users"].append_column(Column("shoe_size", Integer, nullable=True))
    with upgraded.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "users", "shoe_size")]
