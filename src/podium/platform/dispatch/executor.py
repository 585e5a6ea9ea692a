"""The executor interface: what the dispatcher needs to run one attempt somewhere.

An attempt is always the same unit of work, ``podium execute SUBMISSION_ID --server URL``
with the attempt's credential in ``PODIUM_ATTEMPT_TOKEN``; an executor only decides where
that process runs. The handle it returns is JSON, kept in the database, so that a
restarted server can ask about (and cancel) an attempt started before it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from podium.platform.dispatch.settings import DispatchSettings

Handle = dict[str, Any]


class Status(enum.StrEnum):
    PENDING = "pending"  # accepted, waiting for a host with free resources: no heartbeat yet
    RUNNING = "running"
    EXITED = "exited"  # gone: ended normally or died; the database says which


@dataclass(frozen=True)
class AttemptJob:
    attempt_id: int
    submission_id: int
    target: str
    token: str  # the attempt's credential, in clear: given to the process only
    server_url: str
    heartbeat_interval_s: float


class ExecutorUnavailable(Exception):
    """The executor cannot take work now (e.g. the Ray cluster does not answer): the
    attempt was not started. The dispatcher undoes the claim, so the submission waits in
    the queue with nothing counted, and tries again later."""


class Executor(Protocol):
    name: str

    def start(self, job: AttemptJob) -> Handle:
        """Start the process; return at once with its handle. Raises
        :class:`ExecutorUnavailable` when nothing could be started for a reason that is
        not the job's (the executor is away)."""

    def status(self, handle: Handle) -> Status: ...

    def cancel(self, handle: Handle) -> None:
        """Stop the process and everything it started (blocks up to the grace period)."""

    def logs(self, handle: Handle) -> str:
        """The process's own output (stdout/stderr), for organisers and debugging."""

    def exit_reason(self, handle: Handle) -> str | None:
        """Why a process that is gone ended, when the executor knows (e.g. its host died)."""


def make_executor(settings: DispatchSettings, data_dir: Path) -> Executor:
    """The executor the settings choose (``PODIUM_EXECUTOR``)."""
    if settings.executor == "ray":
        from podium.platform.dispatch.ray_executor import RayExecutor

        return RayExecutor(settings.ray_address, command=settings.ray_command, env=settings.ray_env,
                           grace_s=settings.cancel_grace_s)
    from podium.platform.dispatch.local import LocalExecutor

    return LocalExecutor(data_dir, grace_s=settings.cancel_grace_s)
