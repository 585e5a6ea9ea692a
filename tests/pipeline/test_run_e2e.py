"""`podium run` end to end, as a participant runs it: a real vLLM server serves the demo
model from a local Hub cache, the demo challenge scores it, and nothing is left running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.engine.process import descendants, pid_alive
from podium.localdata.demo_models import SMOLLM2_REPO, TINY_QWEN3_REPO

pytestmark = pytest.mark.engine

DEMO_ARGS = ["--hf-repo-tag", "v1", "--challenge", "demo", "--vllm.enforce-eager"]  # a shipped challenge, by name


@pytest.fixture(scope="module")
def hub(demo_hub: Path) -> Path:
    """The session's demo-model Hub cache (tests/conftest.py)."""
    return demo_hub


def podium_env(hub: Path) -> dict[str, str]:
    return {**os.environ, "HF_HUB_CACHE": str(hub), "HF_HUB_OFFLINE": "1"}


def podium(*args: str) -> list[str]:
    return [sys.executable, "-m", "podium.cli.main", *args]


def demo_challenge() -> str:
    from podium.evaluate import demo_challenge_path

    return str(demo_challenge_path())


def test_run_scores_the_demo_model(hub: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = podium("run", "--hf-repo", SMOLLM2_REPO, "--neuron.model-type", "llama", *DEMO_ARGS, "--output", str(out), "--json")
    done = subprocess.run(argv, env=podium_env(hub), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout)
    assert data["ok"] and data["error"] is None
    report = data["report"]
    # a real model gets a real, non-trivial score on both splits
    assert report["primary_metric"] == "accuracy"
    assert 0.25 <= report["primary_value"] <= 1.0, report["primary_by_split"]
    assert report["primary_by_split"]["private"] > 0.2
    rq = report["requests"]
    assert rq["requests"] == 107 and rq["errors"] <= 2
    assert rq["output_tokens"] > 300 and rq["ttft_s"]["p50"] > 0
    assert rq["max_in_flight"] > 1, "requests ran concurrently"
    # the pinned commit and the plan are recorded
    check = data["check"]
    assert len(check["model"]["snapshot"]["commit"]) == 40
    assert "--enforce-eager" in check["plan"]["argv"]
    for name in ("check.json", "report.json", "samples.jsonl", "serve.log", "run.json"):
        assert (out / name).is_file(), name
    assert set(data["stage_seconds"]) >= {"check", "serve", "evaluate", "stop", "report"}
    # the engine is gone: no process serves this model any more
    assert not _engine_processes(hub)


def test_rejected_run_starts_nothing(hub: Path, tmp_path: Path) -> None:
    argv = podium("run", "--hf-repo", SMOLLM2_REPO, "--target", "trn1.2xlarge", "--challenge", demo_challenge(), "--output", str(tmp_path), "--json")
    t0 = time.monotonic()
    done = subprocess.run(argv, env=podium_env(hub), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [f["code"] for f in data["check"]["findings"] if f["severity"] == "error"] == ["MODEL_TYPE_MISMATCH"]
    assert data["report"] is None and "serve" not in data["stage_seconds"]
    assert time.monotonic() - t0 < 30


def test_ctrl_c_while_starting_leaves_no_process(hub: Path, tmp_path: Path) -> None:
    argv = podium("run", "--hf-repo", TINY_QWEN3_REPO, "--neuron.model-type", "qwen3", "--hf-repo-tag", "v1", "--vllm.enforce-eager", "--challenge", demo_challenge(), "--output", str(tmp_path))
    proc = subprocess.Popen(argv, env=podium_env(hub), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        tree: set[int] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(tree) < 2:  # podium run + vLLM started
            tree |= set(descendants(proc.pid))
            time.sleep(0.5)
        assert tree, "vLLM never started"
        time.sleep(3)
        tree |= set(descendants(proc.pid))
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(pid_alive(p) for p in tree):
        time.sleep(0.2)
    assert not [p for p in tree if pid_alive(p)], "processes left behind after Ctrl-C"


def _engine_processes(hub: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(hub) in cmd and "vllm" in cmd:
            found.append(int(entry.name))
    return found
