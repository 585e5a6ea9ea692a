"""The dispatcher: a background thread in the server. Each tick it

1. looks at every open attempt: one whose submission ended or moved on to another
   attempt (cancel, rerun) is stopped; one whose process is gone or silent for longer
   than the heartbeat timeout is lost (queued again, or WORKER_LOST);
2. claims queued submissions, oldest first, within each target's slots, and starts them.

At start it re-attaches the attempts left open by a previous server: a live process
(same pid and start time) keeps running with a fresh heartbeat deadline; a dead one is
lost, which queues its submission again (the attempt was counted once, when claimed).
An attempt whose executor says it is still waiting for a host (a pending Ray job) is
kept alive without heartbeats until it starts.

When the executor cannot take work (the Ray cluster does not answer; locally, a full
disk or a failed fork), the claim is undone, nothing is counted, and dispatching
pauses, 1 s at first, doubling up to MAX_BACKOFF_S; ``unavailable`` says why meanwhile
(the queue page and /metrics show it).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from podium.platform.db import Database
from podium.platform.dispatch import service
from podium.platform.dispatch.executor import AttemptJob, Executor, ExecutorUnavailable, Status
from podium.platform.dispatch.settings import DispatchSettings
from podium.platform.models import Submission, SubmissionAttempt, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class Unavailable:
    """The executor could not take work: why, since when (wall clock), next try (monotonic)."""

    reason: str
    since: float
    retry_at: float
    failures: int


class Dispatcher:
    def __init__(self, db: Database, executor: Executor, settings: DispatchSettings) -> None:
        self.db = db
        self.executor = executor
        self.settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping: set[int] = set()  # attempts being cancelled by a helper thread
        self.unavailable: Unavailable | None = None  # the executor is away (see the module doc)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self.reattach()
        self._thread = threading.Thread(target=self._loop, name="podium-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching. Running attempts keep running: a restarted server re-attaches them."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # keep dispatching: one bad tick must not stop the queue
                log.exception("dispatcher tick failed")
            self._wake.wait(self.settings.poll_s)
            self._wake.clear()

    # -- one tick ---------------------------------------------------------------------

    def reattach(self) -> None:
        with self.db.session() as session, session.begin():
            for attempt in service.open_attempts(session=session):
                if attempt.handle and self.executor.status(attempt.handle) is not Status.EXITED:
                    attempt.heartbeat_at = utcnow()
                    log.info("attempt %s of submission %s re-attached", attempt.id, attempt.submission_id)
        self.reap()

    def tick(self) -> None:
        self.reap()
        self.dispatch()

    def reap(self) -> None:
        now = utcnow()
        with self.db.session() as session:
            rows = [
                (a.id, a.handle, session.get(Submission, a.submission_id), service.is_stale(a, self.settings.heartbeat_timeout_s, now))
                for a in service.open_attempts(session=session)
            ]
            facts = [(aid, handle, sub.current_attempt_id == aid and not sub.state.is_final, stale)
                     for aid, handle, sub, stale in rows if sub is not None]
        for attempt_id, handle, current, stale in facts:
            if attempt_id in self._stopping:
                continue
            if not current:
                self._finish_and_stop(attempt_id, handle, "superseded")
                continue
            if handle is None:
                if stale:  # claimed but never started (the server died in between)
                    service.worker_lost(db=self.db, attempt_id=attempt_id, reason="never started",
                                        max_attempts=self.settings.max_attempts)
                continue
            status = self.executor.status(handle)
            if status is Status.PENDING:  # waiting for a host: its heartbeats have not begun
                service.keep_alive(db=self.db, attempt_id=attempt_id)
            elif status is Status.EXITED:
                reason = "process exited without a report"
                if detail := self.executor.exit_reason(handle):
                    reason += f": {detail}"
                state = service.worker_lost(db=self.db, attempt_id=attempt_id, reason=reason,
                                            max_attempts=self.settings.max_attempts)
                log.warning("attempt %s lost (process exited): submission now %s", attempt_id, state)
            elif stale:
                state = service.worker_lost(db=self.db, attempt_id=attempt_id, reason="no heartbeat",
                                            max_attempts=self.settings.max_attempts)
                log.warning("attempt %s lost (no heartbeat): submission now %s", attempt_id, state)
                self._stop_process(attempt_id, handle)

    def _finish_and_stop(self, attempt_id: int, handle: dict | None, outcome: str) -> None:
        with self.db.session() as session, session.begin():
            attempt = session.get(SubmissionAttempt, attempt_id)
            sub = session.get(Submission, attempt.submission_id) if attempt else None
            if attempt is not None:
                service.finish(session=session, attempt=attempt,
                               outcome="cancelled" if sub is not None and str(sub.state) == "cancelled" else outcome)
        if handle is not None:
            self._stop_process(attempt_id, handle)

    def _stop_process(self, attempt_id: int, handle: dict) -> None:
        """Cancel in a helper thread: the grace period must not hold up the queue."""
        self._stopping.add(attempt_id)

        def run() -> None:
            try:
                self.executor.cancel(handle)
            except Exception:
                log.exception("cancelling attempt %s failed", attempt_id)
            finally:
                self._stopping.discard(attempt_id)

        threading.Thread(target=run, name=f"podium-cancel-{attempt_id}", daemon=True).start()

    def dispatch(self) -> None:
        with self.db.session() as session:
            targets = service.queued_targets(session=session)
        if not targets:
            self.unavailable = None  # nothing waits for the executor (any more: e.g. cancelled)
            return
        if self.unavailable is not None and time.monotonic() < self.unavailable.retry_at:
            return
        for target in targets:
            while not self._stop.is_set():
                claimed = service.claim(db=self.db, target=target, slots=self.settings.slots_for(target),
                                        executor=self.executor.name)
                if claimed is None:
                    break
                if not self._start(claimed):
                    return

    def _executor_away(self, reason: str) -> None:
        prev = self.unavailable
        failures = prev.failures + 1 if prev else 1
        wait = min(MAX_BACKOFF_S, 2.0 ** (failures - 1))
        self.unavailable = Unavailable(reason, prev.since if prev else time.time(), time.monotonic() + wait, failures)
        log.warning("%s executor unavailable (%s); submissions stay queued, next try in %.0f s",
                    self.executor.name, reason, wait)

    def _start(self, claimed: service.Claimed) -> bool:
        """Start a claimed attempt; False when the executor is away (the claim undone)."""
        job = AttemptJob(
            attempt_id=claimed.attempt_id,
            submission_id=claimed.submission_id,
            target=claimed.target,
            token=claimed.token,
            server_url=self.settings.server_url,
            heartbeat_interval_s=self.settings.heartbeat_interval_s,
        )
        try:
            handle = self.executor.start(job)
        except ExecutorUnavailable as exc:
            service.unclaim(db=self.db, attempt_id=claimed.attempt_id)
            self._executor_away(str(exc))
            return False
        except Exception as exc:
            log.exception("starting attempt %s failed", claimed.attempt_id)
            service.worker_lost(db=self.db, attempt_id=claimed.attempt_id, reason=f"could not start: {exc}",
                                max_attempts=self.settings.max_attempts)
            return True
        if self.unavailable is not None:
            log.info("%s executor available again", self.executor.name)
            self.unavailable = None
        service.set_handle(db=self.db, attempt_id=claimed.attempt_id, handle=handle)
        log.info("attempt %s of submission %s started (%s)", claimed.attempt_id, claimed.submission_id, self.executor.name)
        return True
