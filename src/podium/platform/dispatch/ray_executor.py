"""The Ray executor: each attempt is a Ray job (Ray's job submission API) whose
entrypoint is ``podium execute SUBMISSION_ID --server URL``.

The job asks for the target's resources, so Ray starts it on a host that has them free
and keeps it pending while none has:

- Neuron targets: ``neuron_cores`` = every NeuronCore of the target (Ray detects them on
  Neuron hosts);
- CUDA targets: one GPU per device of the target;
- ``cpu``: one ``podium_slot_cpu``, a custom resource each CPU host declares with
  ``ray start --resources '{"podium_slot_cpu": N}'`` (N attempts at once on that host).

The handle is the Ray job's submission id (``podium-s<submission>-a<attempt>-<random>``).
Status: pending and running jobs are alive; a job that stopped, failed (its host lost
included: Ray fails the job when the node's heartbeats stop) or that Ray no longer knows
is gone, and the dispatcher then queues the submission again unless the attempt already
reported. When Ray cannot be reached the answer is what Ray said last: "running" (the
heartbeat timeout still catches an attempt that is really lost), or "pending" for a job
still waiting for a host, which sends no heartbeat and must not be taken for lost. A
job that cannot be submitted because Ray does not answer (or answers 5xx) is not an
attempt: the submission stays queued (ExecutorUnavailable).

Cancel: Ray stops the job: SIGTERM to the entrypoint and all its descendants (vLLM
included, although it runs in a session of its own), SIGKILL after the grace period
(``RAY_JOB_STOP_WAIT_TIME_S``, set from ``PODIUM_CANCEL_GRACE_S``).

The attempt's credential travels in the job's ``runtime_env`` environment, never in the
entrypoint. Ray shows a job's runtime_env to whoever reaches its dashboard, which has no
access control of its own (anyone who reaches it can run code on the cluster): keep the
dashboard port on the cluster's private network. The credential is valid for that
attempt only and dies with it.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any

from podium.plan.targets import get_target
from podium.plan.types import Target
from podium.platform.dispatch.executor import AttemptJob, ExecutorUnavailable, Handle, Status

log = logging.getLogger(__name__)

ATTEMPT_TOKEN_ENV = "PODIUM_ATTEMPT_TOKEN"
CPU_SLOT_RESOURCE = "podium_slot_cpu"
_ALIVE = {"PENDING", "RUNNING"}
_SERVER_ERROR = re.compile(r"status code 5\d\d")


def job_resources(target: Target) -> dict[str, Any]:
    """The ``submit_job`` keywords that ask Ray for ``target``'s resources (from the
    target table: NeuronCores, GPUs, or one CPU slot)."""
    if target.backend == "neuron":
        return {"entrypoint_num_cpus": 1, "entrypoint_resources": {"neuron_cores": target.total_cores}}
    if target.backend == "cuda":
        return {"entrypoint_num_cpus": 1, "entrypoint_num_gpus": target.device_count}
    return {"entrypoint_num_cpus": 0, "entrypoint_resources": {CPU_SLOT_RESOURCE: 1}}


def entrypoint(command: Sequence[str], job: AttemptJob) -> str:
    """The job's shell command, quoted argument by argument (Ray runs it with a shell);
    nothing in it comes from a participant."""
    argv = [*command, "execute", str(job.submission_id), "--server", job.server_url,
            "--output", f"podium-attempts/{job.attempt_id}"]
    return shlex.join(argv)


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        address: str,
        *,
        command: Sequence[str] = ("podium",),
        env: Mapping[str, str] | None = None,
        grace_s: float = 10.0,
        client: Any = None,
    ) -> None:
        """``address``: the Ray dashboard's URL (``http://HEAD:8265``). ``command``: how
        to run podium on the cluster's hosts. ``env``: extra environment for every job
        (e.g. ``HF_HOME`` on the hosts)."""
        self.address = address
        self.command = tuple(command)
        self.env = dict(env or {})
        self.grace_s = grace_s
        self._client = client
        self._pending: set[str] = set()  # jobs Ray last reported PENDING (see status)

    @property
    def client(self) -> Any:
        if self._client is None:
            from ray.job_submission import JobSubmissionClient

            self._client = JobSubmissionClient(self.address)
        return self._client

    def start(self, job: AttemptJob) -> Handle:
        job_id = f"podium-s{job.submission_id}-a{job.attempt_id}-{secrets.token_hex(3)}"
        env = {
            **self.env,
            ATTEMPT_TOKEN_ENV: job.token,
            "PODIUM_HEARTBEAT_INTERVAL_S": str(job.heartbeat_interval_s),
            "PYTHONUNBUFFERED": "1",
            "RAY_JOB_STOP_WAIT_TIME_S": str(max(1, math.ceil(self.grace_s))),
        }
        try:
            self.client.submit_job(
                entrypoint=entrypoint(self.command, job),
                submission_id=job_id,
                runtime_env={"env_vars": env},
                metadata={"podium_submission": str(job.submission_id), "podium_attempt": str(job.attempt_id)},
                **job_resources(get_target(job.target)),
            )
        except OSError as exc:  # refused, reset, timed out (the SDK's and requests' errors are OSErrors)
            self._client = None  # reconnect next time
            raise ExecutorUnavailable(f"Ray does not answer at {self.address}: {exc}") from exc
        except RuntimeError as exc:  # the SDK's error for an HTTP error answer
            if _SERVER_ERROR.search(str(exc)):  # 5xx: the head is starting or unwell, not the job's fault
                raise ExecutorUnavailable(f"Ray at {self.address} could not take the job: {exc}"[:500]) from exc
            raise
        return {"ray_job": job_id, "address": self.address}

    def _status_name(self, handle: Handle) -> str | None:
        """Ray's status of the job (``PENDING``, ``RUNNING``, ``SUCCEEDED``...), ``GONE``
        when Ray does not know it, or None when Ray cannot be asked."""
        try:
            status = self.client.get_job_status(handle["ray_job"])
        except RuntimeError as exc:  # the SDK's error for an HTTP error answer
            if "404" in str(exc) or "does not exist" in str(exc):
                return "GONE"
            log.warning("Ray could not report job %s: %s", handle.get("ray_job"), exc)
            return None
        except Exception as exc:  # connection refused, timeout: the cluster is away
            log.warning("Ray unreachable at %s: %s", self.address, exc)
            self._client = None  # reconnect next time
            return None
        return str(getattr(status, "value", status))

    def status(self, handle: Handle) -> Status:
        if "ray_job" not in handle:  # started by another executor before a settings change
            return Status.EXITED
        job_id = handle["ray_job"]
        name = self._status_name(handle)
        if name is None:  # Ray unreachable: as last seen (a pending job sends no heartbeat)
            return Status.PENDING if job_id in self._pending else Status.RUNNING
        if name == "PENDING":
            self._pending.add(job_id)
            return Status.PENDING
        self._pending.discard(job_id)
        return Status.RUNNING if name == "RUNNING" else Status.EXITED

    def cancel(self, handle: Handle) -> None:
        job_id = handle.get("ray_job")
        if job_id is None:
            return
        self._pending.discard(job_id)
        try:
            self.client.stop_job(job_id)
        except Exception as exc:
            log.warning("Ray could not stop job %s: %s", job_id, exc)
            return
        deadline = time.monotonic() + self.grace_s + 15
        while time.monotonic() < deadline:
            name = self._status_name(handle)
            if name not in _ALIVE and name is not None:
                return
            time.sleep(0.5)
        log.warning("Ray job %s still %s after stop", job_id, name)

    def logs(self, handle: Handle) -> str:
        try:
            return str(self.client.get_job_logs(handle["ray_job"]))
        except Exception as exc:
            return f"(Ray job logs unavailable: {exc})"

    def exit_reason(self, handle: Handle) -> str | None:
        """Ray's account of the job's end, e.g. that its node died (first lines, short)."""
        try:
            info = self.client.get_job_info(handle["ray_job"])
        except Exception as exc:
            return "Ray no longer knows the job" if "404" in str(exc) or "does not exist" in str(exc) else None
        lines = [line.strip() for line in (info.message or "").splitlines() if line.strip()]
        died = [line for line in lines if "node" in line and "died" in line]
        text = "; ".join(([lines[0]] if lines else []) + died[:1])
        return f"Ray job {getattr(info.status, 'value', info.status)}: {text}"[:300]

    def node_of(self, handle: Handle) -> str | None:
        """The Ray node id the job's entrypoint runs on (None when not yet placed)."""
        try:
            return self.client.get_job_info(handle["ray_job"]).driver_node_id
        except Exception:
            return None
