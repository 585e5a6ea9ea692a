"""Child processes: start one in its own process group, find its tree, stop all of it.

vLLM's API server starts an engine-core process, which starts worker processes; all of
them inherit the server's process group, so one ``killpg`` reaches them. A child that
moved to another group (or session) is still found by walking the tree from the root
(psutil when installed, ``/proc`` otherwise) *before* anything is signalled: once the
root dies its children are re-parented and can no longer be found from it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

try:  # vLLM depends on psutil, so the engine environment has it; podium does not need it
    import psutil
except ImportError:  # pragma: no cover - exercised where psutil is absent
    psutil = None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# Run before the engine's own program (exec'd into the same process, Linux only): ask the
# kernel for SIGTERM when the process that started it dies, so that an engine never
# outlives a `podium execute` or `podium run` that was SIGKILLed or OOM-killed (vLLM stops
# its own engine-core and worker processes on SIGTERM). A launcher rather than
# preexec_fn, which is unsafe in a process with threads (execute's heartbeat).
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"  # 1: PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]):\n"  # the parent died before prctl
    "    sys.exit(143)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def die_with_parent(argv: Sequence[str]) -> list[str]:
    """``argv`` behind the launcher that ties it to this process's life (Linux).

    The kernel sends the signal when the *thread* that started the child ends, not the
    process: start engines from the main thread (as pipeline.run does) or from a thread
    that lives as long as the process."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]


def spawn(
    argv: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: str | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (its own process group), output to ``log_path``;
    it receives SIGTERM if this process dies first (see :func:`die_with_parent`)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            die_with_parent(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
        )


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, grandchildren, ...)."""
    if psutil is not None:
        try:
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    if not Path("/proc").is_dir():  # pragma: no cover - not Linux, no psutil
        return []
    tree = _proc_children()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(tree.get(child, []))
    return found


def pid_alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    if psutil is not None:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return state[state.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def _signal_all(pgid: int | None, pids: Iterable[int], sig: signal.Signals) -> None:
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def kill_tree(
    proc: subprocess.Popen[bytes], grace: float = 15.0, known: Iterable[int] = ()
) -> list[int]:
    """Stop ``proc`` and everything it started: SIGTERM, wait ``grace`` s, then SIGKILL.

    ``known`` adds pids seen earlier in the tree (children of a root that already died
    are no longer reachable from it). Returns the pids that made up the tree. Safe to
    call on a process that already exited, and more than once.
    """
    tree = [proc.pid, *descendants(proc.pid)]
    for pid in known:
        if pid not in tree and pid_alive(pid):
            tree.extend([pid, *descendants(pid)])
    pgid = proc.pid  # start_new_session: the child leads its own group
    _signal_all(pgid, tree, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        if not any(pid_alive(pid) for pid in tree):
            break
        time.sleep(0.1)
    else:
        tree.extend(p for p in descendants(proc.pid) if p not in tree)
        _signal_all(pgid, tree, signal.SIGKILL)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be refused
        pass
    # The group may still hold stragglers whose pids we never saw (started during
    # shutdown): they die with the group.
    _signal_all(pgid, (), signal.SIGKILL)
    return tree
