"""Real submissions end to end: a real ``podium server`` process (uvicorn on 127.0.0.1),
admission, the dispatcher and the local executor, ``podium execute`` with the real
pipeline and a real vLLM serving the demo model on the demo challenge.

One server process for the module (two vLLM starts in all), the tests in this order:

1. the engine is killed mid-evaluation: the submission fails ENGINE_CRASHED, nothing is
   left running, the slot is freed;
2. a submission on the same target is then scored and ranked, the participant's log has
   no hidden-split material, and no process is left when the server stops.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from podium.engine.process import descendants, free_port, pid_alive
from podium.localdata.demo_models import SMOLLM2_REPO

pytestmark = pytest.mark.engine

BODY = {"hf_repo": SMOLLM2_REPO, "hf_repo_tag": "v1", "neuron.model_type": "llama", "vllm.enforce_eager": "true"}
FINAL = ("scored", "failed", "cancelled")


@pytest.fixture(scope="module")
def hub(demo_hub: Path) -> Path:
    """The session's demo-model Hub cache (tests/conftest.py)."""
    return demo_hub


def podium(*args: str) -> list[str]:
    return [sys.executable, "-m", "podium.cli.main", *args]


@dataclass
class Live:
    """The module's ``podium server`` process and alice's API credential."""

    url: str
    headers: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    def submit(self) -> int:
        r = httpx.post(f"{self.url}/api/challenges/demo/submissions", json=BODY, headers=self.headers, timeout=120)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def get(self, sid: int) -> dict:
        return httpx.get(f"{self.url}/api/submissions/{sid}", headers=self.headers, timeout=30).json()

    def wait(self, sid: int, pred, timeout: float, poll: float = 1.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sub = self.get(sid)
            if pred(sub):
                return sub
            time.sleep(poll)
        raise AssertionError(f"submission {sid} stuck: {sub}\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def live(hub: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = root / "data"
    env = {**os.environ, "HF_HOME": str(root / "hf-home"), "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1",
           "PODIUM_DATA_DIR": str(data), "PODIUM_SECRET_KEY": "k" * 40, "PODIUM_SERVER_URL": url,
           "PODIUM_HEARTBEAT_INTERVAL_S": "1", "PODIUM_HEARTBEAT_TIMEOUT_S": "120"}
    for var in ("PODIUM_DATABASE_URL", "PODIUM_EXECUTE_FAKE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT"):
        env.pop(var, None)
    run = lambda *a: subprocess.run(podium(*a), env=env, check=True, capture_output=True, text=True)  # noqa: E731
    run("admin", "create-user", "alice")
    token = run("admin", "create-token", "alice").stdout.strip()
    from podium.evaluate import demo_challenge_path

    run("admin", "add-challenge", str(demo_challenge_path()))
    log = root / "server.log"
    server = subprocess.Popen(podium("server", "--port", str(port)), env=env,
                              stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        yield Live(url, {"Authorization": f"Bearer {token}"}, server, log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not descendants(server.pid)


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_engine_killed_mid_evaluation_is_engine_crashed(live: Live) -> None:
    """SIGKILL the vLLM tree (every descendant of the ``podium execute`` process) while
    the requests run: the submission fails ENGINE_CRASHED with a message and a hint, and
    counts against the quota (ENGINE_CRASHED is not one of execute's PLATFORM_CODES: an
    engine that dies serving the participant's model and settings, most often out of
    memory, is the submission's failure); it is not run again; the execute process and
    the engine tree are gone and the engine's port is closed. The next test, a scored
    submission on the same target and server, shows the slot is usable again."""
    from podium.cli.execute import PLATFORM_CODES

    sid = live.submit()
    # mid-evaluation: the client has started its requests (progress 0 of N is reported first)
    sub = live.wait(sid, lambda s: s["state"] in FINAL or (s["state"] == "evaluating" and s["progress"]),
                    timeout=900, poll=0.2)
    assert sub["state"] == "evaluating", sub
    assert sub["progress"]["done"] < sub["progress"]["total"]
    [worker] = [p for p in descendants(live.proc.pid) if "execute" in cmdline(p)]
    engine = descendants(worker)
    assert engine, "no engine process under the execute process"
    [port] = {int(a[a.index("--port") + 1]) for a in map(cmdline, engine) if "--port" in a}
    assert port_open(port)
    time.sleep(1.0)  # requests in flight
    for pid in engine:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    sub = live.wait(sid, lambda s: s["state"] in FINAL, timeout=180)
    err = sub["error"]
    assert sub["state"] == "failed" and err["code"] == "ENGINE_CRASHED", sub
    assert "the engine stopped while serving (exit code -9)" in err["message"]
    assert "SIGKILL" in err["hint"]
    assert "ENGINE_CRASHED" not in PLATFORM_CODES and sub["counted_against_quota"] is True
    assert sub["attempts"] == 1
    states = [e["state"] for e in sub["events"]]
    assert states[-2:] == ["evaluating", "failed"] and states.count("queued") == 1

    deadline = time.monotonic() + 30
    while (pid_alive(worker) or any(map(pid_alive, engine))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pid_alive(worker), "the execute process is still running"
    assert not descendants(worker) and not any(map(pid_alive, engine)), "engine processes left behind"
    assert not port_open(port), f"the engine's port {port} is still open"


def test_real_submission_is_scored_and_ranked(live: Live) -> None:
    sid = live.submit()
    sub = live.wait(sid, lambda s: s["state"] in FINAL, timeout=900)
    assert sub["state"] == "scored", (sub, live.log.read_text()[-3000:])
    assert {"resolving", "starting", "evaluating"} <= {e["state"] for e in sub["events"]}
    assert sub["attempts"] == 1 and sub["score"] is not None and sub["score"] > 0.2
    board = httpx.get(f"{live.url}/api/challenges/demo/leaderboard").json()
    assert sid in [row["submission_id"] for row in board["rows"]]
    logs = httpx.get(f"{live.url}/api/submissions/{sid}/logs", headers=live.headers).json()
    assert "[serve]" in logs["text"] and "[evaluate]" in logs["text"]
    assert '"split": "private"' not in logs["text"]
