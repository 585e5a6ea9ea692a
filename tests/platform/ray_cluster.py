"""A real local Ray cluster for the tests, bound to loopback: a head node and worker
nodes started with ``ray start --block`` on 127.0.0.1, each in a session of its own so
that a node can be killed as a whole (the raylet, its agents, the job supervisors and
every process a job started, vLLM included), as when a host is lost.

The head has no Podium slot, so a job runs only on a node the test adds with
``podium_slot_cpu``: the test decides where a job runs and which host dies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from podium.engine.process import descendants, free_port, pid_alive

RAY = str(Path(sys.executable).with_name("ray"))


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    tree: set[int] = field(default_factory=set)
    node_id: str | None = None

    def pids(self) -> set[int]:
        """Every process of this node seen so far (the node may start more)."""
        if pid_alive(self.proc.pid):
            self.tree |= {self.proc.pid, *descendants(self.proc.pid)}
        return {p for p in self.tree if pid_alive(p)}


class RayCluster:
    def __init__(self) -> None:
        if not Path(RAY).exists():
            raise RuntimeError(f"{RAY} not found: install Ray with `make setup` (the server extra)")
        # short: Ray's Unix socket paths live under it (107 characters at most)
        self.root = Path(tempfile.mkdtemp(prefix="podray-", dir="/tmp"))
        self.gcs_port = free_port()
        self.dashboard_port = free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        self.nodes: dict[str, Node] = {}

    def _start(self, name: str, args: list[str]) -> Node:
        log = self.root / f"{name}.log"
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        proc = subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats",
             "--dashboard-agent-listen-port", str(free_port()), *args],
            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True, env=env,
            cwd=str(self.root),
        )
        node = Node(name, proc, log)
        self.nodes[name] = node
        return node

    @property
    def started(self) -> bool:
        return "head" in self.nodes

    def start_head(self, timeout: float = 90) -> None:
        known = set()
        self._start("head", ["--head", "--port", str(self.gcs_port), "--num-cpus", "1",
                             "--dashboard-host", "127.0.0.1", "--dashboard-port", str(self.dashboard_port),
                             "--include-dashboard", "true", "--temp-dir", str(self.root / "t")])
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive("head")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.address}/api/version", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"Ray head did not start:\n{self.nodes['head'].log.read_text()[-3000:]}")
        self.head_id = self._wait_for_new_node("head", known, timeout)

    def add_node(self, name: str, slots: int = 1, timeout: float = 90) -> Node:
        """A worker node with ``slots`` Podium CPU slots; returns once Ray lists it alive."""
        known = self.node_ids()
        node = self._start(name, ["--address", f"127.0.0.1:{self.gcs_port}", "--num-cpus", "1",
                                  "--resources", f'{{"podium_slot_cpu": {slots}}}'])
        node.node_id = self._wait_for_new_node(name, known, timeout)
        return node

    def _check_alive(self, name: str) -> None:
        node = self.nodes[name]
        if node.proc.poll() is not None:
            raise RuntimeError(f"ray start for {name} exited {node.proc.returncode}:\n{node.log.read_text()[-3000:]}")

    def node_ids(self, alive_only: bool = False) -> set[str]:
        from ray.util.state import list_nodes

        filters = [("state", "=", "ALIVE")] if alive_only else None
        return {n.node_id for n in list_nodes(address=self.address, filters=filters)}

    def _wait_for_new_node(self, name: str, known: set[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            with contextlib.suppress(Exception):
                new = self.node_ids(alive_only=True) - known
                if new:
                    self.nodes[name].pids()
                    return new.pop()
            time.sleep(0.5)
        raise RuntimeError(f"Ray node {name} did not join in {timeout:.0f} s:\n{self.nodes[name].log.read_text()[-3000:]}")

    def kill(self, name: str) -> set[int]:
        """SIGKILL every process of node ``name``, as if its host lost power; returns them."""
        node = self.nodes[name]
        pids = node.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.proc.wait(timeout=10)
        return pids

    def stop(self) -> None:
        for name in reversed(list(self.nodes)):
            node = self.nodes[name]
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)  # ray start --block stops its node
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.proc.wait(timeout=30)
            self.kill(name)
        shutil.rmtree(self.root, ignore_errors=True)
