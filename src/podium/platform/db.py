"""The database: one SQLAlchemy engine and its sessions, and ``upgrade head``.

SQLite (the default) runs in WAL mode with foreign keys on and a busy timeout; its
transactions are started by us (``BEGIN``, or ``BEGIN IMMEDIATE`` for
:meth:`Database.locked`), not by the driver, so that a count-then-insert is atomic
across threads and processes. A PostgreSQL URL works the same: :meth:`Database.locked`
takes a transaction-level advisory lock instead (one key for the whole database), so
that it serialises the same count-then-insert sections as SQLite's write lock (a
dispatch claim's count of open attempts per target included); callers still lock rows
with ``SELECT ... FOR UPDATE`` (``SKIP LOCKED`` for claims).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30.0
# pg_advisory_xact_lock key of Database.locked() on PostgreSQL ("podium" in ASCII).
PG_LOCK_KEY = 0x706F6469756D


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql+psycopg:") or url.startswith("postgresql:"):
        url = "postgresql+psycopg:" + url.split(":", 1)[1]  # psycopg 3, server-side binding
        return create_engine(url, pool_pre_ping=True, **{"pool_size": 20, "max_overflow": 40, **kwargs})
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
        **{"pool_size": 20, "max_overflow": 40, **kwargs},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


class Database:
    """The engine plus two session factories: ordinary, and write-locked (for quotas)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        # how many requests may hold a deps.get_session session at once: fewer than the
        # pool's connections (its persistent size; the overflow is for the short sessions)
        size = getattr(self.engine.pool, "size", None)
        self.request_sessions = size() if callable(size) else 20
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        locked_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._locked = sessionmaker(locked_bind, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def locked(self) -> Iterator[Session]:
        """A transaction that holds the database's write lock from its first statement
        (SQLite ``BEGIN IMMEDIATE``, a transaction-level advisory lock on PostgreSQL);
        committed on success, rolled back on error."""
        with self._locked() as session, session.begin():
            if self.engine.dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield session

    def upgrade(self) -> None:
        upgrade_head(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
        cfg.attributes["engine"] = engine
    return cfg


def upgrade_head(engine: Engine) -> None:
    """``alembic upgrade head`` on this engine: run at server start and by ``podium admin``."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
