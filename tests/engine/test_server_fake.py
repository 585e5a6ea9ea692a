"""EngineServer against a fake server: readiness, failures, process-tree cleanup.
No vLLM and no model needed; each test takes about a second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.engine import EngineServer
from podium.engine import server as server_mod
from podium.engine.process import pid_alive
from podium.engine.readiness import served_models
from podium.errors import Code, EngineError

from .conftest import SERVED_NAME, fake_plan


def fake(mode: str, tmp_path: Path, **kw: object) -> EngineServer:
    opts: dict[str, object] = {
        "log_path": tmp_path / "serve.log",
        "engine_python": sys.executable,
        "require_module": None,
        "startup_timeout": 20,
        "stop_grace": 5,
    }
    opts.update(kw)
    plan_kw = {k: opts.pop(k) for k in ("compiled_artifacts_dir",) if k in opts}
    return EngineServer(fake_plan(mode, **plan_kw), **opts)  # type: ignore[arg-type]


def assert_all_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    assert [p for p in pids if pid_alive(p)] == []


def test_ready_then_stop_kills_the_whole_tree(tmp_path: Path) -> None:
    with fake("ready", tmp_path) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert served_models(server.base_url) == [SERVED_NAME]
        assert server.ready_seconds is not None
        time.sleep(0.3)  # let the children start
        tree = server.process_tree()
        assert server.pid in tree and len(tree) == 3  # server + 2 children
        server.check_alive()
    assert_all_gone(tree)
    assert "fake engine: listening" in server.log_path.read_text()


def test_start_failure_carries_the_engine_error_line(tmp_path: Path) -> None:
    server = fake("fail", tmp_path)
    with pytest.raises(EngineError) as info:
        server.start()
    err = info.value
    assert err.code == Code.ENGINE_START_FAILED
    assert "exited with code 2" in err.message
    assert "ValueError: fake engine refuses --fake-option" in err.message
    assert err.details["exit_code"] == 2
    assert err.details["log_path"] == str(tmp_path / "serve.log")


def test_never_ready_times_out_and_leaves_nothing(tmp_path: Path) -> None:
    server = fake("hang", tmp_path, startup_timeout=2)
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        server.start()
    assert info.value.code == Code.ENGINE_TIMEOUT
    assert "not ready after 2 s" in info.value.message
    assert "fake engine: listening" in info.value.message  # the last log lines
    assert time.monotonic() - started < 10
    assert_all_gone([server.pid])


def test_death_after_ready_is_a_crash(tmp_path: Path) -> None:
    with fake("ready", tmp_path) as server:
        os.kill(server.pid, signal.SIGKILL)
        server._proc.wait(timeout=5)
        with pytest.raises(EngineError) as info:
            server.check_alive()
        assert info.value.code == Code.ENGINE_CRASHED
        assert "exit code -9" in info.value.message
        assert "out-of-memory" in info.value.hint
        tree = server.process_tree()
    assert_all_gone(tree)  # the orphaned children too


def test_keyboard_interrupt_during_start_stops_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    def interrupted(*args: object, **kw: object) -> None:
        time.sleep(1.0)
        seen.extend(server.process_tree())
        raise KeyboardInterrupt

    monkeypatch.setattr(server_mod, "wait_ready", interrupted)
    server = fake("ready", tmp_path)
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert server.pid in seen
    assert_all_gone(seen)


def test_engine_not_installed(tmp_path: Path) -> None:
    for python, module in (("/nonexistent/bin/python", "vllm"), (sys.executable, "no_such_mod_x")):
        server = fake("ready", tmp_path, engine_python=python, require_module=module)
        with pytest.raises(EngineError) as info:
            server.start()
        assert info.value.code == Code.ENGINE_NOT_INSTALLED
        assert server.pid is None  # nothing was started


def test_plan_must_not_carry_host_or_port() -> None:
    plan = fake_plan("ready")
    bad = plan.__class__(**{**plan.__dict__, "argv": (*plan.argv, "--port", "1")})
    with pytest.raises(ValueError):
        EngineServer(bad)


def test_neuron_artifacts_committed_after_ready(tmp_path: Path) -> None:
    final = tmp_path / "neuron" / "key123"
    with fake("ready", tmp_path, compiled_artifacts_dir=str(final)) as server:
        assert server.artifacts is not None and not server.artifacts.hit
        assert (final / "model.neff").is_file()
    assert sorted(p.name for p in final.parent.iterdir()) == ["key123"]
    with fake("ready", tmp_path, compiled_artifacts_dir=str(final)) as again:
        assert again.artifacts is not None and again.artifacts.hit
        assert again.artifacts.server_dir == final


def test_neuron_artifacts_removed_after_failed_start(tmp_path: Path) -> None:
    final = tmp_path / "neuron" / "key456"
    with pytest.raises(EngineError):
        fake("fail", tmp_path, compiled_artifacts_dir=str(final)).start()
    assert list(final.parent.iterdir()) == []


def test_engine_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A `podium execute` (here: a stand-in parent) SIGKILLed while its engine runs: the
    kernel sends the engine SIGTERM (no orphan holds the port, the cores, the memory)."""
    parent_code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from podium.engine.process import spawn\n"
        "child = spawn([sys.executable, '-c', 'import time; time.sleep(600)'], {}, Path(sys.argv[1]))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code, str(tmp_path / "engine.log")],
                              stdout=subprocess.PIPE, text=True)
    try:
        engine = int(parent.stdout.readline())
        time.sleep(0.5)  # the launcher has exec'd the engine's program
        assert pid_alive(engine)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert_all_gone([engine])
    finally:
        parent.kill()
        parent.wait(timeout=10)
