"""A real HTTP server for the platform tests that need one (the dispatcher's execute
processes report to it; a browser loads its pages): the app served by uvicorn on
127.0.0.1 in a thread. Imported as ``from live_server import Server`` (pytest puts
tests/platform on ``sys.path``: it has a conftest.py and no ``__init__.py``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from podium.engine.process import free_port
from podium.platform.models import State, Submission, SubmissionAttempt


class Server:
    """A podium app served by uvicorn on 127.0.0.1 in a thread; ``stop`` and ``start``
    again on the same data directory = a server restart. The dispatcher's periods are
    short (``dispatch`` overrides them and sets any other DispatchSettings field)."""

    def __init__(self, data_dir: Path, **dispatch: object) -> None:
        from podium.platform.dispatch.settings import DispatchSettings
        from podium.platform.settings import Settings

        self.port = free_port()
        self.settings = Settings(data_dir=data_dir, env="production", secret_key="s" * 40)
        # 20 s: a `podium execute` on a loaded 2-core machine can take over 5 s to send its first heartbeat
        quick = {"heartbeat_interval_s": 0.3, "heartbeat_timeout_s": 20.0, "poll_s": 0.2, "cancel_grace_s": 2.0}
        self.dispatch = DispatchSettings(server_url=f"http://127.0.0.1:{self.port}", **{**quick, **dispatch})
        self.uv = None

    def start(self) -> None:
        import uvicorn

        from podium.platform.app import create_app

        self.app = create_app(self.settings, dispatch=self.dispatch)
        self.uv = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.uv.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.uv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.uv.started

    def stop(self) -> None:
        """Stop serving (a no-op when not running, so a fixture can stop what a test left)."""
        if self.uv is None or self.uv.should_exit:
            return
        self.uv.should_exit = True
        self.thread.join(timeout=30)
        self.app.state.db.dispose()

    @property
    def db(self):
        return self.app.state.db


# -- submissions on a live server (the dispatcher's tests) ------------------------


def start_server(data_dir: Path, challenge: Path, **dispatch: object) -> Server:
    """A started Server with the participant ``user-a`` (id 1) and ``challenge`` added."""
    from podium.platform.challenges import service as challenges
    from podium.platform.models import Role
    from podium.platform.users import service as users

    srv = Server(data_dir, **dispatch)
    srv.start()
    with srv.db.session() as session, session.begin():
        if users.get_user(session=session, name="user-a") is None:
            users.create_user(session=session, name="user-a", role=Role.PARTICIPANT)
        challenges.add_or_update(session=session, path=challenge)
    return srv



def queue(srv: Server) -> int:
    """A queued submission, as admission stores it (admission is tested elsewhere)."""
    from podium.platform.models import SubmissionEvent

    with srv.db.session() as session, session.begin():
        sub = Submission(owner_id=1, challenge_id=1, spec={"hf_repo": "o/m"}, hf_repo="o/m",
                         pinned_commit="0" * 40, state=State.QUEUED, counted_against_quota=True)
        session.add(sub)
        session.flush()
        session.add(SubmissionEvent(submission_id=sub.id, state=State.QUEUED, detail="admitted"))
        sid = sub.id
    srv.app.state.dispatcher.wake()
    return sid


def wait_for(srv: Server, sid: int, pred, timeout: float = 30.0) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with srv.db.session() as session:
            sub = session.get(Submission, sid)
            if pred(sub):
                return sub
        time.sleep(0.1)
    raise AssertionError(f"submission {sid} stuck in {sub.state} (attempts {sub.attempts})")


def attempts(srv: Server, sid: int) -> list[SubmissionAttempt]:
    from sqlalchemy import select

    with srv.db.session() as session:
        return list(session.scalars(select(SubmissionAttempt).where(SubmissionAttempt.submission_id == sid).order_by(SubmissionAttempt.id)))


def event_states(srv: Server, sid: int) -> list[State]:
    with srv.db.session() as session:
        return [e.state for e in session.get(Submission, sid).events]


def assert_scored_once(srv: Server, sid: int, outcomes: list[str]) -> Submission:
    """Scored by exactly one attempt: one score, one 'scored' event, no open attempt;
    ``outcomes`` are its attempts' in order."""
    sub = wait_for(srv, sid, lambda s: True)
    assert sub.state is State.SCORED and sub.score_public == 0.5, (sub.state, sub.error_code)
    assert sub.attempts == len(outcomes) and sub.error_code is None and not sub.platform_fault
    rows = attempts(srv, sid)
    assert [a.outcome for a in rows] == outcomes and all(a.finished_at is not None for a in rows)
    states = event_states(srv, sid)
    assert states.count(State.SCORED) == 1 and states[-1] is State.SCORED, states
    return sub


def quota_used(srv: Server) -> int:
    """user-a's submissions counted against the quota of t1 (a submission counts once,
    however many attempts it took)."""
    from podium.platform.challenges import service as challenges
    from podium.platform.models import utcnow
    from podium.platform.submissions.quota import quota_status

    with srv.db.session() as session:
        row = challenges.get_challenge(session=session, name="t1")
        return quota_status(session=session, user_id=1, challenge_id=row.id,
                            quotas=challenges.definition(row).quotas, now=utcnow()).used


def wait_executor_away(srv: Server, sid: int, failures: int, timeout: float = 30.0):
    """Wait until the dispatcher has failed ``failures`` times in a row to start work on
    its executor; check that ``sid`` waits meanwhile, queued, with no attempt made or
    counted. Returns the dispatcher's ``Unavailable``."""
    dispatcher = srv.app.state.dispatcher
    deadline = time.monotonic() + timeout
    while not (dispatcher.unavailable and dispatcher.unavailable.failures >= failures) and time.monotonic() < deadline:
        time.sleep(0.1)
    away = dispatcher.unavailable
    assert away is not None and away.failures >= failures, f"the dispatcher never failed {failures} times: {away}"
    sub = wait_for(srv, sid, lambda s: True)
    assert (sub.state, sub.attempts, sub.current_attempt_id, attempts(srv, sid)) == (State.QUEUED, 0, None, [])
    return away
