"""Dispatcher and worker routes through the API, without processes (dispatcher off):
claims in order within slots, the attempt credential, a superseded attempt's late report
refused (409, nothing scored twice), cancel, rerun, logs visibility."""

from __future__ import annotations

import pytest

from podium.platform.dispatch import service as dispatch
from podium.platform.models import State, Submission

GOOD = {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"}
REPORT = {"primary_metric": "exact_match", "primary_by_split": {"public": 0.5, "private": 0.25},
          "requests": {"output_tokens_per_s": 10.0}}


@pytest.fixture
def subs(platform):
    ids = []
    for who in ("a", "a", "b"):
        r = platform.client.post("/api/challenges/t1/submissions", json=GOOD, headers=platform.headers(who))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def claim(platform, slots: int = 1):
    return dispatch.claim(db=platform.db, target="cpu", slots=slots, executor="test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def state_of(platform, sid: int) -> Submission:
    with platform.db.session() as session:
        return session.get(Submission, sid)


def test_claims_oldest_first_within_slots(platform, subs) -> None:
    first = claim(platform, slots=2)
    second = claim(platform, slots=2)
    assert (first.submission_id, second.submission_id) == (subs[0], subs[1])
    assert claim(platform, slots=2) is None, "2 slots for cpu are taken"
    assert state_of(platform, subs[0]).attempts == 1
    # the third is still first in the queue that is not yet claimed
    r = platform.client.get(f"/api/submissions/{subs[2]}", headers=platform.headers("b"))
    assert r.json()["state"] == "queued"


@pytest.mark.parametrize("slots", [2, 10])
def test_concurrent_claims_never_exceed_slots_or_claim_twice(platform, subs, slots: int) -> None:
    """Eight dispatchers claiming at once (threads, each its own connection): at most
    ``slots`` attempts, and each submission claimed once."""
    import threading

    barrier = threading.Barrier(8)
    claimed: list = []
    errors: list[BaseException] = []

    def race() -> None:
        barrier.wait()
        try:
            while (c := claim(platform, slots=slots)) is not None:
                claimed.append(c)
        except BaseException as exc:  # e.g. "database is locked": a claim must wait, not fail
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    ids = sorted(c.submission_id for c in claimed)
    assert ids == sorted(subs)[: min(slots, len(subs))], ids
    assert len({c.attempt_id for c in claimed}) == len(claimed)
    assert all(state_of(platform, sid).attempts == 1 for sid in ids)


def test_attempt_routes_take_only_the_attempt_credential(platform, subs) -> None:
    c = claim(platform)
    path = f"/api/attempts/{c.attempt_id}/job"
    assert platform.client.get(path).status_code == 401
    assert platform.client.get(path, headers=platform.headers("org")).status_code == 401
    other = claim(platform, slots=2)
    assert platform.client.get(path, headers=bearer(other.token)).status_code == 401
    r = platform.client.get(path, headers=bearer(c.token))
    assert r.status_code == 200
    job = r.json()
    assert job["submission_id"] == c.submission_id and job["pinned_commit"]
    assert "name: t1" in job["challenge_yaml"] and job["target"] == "cpu"


def test_worker_reports_states_progress_logs_and_score(platform, subs) -> None:
    c = claim(platform)
    base, h = f"/api/attempts/{c.attempt_id}", bearer(c.token)
    for state in ("resolving", "starting", "evaluating"):
        assert platform.client.post(f"{base}/state", json={"state": state}, headers=h).json()["state"] == state
    assert platform.client.post(f"{base}/heartbeat", headers=h).json() == {"ok": True, "cancel": False, "state": "evaluating"}
    platform.client.post(f"{base}/progress", json={"done": 3, "total": 7}, headers=h)
    platform.client.post(f"{base}/logs", json={"stream": "serve", "text": "vllm up\n"}, headers=h)
    platform.client.post(f"{base}/logs", json={"stream": "evaluate", "text": "public sample"}, headers=h)
    platform.client.post(f"{base}/logs", json={"stream": "evaluate", "text": "HIDDEN prompt", "private": True}, headers=h)
    shown = platform.client.get(f"/api/submissions/{c.submission_id}", headers=platform.headers("a")).json()
    assert shown["progress"] == {"done": 3, "total": 7}
    assert [e["state"] for e in shown["events"]] == ["queued", "resolving", "starting", "evaluating"]
    r = platform.client.post(f"{base}/report", json={"report": REPORT}, headers=h)
    assert r.json()["state"] == "scored"
    sub = state_of(platform, c.submission_id)
    assert sub.score_public == 0.5 and sub.tokens_per_s == 10.0
    # participant: no hidden-split material; organiser: everything; done once read
    mine = platform.client.get(f"/api/submissions/{c.submission_id}/logs", headers=platform.headers("a")).json()
    assert "[serve] vllm up" in mine["text"] and "public sample" in mine["text"]
    assert "HIDDEN" not in mine["text"] and mine["done"] is True
    org = platform.client.get(f"/api/submissions/{c.submission_id}/logs", headers=platform.headers("org")).json()
    assert "HIDDEN prompt" in org["text"]
    tail = platform.client.get(f"/api/submissions/{c.submission_id}/logs?offset={mine['next_offset']}", headers=platform.headers("a")).json()
    assert tail == {"text": "", "next_offset": mine["next_offset"], "done": True}
    assert platform.client.get(f"/api/submissions/{c.submission_id}/logs", headers=platform.headers("b")).status_code == 404
    # a finished attempt reports nothing more
    assert platform.client.post(f"{base}/report", json={"report": REPORT}, headers=h).status_code == 409


def test_late_report_of_superseded_attempt_is_refused(platform, subs) -> None:
    """The fault (a superseded attempt reporting late) is made directly: attempt 1 is
    lost, the submission is claimed again as attempt 2, then attempt 1 reports."""
    old = claim(platform)
    assert dispatch.worker_lost(db=platform.db, attempt_id=old.attempt_id, reason="test", max_attempts=3) is State.QUEUED
    new = claim(platform)
    assert new.submission_id == old.submission_id and new.attempt_id != old.attempt_id
    r = platform.client.post(f"/api/attempts/{old.attempt_id}/report", json={"report": REPORT}, headers=bearer(old.token))
    assert r.status_code == 409 and r.json()["error"]["code"] == "ATTEMPT_SUPERSEDED"
    assert platform.client.post(f"/api/attempts/{old.attempt_id}/heartbeat", headers=bearer(old.token)).status_code == 409
    assert state_of(platform, old.submission_id).state is State.QUEUED
    r = platform.client.post(f"/api/attempts/{new.attempt_id}/report", json={"report": REPORT}, headers=bearer(new.token))
    assert r.status_code == 200
    sub = state_of(platform, old.submission_id)
    assert sub.state is State.SCORED and sub.attempts == 2
    assert [e.state for e in _events(platform, sub.id)].count(State.SCORED) == 1


def _events(platform, sid):
    from sqlalchemy import select

    from podium.platform.models import SubmissionEvent

    with platform.db.session() as session:
        return list(session.scalars(select(SubmissionEvent).where(SubmissionEvent.submission_id == sid)))


def test_worker_lost_too_often_fails_without_counting(platform, subs) -> None:
    for _ in range(3):
        c = claim(platform)
        assert c.submission_id == subs[0]
        dispatch.worker_lost(db=platform.db, attempt_id=c.attempt_id, reason="test", max_attempts=3)
    sub = state_of(platform, subs[0])
    assert sub.state is State.FAILED and sub.error_code == "WORKER_LOST"
    assert sub.platform_fault and not sub.counted_against_quota


def test_cancel_and_rerun(platform, subs) -> None:
    h = platform.headers
    assert platform.client.post(f"/api/submissions/{subs[0]}/cancel", headers=h("b")).status_code == 404
    r = platform.client.post(f"/api/submissions/{subs[0]}/cancel", headers=h("a"))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert platform.client.post(f"/api/submissions/{subs[0]}/cancel", headers=h("a")).status_code == 409
    # a running one: cancelled in the database at once, its worker refused afterwards
    c = claim(platform)
    assert c.submission_id == subs[1]
    assert platform.client.post(f"/api/submissions/{subs[1]}/cancel", headers=h("org")).json()["state"] == "cancelled"
    assert platform.client.post(f"/api/attempts/{c.attempt_id}/heartbeat", headers=bearer(c.token)).status_code == 409
    # rerun: organisers only; a new attempt, queued
    assert platform.client.post(f"/api/submissions/{subs[1]}/rerun", headers=h("a")).status_code == 403
    assert platform.client.post(f"/api/submissions/{subs[1]}/rerun", headers=h(None)).status_code == 401
    r = platform.client.post(f"/api/submissions/{subs[1]}/rerun", headers=h("org"))
    assert r.status_code == 200 and r.json()["state"] == "queued"
    again = claim(platform, slots=2)
    assert again.submission_id == subs[1] and again.attempt_id != c.attempt_id
