"""Engine fixtures: the demo model (converted once, cached outside the repository), one
real vLLM server per test session, and plans for a fake server that needs no model.

Environment:
  PODIUM_ENGINE_PYTHON   the Python that has vLLM (default: the one running pytest)
  PODIUM_CACHE_DIR       the converted SmolLM2 lives in its demo/ folder (default ~/.cache/podium)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.engine import EngineServer
from podium.engine.server import _module_importable
from podium.localdata.demo_models import work_dir
from podium.plan.types import LaunchPlan

HERE = Path(__file__).parent
FAKE_SERVER = HERE / "fake_server.py"
SRC = Path(__file__).resolve().parents[2] / "src"
SERVED_NAME = "podium-demo/smollm2-135m-instruct"


def engine_python() -> str:
    return os.environ.get("PODIUM_ENGINE_PYTHON", sys.executable)


def make_plan(argv: list[str], env: dict[str, str] | None = None, **kw: object) -> LaunchPlan:
    fields: dict[str, object] = {
        "target": "cpu",
        "backend": "cpu",
        "argv": tuple(argv),
        "env": env or {},
        "served_model_name": SERVED_NAME,
        "model_path": "/nonexistent",
        "engine_version": "test",
    }
    fields.update(kw)
    return LaunchPlan(**fields)  # type: ignore[arg-type]


def fake_plan(mode: str, **kw: object) -> LaunchPlan:
    argv = [str(FAKE_SERVER), "--model", "fake", "--served-model-name", SERVED_NAME]
    return make_plan(argv, {"FAKE_ENGINE_MODE": mode}, **kw)


def vllm_plan(model_dir: str | Path, *extra: str) -> LaunchPlan:
    """The argv the CPU planner makes for the demo model, with the smallest KV cache."""
    argv = [
        "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir),
        "--served-model-name", SERVED_NAME,
        "--max-model-len", "2048",
        "--max-num-seqs", "8",
        "--enforce-eager",
        *extra,
    ]  # fmt: skip
    return make_plan(argv, {"VLLM_CPU_KVCACHE_SPACE": "1"}, model_path=str(model_dir))


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """SmolLM2-135M-Instruct as safetensors, converted once and reused across runs.

    The conversion runs in the engine Python (it has transformers, gguf, accelerate),
    in a child process so that torch never loads into the test process."""
    ok, why = _module_importable(engine_python(), "vllm")
    if not ok:  # a broken setup, not a reason to skip
        pytest.fail(
            f"vLLM is not importable by {engine_python()} ({why}): run 'make setup', or "
            "deselect the real-engine tests with -m 'not engine'"
        )
    out = work_dir() / "smollm2-135m-instruct"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [engine_python(), "-m", "podium.localdata.smollm2", str(out)],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"demo model conversion failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def engine_server(
    demo_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineServer]:
    """One real vLLM server for the whole session (about 30-70 s to start on 2 cores)."""
    log = tmp_path_factory.mktemp("engine") / "serve.log"
    server = EngineServer(
        vllm_plan(demo_model), log_path=log, engine_python=engine_python(), startup_timeout=600
    )
    with server:
        yield server
