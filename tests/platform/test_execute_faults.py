"""The dispatcher, the local executor and real ``podium execute`` processes against a
real HTTP server (uvicorn in a thread, a SQLite file). The pipeline is replaced by the
stand-in of ``PODIUM_EXECUTE_FAKE`` because these are faults the real pipeline cannot be
made to produce on demand: a worker that dies mid-run, a worker that stops heartbeating,
restart while running, cancel while running (a stand-in engine child that ignores
SIGTERM, so the executor's group kill is what removes it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from live_server import (
    Server,
    assert_scored_once,
    attempts,
    event_states,
    queue,
    quota_used,
    start_server,
    wait_executor_away,
    wait_for,
)

from challenge_files import write_challenge
from podium.engine.process import pid_alive
from podium.platform.models import State, Submission


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    made: list[Server] = []

    def make(fake: str, **dispatch: object) -> Server:
        monkeypatch.setenv("PODIUM_EXECUTE_FAKE", fake)
        srv = start_server(tmp_path / "data", write_challenge(tmp_path / "challenges"), **dispatch)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()
    _kill_leftovers(tmp_path / "data")


def _kill_leftovers(data_dir: Path) -> None:
    import os
    import signal

    for pidfile in data_dir.glob("attempts/*/fake-engine.pid"):
        pid = int(pidfile.read_text())
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_scored_through_the_executor(server) -> None:
    srv = server("slow:0.5")
    sid = queue(srv)
    sub = wait_for(srv, sid, lambda s: s.state.is_final)
    assert sub.state is State.SCORED and sub.score_public == 0.5 and sub.attempts == 1
    [att] = attempts(srv, sid)
    assert att.outcome == "scored" and att.executor == "local" and att.handle["pid"] > 0
    states = [e.state for e in srv.app.state.db.session().get(Submission, sid).events]
    assert states == [State.QUEUED, State.RESOLVING, State.STARTING, State.EVALUATING, State.SCORED]
    # the execute process's own output, for organisers: what the local executor wrote
    import httpx

    from podium.platform.models import Role
    from podium.platform.users import service as users

    Path(att.handle["log"]).write_text("execute output marker\n")
    with srv.db.session() as session, session.begin():
        olga = users.create_token(session=session, user=users.create_user(session=session, name="olga", role=Role.ORGANISER))
    get = lambda aid: httpx.get(f"{srv.dispatch.server_url}/api/admin/attempts/{aid}/executor-log",  # noqa: E731
                                headers={"Authorization": f"Bearer {olga}"})
    assert get(att.id).status_code == 200 and get(att.id).text == "execute output marker\n"
    missing = get(att.id + 99)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_dying_worker_is_queued_again_then_worker_lost(server) -> None:
    """Fake: the execute process exits mid-run without a report, every attempt."""
    srv = server("die", max_attempts=2)
    sid = queue(srv)
    sub = wait_for(srv, sid, lambda s: s.state.is_final)
    assert sub.state is State.FAILED and sub.error_code == "WORKER_LOST"
    assert sub.attempts == 2 and sub.platform_fault and not sub.counted_against_quota
    assert [a.outcome for a in attempts(srv, sid)] == ["lost", "lost"]
    details = [e.detail for e in srv.db.session().get(Submission, sid).events]
    assert any("queued again" in d for d in details)


def test_killed_worker_is_queued_again_and_scored_once(server) -> None:
    """SIGKILL the running ``podium execute`` process mid-evaluation, the server up: the
    dispatcher sees it gone and queues the submission again; attempt 2 scores it. One
    score, one 'scored' event, and the lost attempt costs the participant nothing: the
    submission counts once against the quota, as any scored submission does."""
    import os
    import signal

    srv = server("slow:4")
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.EVALUATING)
    [att] = attempts(srv, sid)
    os.kill(att.handle["pid"], signal.SIGKILL)
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=40)
    assert not pid_alive(att.handle["pid"])
    time.sleep(1.0)  # a late report or a third attempt would show now
    assert_scored_once(srv, sid, ["lost", "scored"])
    assert sub.counted_against_quota and quota_used(srv) == 1
    states = event_states(srv, sid)
    assert states.count(State.QUEUED) == 2 and states.count(State.EVALUATING) == 2
    details = [e.detail for e in srv.db.session().get(Submission, sid).events]
    assert any("queued again: worker lost (process exited without a report)" in d for d in details)


def test_silent_worker_is_lost_and_stopped(server) -> None:
    """Fake: the execute process stays alive but stops heartbeating."""
    srv = server("silent", max_attempts=1, heartbeat_timeout_s=5.0)
    sid = queue(srv)
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=30)
    assert sub.state is State.FAILED and sub.error_code == "WORKER_LOST"
    [att] = attempts(srv, sid)
    deadline = time.monotonic() + 10
    while pid_alive(att.handle["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(att.handle["pid"]), "the silent worker was not stopped"


def test_cancel_while_running_leaves_no_process(server, tmp_path: Path) -> None:
    """Fake: a running worker whose stand-in engine child ignores SIGTERM."""
    import httpx

    from podium.platform.users import service as users

    srv = server("hang")
    with srv.db.session() as session, session.begin():
        token = users.create_token(session=session, user=users.get_user(session=session, name="user-a"))
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.STARTING)
    [att] = attempts(srv, sid)
    pidfile = tmp_path / "data" / "attempts" / str(att.id) / "fake-engine.pid"
    deadline = time.monotonic() + 10
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    engine_pid, worker_pid = int(pidfile.read_text()), att.handle["pid"]
    assert pid_alive(engine_pid) and pid_alive(worker_pid)
    t0 = time.monotonic()
    r = httpx.post(f"{srv.dispatch.server_url}/api/submissions/{sid}/cancel", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    while (pid_alive(engine_pid) or pid_alive(worker_pid)) and time.monotonic() - t0 < 15:
        time.sleep(0.1)
    assert not pid_alive(worker_pid) and not pid_alive(engine_pid), "processes left after cancel"
    assert time.monotonic() - t0 < 10
    assert attempts(srv, sid)[0].outcome == "cancelled"


def test_restart_reattaches_a_live_worker(server) -> None:
    """Fake: a worker that runs for a few seconds; the server stops and starts again
    meanwhile. The worker keeps running, the new server re-attaches it, it is scored,
    and the attempt was counted once."""
    srv = server("slow:6")
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.EVALUATING)
    srv.stop()
    time.sleep(1.0)
    srv.start()
    wait_for(srv, sid, lambda s: s.state.is_final, timeout=40)
    assert_scored_once(srv, sid, ["scored"])


def test_restart_requeues_a_dead_worker_counted_once(server) -> None:
    """Fake: the worker dies while the server is down; after the restart its submission
    is queued again and runs as attempt 2 (the lost attempt counted once)."""
    import os
    import signal

    srv = server("slow:30")
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.EVALUATING)
    srv.stop()
    [att] = attempts(srv, sid)
    os.killpg(att.handle["pid"], signal.SIGKILL)
    time.sleep(0.5)
    os.environ["PODIUM_EXECUTE_FAKE"] = "slow:0.2"
    srv.start()
    wait_for(srv, sid, lambda s: s.state.is_final, timeout=40)
    assert_scored_once(srv, sid, ["lost", "scored"])
    assert quota_used(srv) == 1


def test_restart_with_jobs_running_and_queued_loses_none_scores_each_once(server) -> None:
    """Two slots: two workers running and a third submission queued when the server
    stops; one of the two workers dies while it is down. After the restart the live
    worker is re-attached and reports, the dead one's submission runs again, the queued
    one runs: all three scored, each exactly once, each counted once."""
    import os
    import signal

    srv = server("slow:6", slots={"cpu": 2})
    live, dead, waiting = queue(srv), queue(srv), queue(srv)
    for sid in (live, dead):
        wait_for(srv, sid, lambda s: s.state is State.EVALUATING)
    assert wait_for(srv, waiting, lambda s: True).state is State.QUEUED and not attempts(srv, waiting)
    srv.stop()
    [att] = attempts(srv, dead)
    os.killpg(att.handle["pid"], signal.SIGKILL)
    time.sleep(1.0)
    srv.start()
    for sid in (live, dead, waiting):
        wait_for(srv, sid, lambda s: s.state.is_final, timeout=60)
    time.sleep(1.0)  # a late report or an extra attempt would show now
    assert_scored_once(srv, live, ["scored"])
    assert_scored_once(srv, dead, ["lost", "scored"])
    assert_scored_once(srv, waiting, ["scored"])
    assert quota_used(srv) == 3


def test_a_machine_that_cannot_start_execute_keeps_submissions_queued(server, tmp_path: Path) -> None:
    """The local executor cannot start ``podium execute`` (here its attempts directory is
    a file; as well a full disk or a failed fork): not the submission's fault. It waits in
    the queue with no attempt counted, the dispatcher retries with a growing pause, and
    once the machine is mended it is scored, once."""
    blocked = tmp_path / "data" / "attempts"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a directory")
    srv = server("slow:0.5")
    sid = queue(srv)
    dispatcher = srv.app.state.dispatcher
    away = wait_executor_away(srv, sid, failures=2)
    assert "could not start podium execute here" in away.reason
    assert event_states(srv, sid) == [State.QUEUED]

    # once nothing waits for it (the one submission cancelled), the alarm is off
    from podium.platform.dispatch import service

    with srv.db.session() as session, session.begin():
        service.cancel(session=session, sub=session.get(Submission, sid), by="test")
    deadline = time.monotonic() + 10
    while dispatcher.unavailable is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dispatcher.unavailable is None

    sid = queue(srv)  # still broken: the alarm again, then the machine is mended
    deadline = time.monotonic() + 20
    while dispatcher.unavailable is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dispatcher.unavailable is not None
    blocked.unlink()
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=60)
    assert sub.state is State.SCORED and dispatcher.unavailable is None
    assert_scored_once(srv, sid, ["scored"])
