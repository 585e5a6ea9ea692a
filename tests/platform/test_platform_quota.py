"""Quotas: exact under real concurrency (a real server on loopback, 20 threads, one
SQLite file), failed allowance, platform faults, in-flight limit, the 429 message."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import httpx

GOOD = {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_twenty_concurrent_submits_get_exactly_the_quota(platform) -> None:
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(platform.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    n = 20
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            barrier.wait()
            r = client.post("/api/challenges/t1/submissions", json=GOOD, headers=platform.headers("a"))
            with lock:
                statuses.append(r.status_code)
                bodies.append(r.json())

    try:
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        server.should_exit = True
        thread.join(10)
    assert sorted(statuses) == [201] * 3 + [429] * 17, statuses
    refused = [b for b in bodies if not b.get("ok", True)]
    assert {b["error"]["code"] for b in refused} == {"QUOTA_EXCEEDED"}
    assert all(b["quota"]["remaining"] == 0 for b in refused)
    mine = platform.client.get("/api/submissions", headers=platform.headers("a")).json()
    assert len([s for s in mine if s["state"] == "queued"]) == 3


def _age_out(platform, hours: float) -> None:
    from sqlalchemy import select

    from podium.platform.models import Submission

    with platform.db.session() as s, s.begin():
        for sub in s.scalars(select(Submission)):
            sub.created_at = sub.created_at - dt.timedelta(hours=hours)


def test_quota_message_rejections_failures_and_window(platform) -> None:
    from podium.errors import PodiumError
    from podium.platform.models import State
    from podium.platform.submissions.service import set_state

    post = lambda body: platform.client.post(  # noqa: E731
        "/api/challenges/t1/submissions", json=body, headers=platform.headers("a")
    )
    # rejected at admission: never counted
    for _ in range(4):
        assert post({**GOOD, "vllm.max_model_len": "4096"}).status_code == 422
    ids = [post(GOOD).json()["id"] for _ in range(3)]
    r = post(GOOD)
    assert r.status_code == 429
    err = r.json()["error"]
    assert err["code"] == "QUOTA_EXCEEDED"
    assert "0 remain" in err["message"] and "3 submissions" in err["message"]
    assert "submit again at" in err["hint"]
    assert r.json()["quota"]["resets_at"].endswith("Z")

    # a platform fault gives the submission back
    with platform.db.session() as s, s.begin():
        set_state(session=s, submission_id=ids[0], state=State.FAILED, platform_fault=True,
                  error=PodiumError("worker lost", code="WORKER_LOST"))
    assert post(GOOD).status_code == 201
    assert post(GOOD).status_code == 429
    # failed_allowance: 1 failure of the participant's own does not count
    with platform.db.session() as s, s.begin():
        set_state(session=s, submission_id=ids[1], state=State.FAILED)
    assert post(GOOD).status_code == 201
    with platform.db.session() as s, s.begin():
        set_state(session=s, submission_id=ids[2], state=State.FAILED)
    assert post(GOOD).status_code == 429  # the second failure counts again
    # rolling 24 h: a day later the window is empty; B was never affected
    assert platform.client.post("/api/challenges/t1/submissions", json=GOOD, headers=platform.headers("b")).status_code == 201
    _age_out(platform, 25)
    assert post(GOOD).status_code == 201


def test_max_in_flight(platform, add_challenge) -> None:
    from podium.platform.models import State
    from podium.platform.submissions.service import set_state

    add_challenge("t2", submissions=10, max_in_flight=1)
    url = "/api/challenges/t2/submissions"
    first = platform.client.post(url, json=GOOD, headers=platform.headers("a"))
    assert first.status_code == 201
    r = platform.client.post(url, json=GOOD, headers=platform.headers("a"))
    assert r.status_code == 429
    assert "in flight" in r.json()["error"]["message"]
    assert "9 of 10 remain" in r.json()["error"]["message"]
    with platform.db.session() as s, s.begin():
        set_state(session=s, submission_id=first.json()["id"], state=State.CANCELLED)
    assert platform.client.post(url, json=GOOD, headers=platform.headers("a")).status_code == 201


def test_daily_window_resets_at_the_reset_hour() -> None:
    from podium.evaluate.challenge import Quotas
    from podium.platform.submissions.quota import window_start

    q = Quotas(window="daily", reset_hour_utc=6)
    at = dt.datetime(2026, 1, 2, 5, 0, tzinfo=dt.UTC)
    assert window_start(q, at) == dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC)
    at = dt.datetime(2026, 1, 2, 7, 0, tzinfo=dt.UTC)
    assert window_start(q, at) == dt.datetime(2026, 1, 2, 6, 0, tzinfo=dt.UTC)
    rolling = Quotas(window="rolling_24h")
    assert window_start(rolling, at) == at - dt.timedelta(hours=24)
