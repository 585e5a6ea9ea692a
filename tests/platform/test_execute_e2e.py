"""A real submission end to end: a real ``podium server`` process (uvicorn on
127.0.0.1), admission, the dispatcher and the local executor, ``podium execute`` with the
real pipeline and a real vLLM serving the demo model on the demo challenge, to
``scored`` and onto the leaderboard; then the participant's log has no hidden-split
material and no process is left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from podium.engine.process import free_port
from podium.localdata.demo_models import SMOLLM2_REPO

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("hub") / "hub"
    code = f"from podium.localdata.demo_models import prepare; prepare(cache_dir={str(cache)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=900)
    return cache


def podium(*args: str) -> list[str]:
    return [sys.executable, "-m", "podium.cli.main", *args]


def test_real_submission_is_scored_and_ranked(hub: Path, tmp_path: Path) -> None:
    from podium.evaluate import demo_challenge_path

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    env = {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1", "PODIUM_DATA_DIR": str(data),
           "PODIUM_SECRET_KEY": "k" * 40, "PODIUM_SERVER_URL": url, "PODIUM_HEARTBEAT_TIMEOUT_S": "120"}
    env.pop("PODIUM_DATABASE_URL", None)
    env.pop("PODIUM_EXECUTE_FAKE", None)
    run = lambda *a: subprocess.run(podium(*a), env=env, check=True, capture_output=True, text=True)  # noqa: E731
    run("admin", "create-user", "alice")
    token = run("admin", "create-token", "alice").stdout.strip()
    run("admin", "add-challenge", str(demo_challenge_path()))
    server = subprocess.Popen(podium("server", "--port", str(port)), env=env,
                              stdout=open(tmp_path / "server.log", "wb"), stderr=subprocess.STDOUT)
    h = {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        body = {"hf_repo": SMOLLM2_REPO, "hf_repo_tag": "v1", "neuron.model_type": "llama", "vllm.enforce_eager": "true"}
        r = httpx.post(f"{url}/api/challenges/demo/submissions", json=body, headers=h, timeout=120)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        seen: set[str] = set()
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            sub = httpx.get(f"{url}/api/submissions/{sid}", headers=h).json()
            seen.add(sub["state"])
            if sub["state"] in ("scored", "failed", "cancelled"):
                break
            time.sleep(1)
        assert sub["state"] == "scored", (sub, (tmp_path / "server.log").read_text()[-3000:])
        assert {"resolving", "starting", "evaluating"} <= {e["state"] for e in sub["events"]}
        assert sub["attempts"] == 1 and sub["score"] is not None and sub["score"] > 0.2
        board = httpx.get(f"{url}/api/challenges/demo/leaderboard").json()
        assert sid in [row["submission_id"] for row in board["rows"]]
        logs = httpx.get(f"{url}/api/submissions/{sid}/logs", headers=h).json()
        assert "[serve]" in logs["text"] and "[evaluate]" in logs["text"]
        assert '"split": "private"' not in logs["text"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    from podium.engine.process import descendants

    assert not descendants(server.pid)
