"""The Ray executor against a real local Ray cluster bound to loopback (a head and worker
nodes on this machine, see ray_cluster.py), with the server's dispatcher and real
``podium execute`` processes started by Ray's job submission API.

One cluster for the module; the tests in this order:

1. while Ray does not answer (the head not started yet) the submission waits in the
   queue, no attempt counted, and the queue says why; once the head is up, the job waits
   in Ray while no host has a free slot (pending: not lost, though it sends no
   heartbeat), starts when a host joins, and is scored (stand-in pipeline);
2. cancel goes through Ray: the job is stopped and its stand-in engine child, which
   ignores SIGTERM, is gone from the host;
3. a server restart re-attaches to the job still running in Ray: scored once, one
   attempt; a job Ray no longer knows is queued again;
4. (real vLLM) the host running a submission is killed mid-evaluation: the attempt is
   lost, queued again without counting, and finished on another host, scored once.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest
from live_server import (
    Server,
    assert_scored_once,
    attempts,
    queue,
    quota_used,
    start_server,
    wait_executor_away,
    wait_for,
)
from ray_cluster import RayCluster

from challenge_files import write_challenge
from podium.engine.process import descendants, pid_alive
from podium.plan.targets import all_targets, get_target
from podium.platform.dispatch.executor import AttemptJob
from podium.platform.dispatch.ray_executor import CPU_SLOT_RESOURCE, entrypoint, job_resources
from podium.platform.models import State, Submission

PODIUM = [sys.executable, "-m", "podium.cli.main"]

# -- without a cluster --------------------------------------------------------------


def test_resources_come_from_the_target_table() -> None:
    assert job_resources(get_target("cpu")) == {"entrypoint_num_cpus": 0,
                                                "entrypoint_resources": {CPU_SLOT_RESOURCE: 1}}
    neuron = [t for t in all_targets() if t.backend == "neuron"]
    assert neuron
    for target in neuron:
        asked = job_resources(target)
        assert asked["entrypoint_resources"] == {"neuron_cores": target.total_cores}


def test_entrypoint_is_quoted_and_carries_no_credential() -> None:
    job = AttemptJob(attempt_id=7, submission_id=3, target="cpu", token="pat_7_secret",
                     server_url="http://podium.internal:8000/a b", heartbeat_interval_s=5)
    line = entrypoint(["/opt/my podium/bin/podium"], job)
    assert shlex.split(line) == ["/opt/my podium/bin/podium", "execute", "3", "--server",
                                 "http://podium.internal:8000/a b", "--output", "podium-attempts/7"]
    assert "secret" not in line


def test_a_handle_of_the_other_executor_is_a_process_gone(tmp_path: Path) -> None:
    """After PODIUM_EXECUTOR changed, attempts started by the other executor are lost
    (queued again) rather than breaking every dispatcher tick."""
    from podium.platform.dispatch.executor import Status
    from podium.platform.dispatch.local import LocalExecutor
    from podium.platform.dispatch.ray_executor import RayExecutor

    ray = RayExecutor("http://127.0.0.1:9", client=object())  # never asked
    assert ray.status({"pid": 1, "start_time": 1, "log": "x"}) is Status.EXITED
    ray.cancel({"pid": 1})
    local = LocalExecutor(tmp_path)
    assert local.status({"ray_job": "podium-s1-a1-abc", "address": "http://h:8265"}) is Status.EXITED
    local.cancel({"ray_job": "podium-s1-a1-abc"})


def test_a_ray_server_error_is_ray_away_a_refusal_is_not() -> None:
    """submit_job answered 5xx (a head starting or unwell): the executor is away, the
    submission waits, nothing counted. 4xx (Ray refused this job): the attempt fails as
    before (queued again, counted as an attempt). Ray not answering at all is the first
    test on the real cluster."""
    from podium.platform.dispatch.executor import ExecutorUnavailable
    from podium.platform.dispatch.ray_executor import RayExecutor

    class Answering:
        def __init__(self, status: int) -> None:
            self.status = status

        def submit_job(self, **_: object) -> str:
            raise RuntimeError(f"Request failed with status code {self.status}: Internal error.")

    job = AttemptJob(attempt_id=1, submission_id=1, target="cpu", token="t", server_url="http://s",
                     heartbeat_interval_s=5)
    with pytest.raises(ExecutorUnavailable, match="could not take the job: .*status code 503"):
        RayExecutor("http://h:8265", client=Answering(503)).start(job)
    with pytest.raises(RuntimeError, match="status code 400") as refused:
        RayExecutor("http://h:8265", client=Answering(400)).start(job)
    assert not isinstance(refused.value, ExecutorUnavailable)


def test_while_ray_is_unreachable_a_job_keeps_its_last_known_status() -> None:
    """A job pending in Ray (no host free, so no heartbeat yet) stays pending while Ray
    does not answer, rather than being taken for running and then lost for its silence;
    a running job stays running (its heartbeats go to the server, not through Ray)."""
    from podium.platform.dispatch.executor import Status
    from podium.platform.dispatch.ray_executor import RayExecutor

    class Flaky:
        def __init__(self) -> None:
            self.answers: dict[str, str] = {}
            self.up = True

        def get_job_status(self, job_id: str) -> str:
            if not self.up:
                raise ConnectionError("Failed to connect to Ray")
            return self.answers[job_id]

    client = Flaky()
    ray = RayExecutor("http://h:8265", client=client)

    def ask(job: str) -> Status:
        ray._client = client  # the executor drops a client that could not connect; give it back
        return ray.status({"ray_job": job})

    client.answers = {"pending": "PENDING", "running": "RUNNING"}
    assert (ask("pending"), ask("running")) == (Status.PENDING, Status.RUNNING)
    client.up = False
    for _ in range(2):
        assert (ask("pending"), ask("running")) == (Status.PENDING, Status.RUNNING)
    client.up, client.answers["pending"] = True, "RUNNING"  # it started on a host meanwhile
    assert ask("pending") is Status.RUNNING
    client.up = False
    assert ask("pending") is Status.RUNNING
    client.up, client.answers["pending"] = True, "SUCCEEDED"
    assert ask("pending") is Status.EXITED


# -- a real Ray cluster -------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_off():
    """The module's cluster, its head not started yet (the first test starts it)."""
    c = RayCluster()
    try:
        yield c
    finally:
        nodes = list(c.nodes.values())
        c.stop()
        deadline = time.monotonic() + 15  # SIGKILLed by stop(): gone once the kernel has reaped them
        while (left := {p for n in nodes for p in n.tree if pid_alive(p)}) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"Ray processes left: {left}"


@pytest.fixture(scope="module")
def cluster(cluster_off: RayCluster) -> RayCluster:
    if not cluster_off.started:
        cluster_off.start_head()
    return cluster_off


@pytest.fixture
def ray_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster_off: RayCluster):
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    monkeypatch.delenv("PODIUM_EXECUTE_FAKE", raising=False)
    made: list[Server] = []

    def make(env: dict[str, str], challenge: Path | None = None, **dispatch: object) -> Server:
        # 15 s: long enough for a job's first heartbeat (imports, a loaded machine), short
        # enough for test 1 to wait past it with a pending job
        settings = {"heartbeat_timeout_s": 15.0, **dispatch}
        srv = start_server(tmp_path / "data", challenge or write_challenge(tmp_path / "challenges"),
                           executor="ray", ray_address=cluster_off.address, ray_command=PODIUM, ray_env=env, **settings)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def worker(cluster: RayCluster) -> str:
    """A worker node with one Podium CPU slot (the first test adds it, as the host that
    joins; a test run alone adds it here)."""
    if "worker-1" not in cluster.nodes:
        cluster.add_node("worker-1")
    return "worker-1"


def executor_up(srv: Server) -> float:
    """``podium_executor_up`` from the server's /metrics (an organiser's token)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from podium.platform.models import Role
    from podium.platform.users import service as users

    with srv.db.session() as session, session.begin():
        scraper = users.get_user(session=session, name="scraper") or users.create_user(
            session=session, name="scraper", role=Role.ORGANISER)
        token = users.create_token(session=session, user=scraper)
    r = httpx.get(f"{srv.dispatch.server_url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    [value] = [s.value for f in text_string_to_metric_families(r.text) for s in f.samples
               if s.name == "podium_executor_up"]
    return value


def ray_status(cluster: RayCluster, job_id: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return str(JobSubmissionClient(cluster.address).get_job_status(job_id).value)


def test_ray_away_then_pending_until_a_host_joins_then_scored(cluster_off: RayCluster, ray_server) -> None:
    from podium.platform.admin.service import overview

    cluster = cluster_off
    assert not cluster.started, "this test runs first in the module: Ray must be away at its start"
    srv = ray_server({"PODIUM_EXECUTE_FAKE": "slow:1"})
    sid = queue(srv)
    dispatcher = srv.app.state.dispatcher
    # Ray does not answer: three tries, no attempt made or counted, the submission queued
    away = wait_executor_away(srv, sid, failures=3)
    assert f"Ray does not answer at {cluster.address}" in away.reason
    with srv.db.session() as session:  # what the organisers' queue page shows
        seen = overview(session=session, settings=srv.dispatch, executor="ray", unavailable=dispatcher.unavailable)
    assert seen["executor_unavailable"]["failures"] >= 3 and "does not answer" in seen["executor_unavailable"]["reason"]
    assert seen["targets"] == [{"target": "cpu", "slots": 1, "running": 0, "queued": 1, "free": 1}]

    assert executor_up(srv) == 0

    cluster.start_head()  # Ray is back: the next try (within 30 s) submits the job
    deadline = time.monotonic() + 60
    while not ((atts := attempts(srv, sid)) and atts[0].handle) and time.monotonic() < deadline:
        time.sleep(0.2)
    [att] = atts
    job_id = att.handle["ray_job"]
    # no host has a slot: Ray keeps the job pending, past the heartbeat timeout (5 s)
    time.sleep(srv.dispatch.heartbeat_timeout_s + 3)
    assert ray_status(cluster, job_id) == "PENDING"
    sub = wait_for(srv, sid, lambda s: True)
    assert sub.state is State.QUEUED and sub.attempts == 1 and attempts(srv, sid)[0].finished_at is None
    assert dispatcher.unavailable is None
    with srv.db.session() as session:
        seen = overview(session=session, settings=srv.dispatch, executor="ray", unavailable=dispatcher.unavailable)
    assert seen["executor_unavailable"] is None and executor_up(srv) == 1
    assert [a["ray_job"] for a in seen["attempts"]] == [job_id]
    assert seen["targets"] == [{"target": "cpu", "slots": 1, "running": 1, "queued": 0, "free": 0}]

    cluster.add_node("worker-1")
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=90)
    assert sub.state is State.SCORED and sub.score_public == 0.5 and sub.attempts == 1
    [att] = attempts(srv, sid)
    assert att.outcome == "scored" and att.executor == "ray"
    deadline = time.monotonic() + 30
    while ray_status(cluster, job_id) != "SUCCEEDED" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ray_status(cluster, job_id) == "SUCCEEDED"
    # the job's own log, through Ray, for organisers only
    import httpx

    from podium.platform.models import Role
    from podium.platform.users import service as users

    with srv.db.session() as session, session.begin():
        olga = users.create_token(session=session, user=users.create_user(session=session, name="olga", role=Role.ORGANISER))
        ada = users.create_token(session=session, user=users.get_user(session=session, name="user-a"))
    url = f"{srv.dispatch.server_url}/api/admin/attempts/{att.id}/executor-log"
    r = httpx.get(url, headers={"Authorization": f"Bearer {olga}"})
    assert r.status_code == 200 and f"execute {sid} --server" in r.text, r.text
    assert httpx.get(url, headers={"Authorization": f"Bearer {ada}"}).status_code == 403


def node_processes_matching(cluster: RayCluster, name: str, needle: str) -> list[int]:
    node = cluster.nodes[name]
    found = []
    for pid in {node.proc.pid, *descendants(node.proc.pid)}:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if needle in cmd:
            found.append(pid)
    return found


def test_cancel_stops_the_job_and_its_engine_on_the_host(cluster: RayCluster, worker: str, ray_server) -> None:
    import httpx

    from podium.platform.users import service as users

    srv = ray_server({"PODIUM_EXECUTE_FAKE": "hang"})
    with srv.db.session() as session, session.begin():
        token = users.create_token(session=session, user=users.get_user(session=session, name="user-a"))
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.STARTING, timeout=60)
    deadline = time.monotonic() + 20
    while not (engine := node_processes_matching(cluster, worker, "SIG_IGN")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert engine, "the stand-in engine never started on the host"
    execute = node_processes_matching(cluster, worker, "podium.cli.main")
    assert execute
    [att] = attempts(srv, sid)
    r = httpx.post(f"{srv.dispatch.server_url}/api/submissions/{sid}/cancel",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    deadline = time.monotonic() + 30
    while any(pid_alive(p) for p in [*engine, *execute]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(pid_alive(p) for p in [*engine, *execute]), "processes left on the host after cancel"
    assert ray_status(cluster, att.handle["ray_job"]) == "STOPPED"
    assert attempts(srv, sid)[0].outcome == "cancelled"


def test_restart_reattaches_the_running_ray_job(cluster: RayCluster, worker: str, ray_server) -> None:
    srv = ray_server({"PODIUM_EXECUTE_FAKE": "slow:12"})
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.EVALUATING, timeout=60)
    srv.stop()
    time.sleep(2)
    srv.start()
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=60)
    assert sub.state is State.SCORED
    assert_scored_once(srv, sid, ["scored"])


def test_restart_queues_again_a_job_ray_does_not_know(cluster: RayCluster, worker: str, ray_server) -> None:
    from ray.job_submission import JobSubmissionClient

    from podium.platform.models import SubmissionAttempt

    srv = ray_server({"PODIUM_EXECUTE_FAKE": "hang"})
    sid = queue(srv)
    wait_for(srv, sid, lambda s: s.state is State.STARTING, timeout=60)
    srv.stop()
    [att] = attempts(srv, sid)
    JobSubmissionClient(cluster.address).stop_job(att.handle["ray_job"])
    with srv.db.session() as session, session.begin():  # e.g. the Ray cluster was rebuilt
        session.get(SubmissionAttempt, att.id).handle = {**att.handle, "ray_job": "podium-unknown-job"}
    srv.dispatch.ray_env = {"PODIUM_EXECUTE_FAKE": "slow:1"}
    srv.start()
    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=90)
    assert sub.state is State.SCORED and not sub.platform_fault
    assert_scored_once(srv, sid, ["lost", "scored"])
    assert quota_used(srv) == 1
    with srv.db.session() as session:
        details = [e.detail or "" for e in session.get(Submission, sid).events]
    assert any("Ray no longer knows the job" in d for d in details), details


def engine_processes(cluster: RayCluster) -> list[int]:
    """vLLM's API server and its engine core, on any node of the cluster."""
    return [p for name in cluster.nodes for needle in ("vllm.entrypoints", "VLLM::")
            for p in node_processes_matching(cluster, name, needle)]


@pytest.mark.engine
def test_host_lost_mid_evaluation_is_finished_on_another_host(
    cluster: RayCluster, worker: str, ray_server, demo_hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real pipeline and vLLM: the host running the submission dies mid-evaluation; the
    attempt is lost (a platform fault, not counted), the submission queued again and
    scored on another host, once."""
    import httpx
    from huggingface_hub import constants
    from ray.job_submission import JobSubmissionClient

    from podium.evaluate import demo_challenge_path
    from podium.localdata.demo_models import SMOLLM2_REPO
    from podium.platform.users import service as users

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(demo_hub))  # admission resolves here
    monkeypatch.setenv("HF_HUB_CACHE", str(demo_hub))
    jobs_env = {"HF_HUB_CACHE": str(demo_hub), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf-home")}
    srv = ray_server(jobs_env, challenge=demo_challenge_path(), heartbeat_timeout_s=120.0)
    with srv.db.session() as session, session.begin():
        token = users.create_token(session=session, user=users.get_user(session=session, name="user-a"))
    body = {"hf_repo": SMOLLM2_REPO, "hf_repo_tag": "v1", "neuron.model_type": "llama",
            "vllm.enforce_eager": "true", "vllm.dtype": "float32"}
    r = httpx.post(f"{srv.dispatch.server_url}/api/challenges/demo/submissions", json=body,
                   headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])

    wait_for(srv, sid, lambda s: s.state is State.EVALUATING and (s.progress_done or 0) > 0, timeout=400)
    engines = engine_processes(cluster)
    assert engines, "no vLLM process found under the Ray node running the job"
    [first] = attempts(srv, sid)
    killed = cluster.kill(worker)  # the host is lost: every process on it dies
    assert set(engines) <= killed
    cluster.add_node("worker-2")

    sub = wait_for(srv, sid, lambda s: s.state.is_final, timeout=600)
    assert sub.state is State.SCORED, (sub.state, sub.error_code, sub.error_message)
    assert sub.score_public is not None and sub.score_public > 0.25
    assert sub.attempts == 2 and not sub.platform_fault and sub.error_code is None
    first, second = attempts(srv, sid)
    assert (first.outcome, second.outcome) == ("lost", "scored")
    ray = JobSubmissionClient(cluster.address)
    assert ray.get_job_status(first.handle["ray_job"]).value == "FAILED"
    assert "node" in (ray.get_job_info(first.handle["ray_job"]).message or "")
    assert ray.get_job_info(first.handle["ray_job"]).driver_node_id == cluster.nodes[worker].node_id
    assert ray.get_job_info(second.handle["ray_job"]).driver_node_id == cluster.nodes["worker-2"].node_id
    with srv.db.session() as session:
        events = session.get(type(sub), sid).events
        assert [e.state for e in events].count(State.SCORED) == 1
        [lost] = [e.detail for e in events if "worker lost" in (e.detail or "")]
        assert "Ray job FAILED" in lost and "node" in lost and "died" in lost, lost
    assert not [p for p in killed if pid_alive(p)]
    deadline = time.monotonic() + 30
    while engine_processes(cluster) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not engine_processes(cluster), "a vLLM process outlived its job"
