"""The local executor: ``podium execute`` as a child process of the server.

Each attempt runs in a session (process group) of its own, in
``DATA_DIR/attempts/<id>/`` with its output in ``execute.log`` there. The handle records
the pid and the process's start time (``/proc/<pid>/stat`` field 22), so a restarted
server can tell its attempt from an unrelated process that reused the pid.

Cancel: SIGTERM to the execute process (it stops the engine tree on the way out, as
``podium run`` does on Ctrl-C), then after the grace period SIGKILL to its group and to
every descendant seen (vLLM runs in a session of its own, so the group alone is not
enough).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from podium.platform.dispatch.executor import AttemptJob, ExecutorUnavailable, Handle, Status

ATTEMPT_TOKEN_ENV = "PODIUM_ATTEMPT_TOKEN"


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


class LocalExecutor:
    name = "local"

    def __init__(self, data_dir: Path, *, grace_s: float = 10.0, python: str | None = None) -> None:
        self.root = Path(data_dir) / "attempts"
        self.grace_s = grace_s
        self.python = python or sys.executable
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def start(self, job: AttemptJob) -> Handle:
        with self._lock:  # reap children that ended since (no zombies left behind)
            for pid in [p for p, proc in self._children.items() if proc.poll() is not None]:
                self._children.pop(pid)
        workdir = self.root / str(job.attempt_id)
        log_path = workdir / "execute.log"
        env = {
            **os.environ,
            ATTEMPT_TOKEN_ENV: job.token,
            "PODIUM_HEARTBEAT_INTERVAL_S": str(job.heartbeat_interval_s),
            "PYTHONUNBUFFERED": "1",
        }
        argv = [self.python, "-m", "podium.cli.main", "execute", str(job.submission_id),
                "--server", job.server_url, "--output", str(workdir / "run")]
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, cwd=str(workdir),
                )
        except OSError as exc:  # the disk is full, the data directory unwritable, no fork: this machine's fault
            raise ExecutorUnavailable(f"could not start podium execute here: {exc}") from exc
        with self._lock:
            self._children[proc.pid] = proc
        return {"pid": proc.pid, "start_time": start_time(proc.pid), "log": str(log_path)}

    def _reap(self, pid: int) -> None:
        with self._lock:
            proc = self._children.get(pid)
        if proc is not None and proc.poll() is not None:
            with self._lock:
                self._children.pop(pid, None)

    def _alive(self, handle: Handle) -> bool:
        if "pid" not in handle:  # started by another executor before a settings change
            return False
        pid = int(handle["pid"])
        self._reap(pid)
        started = start_time(pid)
        return started is not None and (handle.get("start_time") in (None, started))

    def status(self, handle: Handle) -> Status:
        return Status.RUNNING if self._alive(handle) else Status.EXITED

    def cancel(self, handle: Handle) -> None:
        from podium.engine.process import descendants, pid_alive

        if "pid" not in handle:
            return
        pid = int(handle["pid"])
        if not self._alive(handle):  # the root is gone; its group may not be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            return
        tree = {pid, *descendants(pid)}
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        while time.monotonic() < deadline:
            self._reap(pid)
            tree |= {p for p in descendants(pid)} if pid_alive(pid) else set()
            if not any(pid_alive(p) for p in tree):
                break
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        for p in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
        self._reap(pid)
        with self._lock:
            proc = self._children.pop(pid, None)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def logs(self, handle: Handle) -> str:
        try:
            return Path(handle["log"]).read_text(encoding="utf-8", errors="replace")
        except (OSError, KeyError):
            return ""

    def exit_reason(self, handle: Handle) -> str | None:
        return None  # a child's exit status is not kept across server restarts
