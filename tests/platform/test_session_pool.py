"""Many concurrent requests on routes with a request session (``SessionDep``) never wait
for the connection pool: more clients than pool connections and threads all get their
answer at once. Before deps.get_session bounded them, a request held its connection
while FastAPI waited for a thread to validate its response, while every thread waited
for a connection: nothing moved until the pool timed out (benchmarks/server_load.py,
200 clients polling: no answer, then 500s). Scaled down here: a pool of 2 + 1
connections, 4 threads, 50 clients."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from challenge_files import write_challenge


@pytest.fixture
def small_pool_app(tmp_path: Path, database: str | None, monkeypatch: pytest.MonkeyPatch):
    from podium.platform import db as db_module
    from podium.platform.app import create_app
    from podium.platform.challenges import service as challenges
    from podium.platform.dispatch.settings import DispatchSettings
    from podium.platform.models import State, Submission
    from podium.platform.settings import Settings
    from podium.platform.users import service as users

    make_engine = db_module.make_engine
    monkeypatch.setattr(db_module, "make_engine", lambda url, **kw: make_engine(
        url, **{"pool_size": 2, "max_overflow": 1, "pool_timeout": 5, **kw}))
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    app = create_app(Settings(data_dir=tmp_path / "data", env="production", secret_key="s" * 40,
                              database_url=database), dispatch=DispatchSettings(dispatcher=False))
    with app.state.db.session() as session, session.begin():
        user = users.create_user(session=session, name="user-a")
        token = users.create_token(session=session, user=user)
        challenge, _ = challenges.add_or_update(session=session, path=write_challenge(tmp_path / "challenges"))
        sub = Submission(owner_id=user.id, challenge_id=challenge.id, state=State.QUEUED)
        session.add(sub)
        session.flush()
        sub_id = sub.id
    yield app, token, sub_id
    app.state.db.dispose()


def test_more_concurrent_polls_than_connections_and_threads(small_pool_app) -> None:
    import anyio
    import httpx

    app, token, sub_id = small_pool_app
    assert app.state.db.request_sessions == 2  # the pool's size: one overflow connection left

    async def poll_all() -> list:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 4  # this loop's only
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://podium", timeout=60) as client:
            headers = {"Authorization": f"Bearer {token}"}
            return await asyncio.gather(*(client.get(f"/api/submissions/{sub_id}", headers=headers)
                                          for _ in range(50)), return_exceptions=True)

    t0 = time.monotonic()
    answers = asyncio.run(poll_all())
    elapsed = time.monotonic() - t0
    assert [getattr(a, "status_code", repr(a)) for a in answers] == [200] * 50
    assert elapsed < 5  # not one pool timeout (5 s here)
