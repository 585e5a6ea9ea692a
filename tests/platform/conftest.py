"""Platform fixtures: a real database, three users (participants A and B, an organiser),
a challenge, and the session's tiny models as the Hugging Face cache.

The database is a SQLite file in tmp_path; the tests that are about the database
(:data:`BOTH_DATABASES`) run a second time on PostgreSQL: a throwaway server started
once per session (tests/pg_server.py) and a fresh database per test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import challenge_files

# Modules whose tests using `platform` (or `database`) run on SQLite and on PostgreSQL.
BOTH_DATABASES = {"test_platform_access", "test_platform_admission", "test_platform_quota", "test_dispatch_api",
                  "test_migrations", "test_session_pool"}
# ... except these, which read the SQLite file itself.
SQLITE_ONLY = {"test_hf_token_never_leaks"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" not in metafunc.fixturenames:
        return
    both = (metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_DATABASES
            and metafunc.function.__name__ not in SQLITE_ONLY)
    metafunc.parametrize("database", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


CHALLENGE = {
    "title": "Platform test",
    "maximum": {"vllm.max-model-len": 1024},
    "extra_keys": {"prompt-template-path": "string", "temperature": "number"},
}


def write_challenge(root: Path, name: str = "t1", submissions: int = 3, max_in_flight: int = 50) -> Path:
    quotas = {"submissions": submissions, "failed_allowance": 1, "max_in_flight": max_in_flight}
    return challenge_files.write_challenge(root, name, quotas=quotas, **CHALLENGE)


@dataclass
class Platform:
    app: object
    client: object
    tokens: dict[str, str]  # "a", "b", "org" -> API token
    data_dir: Path

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    @property
    def db(self):
        return self.app.state.db


@pytest.fixture
def hf_models(hub_cache, monkeypatch: pytest.MonkeyPatch):
    """Resolve from the session's tiny-model Hub cache (offline)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache.path))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache.path))
    return hub_cache


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL server for the session (started on first use)."""
    import psycopg  # noqa: F401 - the driver the platform uses (make setup installs it)

    from pg_server import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:  # a broken setup, not a reason to pass
        pytest.fail(
            "PostgreSQL is not installed (initdb/pg_ctl): run 'make test' (it runs "
            "scripts/setup-postgres.sh), or deselect the PostgreSQL cases with -k 'not postgresql'"
        )
    server = PgServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str | None:
    """The platform's PODIUM_DATABASE_URL: None (SQLite in the data directory) or a new
    PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture
def platform(tmp_path: Path, hf_models, database: str | None, monkeypatch: pytest.MonkeyPatch) -> Platform:
    from fastapi.testclient import TestClient

    from podium.platform.app import create_app
    from podium.platform.challenges import service as challenges
    from podium.platform.models import Role
    from podium.platform.settings import Settings
    from podium.platform.users import service as users

    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data", env="production", secret_key="s" * 40,
                        database_url=database)
    app = create_app(settings)
    tokens = {}
    with app.state.db.session() as session, session.begin():
        for who, role in (("a", Role.PARTICIPANT), ("b", Role.PARTICIPANT), ("org", Role.ORGANISER)):
            user = users.create_user(session=session, name=f"user-{who}", role=role)
            tokens[who] = users.create_token(session=session, user=user)
        challenges.add_or_update(session=session, path=write_challenge(tmp_path / "challenges"))
    client = TestClient(app)
    yield Platform(app, client, tokens, settings.data_dir)
    client.close()
    app.state.db.dispose()


@pytest.fixture
def add_challenge(platform: Platform, tmp_path: Path):
    from podium.platform.challenges import service as challenges

    def add(name: str, **kw: int) -> None:
        with platform.db.session() as session, session.begin():
            challenges.add_or_update(session=session, path=write_challenge(tmp_path / "challenges", name, **kw))

    return add
