"""GET /metrics: who may read it, and exact values after admissions (accepted and
rejected), claims, a requeue and a scored submission, parsed with prometheus_client's
own parser."""

from __future__ import annotations

import datetime as dt

import pytest

from podium.platform import metrics
from podium.platform.dispatch import service as dispatch
from podium.platform.models import State, Submission, SubmissionEvent

GOOD = {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"}
REPORT = {"primary_metric": "exact_match", "primary_by_split": {"public": 0.5, "private": 0.25},
          "requests": {"output_tokens_per_s": 10.0}}


@pytest.fixture(autouse=True)
def _fresh_counters():
    metrics.reset_counters()
    yield
    metrics.reset_counters()


def submit(p, body, who="a", challenge="t1"):
    return p.client.post(f"/api/challenges/{challenge}/submissions", json=body, headers=p.headers(who))


def scrape(p) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}, parsed strictly."""
    from prometheus_client.parser import text_string_to_metric_families

    r = p.client.get("/metrics", headers=p.headers("org"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in out, f"duplicate sample {key}"
            out[key] = s.value
    return out


def pick(samples, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: v for (n, labels), v in samples.items() if n == name}


def test_only_organisers_read_metrics(platform) -> None:
    assert platform.client.get("/metrics").status_code == 401
    r = platform.client.get("/metrics", headers=platform.headers("a"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert platform.client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert platform.client.get("/metrics", headers=platform.headers("org")).status_code == 200


def test_empty_server(platform) -> None:
    m = scrape(platform)
    assert pick(m, "podium_queue_depth", "target") == {"cpu": 0}
    assert pick(m, "podium_jobs", "state") == {str(s): 0 for s in State}
    assert pick(m, "podium_admissions_rejected_total", "code") == {}
    assert m[("podium_attempts_requeued_total", ())] == 0
    assert ("podium_executor_up", ()) not in m  # no dispatcher here (test_ray_executor: 0 and 1)
    for stage in ("queued", "resolving", "compiling", "starting", "evaluating"):
        assert m[("podium_stage_duration_seconds_count", (("stage", stage),))] == 0
        assert m[("podium_stage_duration_seconds_bucket", (("le", "+Inf"), ("stage", stage)))] == 0


def test_admissions_accepted_and_rejected_by_code(platform, add_challenge) -> None:
    add_challenge("t2")
    add_challenge("t3", submissions=1)
    with platform.db.session() as session, session.begin():  # a second target's queue
        from podium.platform.models import Challenge

        session.query(Challenge).filter_by(name="t2").update({"target": "inf2.xlarge"})

    assert submit(platform, GOOD).status_code == 201
    assert submit(platform, GOOD, who="b").status_code == 201
    assert submit(platform, GOOD, challenge="t2").status_code == 201
    assert submit(platform, GOOD, challenge="t3").status_code == 201
    # refused: model findings (stored as rejected) and refusals that store nothing
    assert submit(platform, {**GOOD, "vllm.max_model_len": "4096"}).status_code == 422
    assert submit(platform, {**GOOD, "vllm.max_model_len": "4096"}, who="b").status_code == 422
    assert submit(platform, {**GOOD, "vllm.max_model_lenn": "512"}).status_code == 422
    assert submit(platform, {**GOOD, "model_dir": "/home/me/m"}).status_code == 422
    assert submit(platform, {"spec": "x"}).status_code == 422
    assert submit(platform, GOOD, challenge="nope").status_code == 404
    assert submit(platform, GOOD, challenge="t3").status_code == 429
    assert submit(platform, {**GOOD, "hf_repo_tag": "v9"}).status_code == 503

    m = scrape(platform)
    assert pick(m, "podium_admissions_rejected_total", "code") == {
        "FLAG_ABOVE_MAXIMUM": 2,
        "FLAG_UNKNOWN": 1,
        "FLAG_NOT_ALLOWED": 1,
        "PAYLOAD_INVALID": 1,
        "CHALLENGE_NOT_FOUND": 1,
        "QUOTA_EXCEEDED": 1,
        "HUB_UNREACHABLE": 1,
    }
    assert pick(m, "podium_queue_depth", "target") == {"cpu": 3, "inf2.xlarge": 1}
    # stored as rejected: the findings and the Hub (FLAG_NOT_ALLOWED is a PodiumError too)
    jobs = pick(m, "podium_jobs", "state")
    assert jobs == {**{str(s): 0 for s in State}, "queued": 4, "rejected": 5}
    assert m[("podium_attempts_requeued_total", ())] == 0

    # a claimed submission is still queued but no longer waits for a slot
    assert dispatch.claim(db=platform.db, target="cpu", slots=1, executor="test") is not None
    m = scrape(platform)
    assert pick(m, "podium_queue_depth", "target") == {"cpu": 2, "inf2.xlarge": 1}
    assert pick(m, "podium_jobs", "state")["queued"] == 4


def test_requeue_counts_and_failure_does_not(platform) -> None:
    sid = submit(platform, GOOD).json()["id"]
    first = dispatch.claim(db=platform.db, target="cpu", slots=1, executor="test")
    r = platform.client.post(f"/api/attempts/{first.attempt_id}/state", json={"state": "resolving"},
                             headers={"Authorization": f"Bearer {first.token}"})
    assert r.status_code == 200, r.text
    assert dispatch.worker_lost(db=platform.db, attempt_id=first.attempt_id, reason="test", max_attempts=2) is State.QUEUED
    # the same attempt lost again no longer matters
    assert dispatch.worker_lost(db=platform.db, attempt_id=first.attempt_id, reason="test", max_attempts=2) is None
    m = scrape(platform)
    assert m[("podium_attempts_requeued_total", ())] == 1
    assert pick(m, "podium_queue_depth", "target") == {"cpu": 1}
    assert pick(m, "podium_jobs", "state")["queued"] == 1

    second = dispatch.claim(db=platform.db, target="cpu", slots=1, executor="test")
    assert second.submission_id == sid
    assert dispatch.worker_lost(db=platform.db, attempt_id=second.attempt_id, reason="test", max_attempts=2) is State.FAILED
    m = scrape(platform)
    assert m[("podium_attempts_requeued_total", ())] == 1, "failed with WORKER_LOST, not queued again"
    assert pick(m, "podium_jobs", "state") == {**{str(s): 0 for s in State}, "failed": 1}
    assert pick(m, "podium_queue_depth", "target") == {"cpu": 0}
    # stages completed: queued (twice: before each attempt), resolving once
    assert m[("podium_stage_duration_seconds_count", (("stage", "queued"),))] == 2
    assert m[("podium_stage_duration_seconds_count", (("stage", "resolving"),))] == 1


def test_stage_durations_from_events(platform) -> None:
    sid = submit(platform, GOOD).json()["id"]
    open_sid = submit(platform, GOOD, who="b").json()["id"]
    c = dispatch.claim(db=platform.db, target="cpu", slots=1, executor="test")
    assert c.submission_id == sid
    base, h = f"/api/attempts/{c.attempt_id}", {"Authorization": f"Bearer {c.token}"}
    for state in ("resolving", "starting", "evaluating"):
        assert platform.client.post(f"{base}/state", json={"state": state}, headers=h).status_code == 200
    assert platform.client.post(f"{base}/report", json={"report": REPORT}, headers=h).json()["state"] == "scored"

    # exact times: queued 40 s, resolving 3 s, starting 90 s, evaluating 700 s
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    offsets = {"queued": 0, "resolving": 40, "starting": 43, "evaluating": 133, "scored": 833}
    with platform.db.session() as session, session.begin():
        events = session.query(SubmissionEvent).filter_by(submission_id=sid).order_by(SubmissionEvent.id).all()
        assert [str(e.state) for e in events] == list(offsets)
        for e in events:
            e.at = t0 + dt.timedelta(seconds=offsets[str(e.state)])
        assert session.get(Submission, open_sid).state is State.QUEUED

    m = scrape(platform)

    def hist(stage: str) -> tuple[dict[str, float], float, float]:
        buckets = {dict(labels)["le"]: v for (n, labels), v in m.items()
                   if n == "podium_stage_duration_seconds_bucket" and dict(labels)["stage"] == stage}
        key = (("stage", stage),)
        return buckets, m[("podium_stage_duration_seconds_count", key)], m[("podium_stage_duration_seconds_sum", key)]

    # the second submission's queued stage is not over: not observed
    for stage, seconds in (("queued", 40), ("resolving", 3), ("starting", 90), ("evaluating", 700)):
        buckets, count, total = hist(stage)
        assert (count, total) == (1, seconds), stage
        assert buckets["+Inf"] == 1
        assert {le: v for le, v in buckets.items() if le != "+Inf"} == {
            repr(b): float(seconds <= b) for b in metrics.BUCKETS
        }, stage
    assert hist("compiling")[1:] == (0, 0)
    assert pick(m, "podium_jobs", "state")["scored"] == 1
