"""Start, watch and stop a vLLM OpenAI-compatible server from a ``LaunchPlan``.

    with EngineServer(plan, log_path=run_dir / "serve.log") as server:
        client = AsyncClient(base_url=server.base_url)
        ...
        server.check_alive()        # raises ENGINE_CRASHED if the engine died

The server runs as a child process in the engine's Python environment, in its own
process group; leaving the ``with`` block (success, error, timeout, Ctrl-C) stops the
whole tree (API server, engine core, workers). Every failure is an ``EngineError``:

* ``ENGINE_NOT_INSTALLED``: the engine Python cannot import vllm.
* ``ENGINE_START_FAILED``: the process exited before it was ready. Example message:
  ``the engine exited with code 1 before it was ready: ValueError: The model's max seq
  len (100000) is larger than the maximum number of tokens that can be stored in KV
  cache``.
* ``ENGINE_TIMEOUT``: not ready after the startup timeout.
* ``ENGINE_CRASHED``: it died after it was ready (``check_alive``).
"""

from __future__ import annotations

import atexit
import functools
import os
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

from podium.engine import logs
from podium.engine.neuron_artifacts import ENV_VAR as NEURON_ARTIFACTS_ENV
from podium.engine.neuron_artifacts import ArtifactSlot
from podium.engine.process import descendants, free_port, kill_tree, pid_alive, spawn
from podium.engine.readiness import Outcome, wait_ready
from podium.errors import Code, EngineError
from podium.plan.types import LaunchPlan

DEFAULT_STARTUP_TIMEOUT_S = 600.0
LOG_TAIL_LINES = 30
# vLLM prints the root cause, then the worker's and the engine core's tracebacks and the
# wrappers: look this far back for the error line.
ERROR_SCAN_LINES = 400

_live: weakref.WeakSet[EngineServer] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:  # a backstop: the context manager is the normal path
    for server in list(_live):
        server.stop()


@functools.lru_cache(maxsize=16)
def _module_importable(python: str, module: str) -> tuple[bool, str]:
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
    try:
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode == 0:
        return True, ""
    return False, (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]


def check_engine_installed(python: str, module: str = "vllm") -> None:
    """Raise ENGINE_NOT_INSTALLED unless ``python`` can import ``module`` (no import is
    run: the module is only looked up, which takes a fraction of a second)."""
    ok, why = _module_importable(python, module)
    if not ok:
        raise EngineError(
            f"the engine environment {python} cannot import {module}"
            + (f" ({why})" if why else ""),
            "install the engine (scripts/setup-env.sh VENV) or point the worker's engine "
            "Python at an environment that has vLLM",
            code=Code.ENGINE_NOT_INSTALLED,
            details={"python": python, "module": module},
        )


class EngineServer:
    """One running vLLM server for one ``LaunchPlan``. A context manager."""

    def __init__(
        self,
        plan: LaunchPlan,
        *,
        log_path: str | os.PathLike[str] | None = None,
        engine_python: str | None = None,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
        host: str = "127.0.0.1",
        port: int | None = None,
        stop_grace: float = 15.0,
        require_module: str | None = "vllm",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        if any(
            a in ("--host", "--port") or a.startswith(("--host=", "--port=")) for a in plan.argv
        ):
            raise ValueError("plan.argv must not set --host/--port: the engine layer does")
        self.plan = plan
        self.engine_python = engine_python or sys.executable
        self.startup_timeout = startup_timeout
        self.host = host
        self.port = port
        self.stop_grace = stop_grace
        self.require_module = require_module
        self.extra_env = dict(extra_env or {})
        if log_path is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            log_path = (
                Path(os.environ.get("TMPDIR", "/tmp"))
                / "podium-logs"
                / (f"serve-{plan.plan_hash()}-{stamp}-{os.getpid()}.log")
            )
        self.log_path = Path(log_path)
        self.ready_seconds: float | None = None
        self.artifacts: ArtifactSlot | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tree: set[int] = set()

    # -- state --------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server has not been started")
        return f"http://{self.host}:{self.port}"

    @property
    def served_model_name(self) -> str:
        return self.plan.served_model_name

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def process_tree(self) -> list[int]:
        """The pids of the server and every process it started that is still alive."""
        if self._proc is None:
            return []
        self._tree.update([self._proc.pid, *descendants(self._proc.pid)])
        return sorted(p for p in self._tree if pid_alive(p))

    def command(self) -> list[str]:
        return [self.engine_python, *self.plan.argv, "--host", self.host, "--port", str(self.port)]

    # -- lifecycle ----------------------------------------------------------------
    def __enter__(self) -> EngineServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> EngineServer:
        """Start the process and wait until it serves the plan's model name."""
        if self._proc is not None:
            raise RuntimeError("EngineServer.start() called twice")
        if self.require_module:
            check_engine_installed(self.engine_python, self.require_module)
        if self.port is None:
            self.port = free_port(self.host)
        env = {**os.environ, **self.plan.env, **self.extra_env}
        if self.plan.compiled_artifacts_dir:
            self.artifacts = ArtifactSlot.open(self.plan.compiled_artifacts_dir)
            env[NEURON_ARTIFACTS_ENV] = str(self.artifacts.server_dir)
        try:
            self._proc = spawn(self.command(), env, self.log_path)
            _live.add(self)
            result = wait_ready(
                self.base_url, self.served_model_name, lambda: self.running, self.startup_timeout
            )
            self.process_tree()  # remember the children while they can still be found
            if result.outcome is Outcome.EXITED:
                raise self._start_failed()
            if result.outcome is Outcome.TIMEOUT:
                raise self._timed_out(result.seconds, result.last_status)
            self.ready_seconds = result.seconds
            if self.artifacts is not None:
                self.artifacts.commit()
        except BaseException:  # including KeyboardInterrupt: leave nothing behind
            self.stop()
            if self.artifacts is not None:
                self.artifacts.discard()
            raise
        return self

    def check_alive(self) -> None:
        """Raise ENGINE_CRASHED if the server died after it became ready."""
        if self._proc is None or self._proc.poll() is None:
            return
        lines = logs.tail(self.log_path, LOG_TAIL_LINES)
        line = logs.error_line(logs.tail(self.log_path, ERROR_SCAN_LINES))
        code = self._proc.returncode
        raise EngineError(
            f"the engine stopped while serving (exit code {code})" + (f": {line}" if line else ""),
            logs.hint_for(line, code),
            code=Code.ENGINE_CRASHED,
            details=self._details(lines, line),
        )

    def stop(self) -> None:
        """Stop the whole process tree. Idempotent."""
        _live.discard(self)
        if self._proc is None:
            return
        self.process_tree()
        self._tree.update(kill_tree(self._proc, self.stop_grace, known=self._tree))

    # -- failures -----------------------------------------------------------------
    def _details(self, lines: list[str], line: str | None) -> dict[str, Any]:
        return {
            "exit_code": self._proc.returncode if self._proc else None,
            "error_line": line,
            "log_path": str(self.log_path),
            "log_tail": lines,
            "argv": self.command(),
        }

    def _start_failed(self) -> EngineError:
        assert self._proc is not None
        code = self._proc.wait()
        lines = logs.tail(self.log_path, LOG_TAIL_LINES)
        line = logs.error_line(logs.tail(self.log_path, ERROR_SCAN_LINES))
        return EngineError(
            f"the engine exited with code {code} before it was ready"
            + (f": {line}" if line else ""),
            logs.hint_for(line, code),
            code=Code.ENGINE_START_FAILED,
            details=self._details(lines, line),
        )

    def _timed_out(self, seconds: float, last_status: str) -> EngineError:
        lines = logs.tail(self.log_path, 10)
        last = "\n".join(lines[-5:])
        return EngineError(
            f"the engine was not ready after {self.startup_timeout:g} s "
            f"(last check: {last_status})" + (f"; last log lines:\n{last}" if last else ""),
            "a large model or a Neuron compile can take longer: raise the startup timeout, "
            "or read the engine log for a step that hangs",
            code=Code.ENGINE_TIMEOUT,
            details={**self._details(lines, None), "timeout_s": self.startup_timeout},
        )
