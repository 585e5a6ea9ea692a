"""The real engine: vLLM (CPU build) serving the converted SmolLM2 demo model.

One shared server for the session (``engine_server``); one extra short-lived start for
the failure case, which fails in argument parsing, before any model loads."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from podium.engine import EngineServer
from podium.engine.process import pid_alive
from podium.engine.readiness import served_models
from podium.errors import Code, EngineError

from .conftest import SERVED_NAME, engine_python, vllm_plan

pytestmark = pytest.mark.engine


def chat(base_url: str, question: str) -> str:
    body = {
        "model": SERVED_NAME,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": 32,
        "temperature": 0,
    }
    req = urllib.request.Request(
        f"{base_url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)["choices"][0]["message"]["content"]


def test_serves_the_demo_model(engine_server: EngineServer) -> None:
    assert served_models(engine_server.base_url) == [SERVED_NAME]
    assert "Paris" in chat(engine_server.base_url, "What is the capital of France?")
    engine_server.check_alive()


def test_the_tree_has_the_engine_core(engine_server: EngineServer) -> None:
    tree = engine_server.process_tree()
    assert engine_server.pid in tree and len(tree) >= 2  # API server + engine core (+ worker)


def test_invalid_option_fails_to_start(demo_model: Path, tmp_path: Path) -> None:
    server = EngineServer(
        vllm_plan(demo_model, "--dtype", "float64"),
        log_path=tmp_path / "serve.log",
        engine_python=engine_python(),
        startup_timeout=300,
    )
    with pytest.raises(EngineError) as info:
        server.start()
    err = info.value
    assert err.code == Code.ENGINE_START_FAILED
    assert "error: argument --dtype: invalid choice: 'float64'" in err.message
    assert "exited with code 2" in err.message
    assert not pid_alive(server.pid)


def test_zz_stop_leaves_no_process(engine_server: EngineServer) -> None:
    """Runs last in this module: stops the shared server (the fixture's stop is then a no-op)."""
    tree = engine_server.process_tree()
    engine_server.stop()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in tree):
        time.sleep(0.1)
    assert [p for p in tree if pid_alive(p)] == []
