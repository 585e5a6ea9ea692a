"""The queue in the database: claim queued submissions within each target's slots (an
attempt with a fresh credential), mark attempts finished, queue lost ones again or fail
them with WORKER_LOST, rerun and cancel.

Claims run in :meth:`Database.locked` (SQLite ``BEGIN IMMEDIATE``); on PostgreSQL the
queued rows are selected ``FOR UPDATE SKIP LOCKED`` so several dispatchers never claim
the same submission.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from podium.errors import Code, PodiumError
from podium.platform import metrics
from podium.platform.db import Database
from podium.platform.models import Challenge, State, Submission, SubmissionAttempt, utcnow
from podium.platform.security import register_secret, token_hash
from podium.platform.submissions.service import set_state

ATTEMPT_TOKEN_PREFIX = "pat_"


def new_attempt_token(attempt_id: int) -> str:
    """``pat_<attempt id>_<random>``: the id tells the worker which attempt it runs."""
    return f"{ATTEMPT_TOKEN_PREFIX}{attempt_id}_{secrets.token_urlsafe(32)}"


def attempt_id_of(token: str) -> int | None:
    if not token.startswith(ATTEMPT_TOKEN_PREFIX):
        return None
    head, _, _ = token[len(ATTEMPT_TOKEN_PREFIX):].partition("_")
    return int(head) if head.isdigit() else None


@dataclass(frozen=True)
class Claimed:
    attempt_id: int
    submission_id: int
    target: str
    token: str


def running_by_target(*, session: Session) -> dict[str, int]:
    rows = session.execute(
        select(SubmissionAttempt.target, func.count())
        .where(SubmissionAttempt.finished_at.is_(None))
        .group_by(SubmissionAttempt.target)
    ).all()
    return {target: int(n) for target, n in rows}


def waiting_by_target(*, session: Session) -> dict[str, int]:
    """Queued submissions not yet claimed by the dispatcher, per target."""
    rows = session.execute(
        select(Challenge.target, func.count())
        .join(Submission, Submission.challenge_id == Challenge.id)
        .where(Submission.state == State.QUEUED, Submission.current_attempt_id.is_(None))
        .group_by(Challenge.target)
    ).all()
    return {target: int(n) for target, n in rows}


def queued_targets(*, session: Session) -> list[str]:
    return list(session.scalars(
        select(Challenge.target).join(Submission, Submission.challenge_id == Challenge.id)
        .where(Submission.state == State.QUEUED, Submission.current_attempt_id.is_(None))
        .distinct()
    ))


def claim(*, db: Database, target: str, slots: int, executor: str) -> Claimed | None:
    """The oldest unclaimed queued submission for ``target`` as a new attempt, when
    fewer than ``slots`` attempts for that target are open; else None."""
    with db.locked() as session:
        running = session.scalar(
            select(func.count()).where(
                SubmissionAttempt.finished_at.is_(None), SubmissionAttempt.target == target
            )
        )
        if int(running or 0) >= slots:
            return None
        sub = session.scalar(
            select(Submission)
            .join(Challenge, Submission.challenge_id == Challenge.id)
            .where(
                Submission.state == State.QUEUED,
                Submission.current_attempt_id.is_(None),
                Challenge.target == target,
            )
            .order_by(Submission.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Submission)
        )
        if sub is None:
            return None
        number = int(session.scalar(
            select(func.count()).where(SubmissionAttempt.submission_id == sub.id)
        ) or 0) + 1
        attempt = SubmissionAttempt(
            submission_id=sub.id, number=number, token_sha256="pending:" + secrets.token_hex(8),
            executor=executor, target=target, heartbeat_at=utcnow(),
        )
        session.add(attempt)
        session.flush()
        token = new_attempt_token(attempt.id)
        register_secret(token)
        attempt.token_sha256 = token_hash(token)
        sub.current_attempt_id = attempt.id
        sub.attempts = (sub.attempts or 0) + 1
        sub.progress_done = sub.progress_total = None
        return Claimed(attempt.id, sub.id, target, token)


def unclaim(*, db: Database, attempt_id: int) -> None:
    """Undo :func:`claim` for an attempt the executor could not start (it is away): the
    attempt is deleted and not counted; the submission, still queued, keeps its place."""
    with db.locked() as session:
        attempt = session.get(SubmissionAttempt, attempt_id)
        if attempt is None:
            return
        sub = session.get(Submission, attempt.submission_id)
        if sub is not None and sub.current_attempt_id == attempt_id:
            sub.current_attempt_id = None
            sub.attempts = max(0, (sub.attempts or 0) - 1)
        session.delete(attempt)


def set_handle(*, db: Database, attempt_id: int, handle: dict) -> None:
    # One UPDATE, no read first: on SQLite a deferred transaction that reads and then
    # writes fails at once ("database is locked") when a heartbeat commits in between.
    with db.session() as session, session.begin():
        session.execute(update(SubmissionAttempt).where(SubmissionAttempt.id == attempt_id).values(handle=handle))


def keep_alive(*, db: Database, attempt_id: int) -> None:
    """Push the heartbeat deadline of an attempt that waits for a host to start it."""
    with db.session() as session, session.begin():  # one UPDATE: see set_handle
        session.execute(
            update(SubmissionAttempt)
            .where(SubmissionAttempt.id == attempt_id, SubmissionAttempt.finished_at.is_(None))
            .values(heartbeat_at=utcnow())
        )


def finish(*, session: Session, attempt: SubmissionAttempt, outcome: str) -> None:
    if attempt.finished_at is None:
        attempt.finished_at = utcnow()
        attempt.outcome = outcome


def worker_lost(*, db: Database, attempt_id: int, reason: str, max_attempts: int) -> State | None:
    """The attempt's process died or went silent: queue its submission again (a platform
    fault: no quota is spent), or fail it with WORKER_LOST after ``max_attempts``.
    Returns the submission's new state, or None when the attempt no longer mattered."""
    with db.locked() as session:
        attempt = session.get(SubmissionAttempt, attempt_id)
        if attempt is None or attempt.finished_at is not None:
            return None
        finish(session=session, attempt=attempt, outcome="lost")
        sub = session.get(Submission, attempt.submission_id)
        if sub is None or sub.current_attempt_id != attempt.id or sub.state.is_final:
            return None
        sub.current_attempt_id = None
        if (sub.attempts or 0) >= max_attempts:
            err = PodiumError(
                f"the worker running this submission was lost {sub.attempts} times ({reason})",
                "this is the platform's fault and does not count against your quota; "
                "the organisers can rerun it",
                code=Code.WORKER_LOST,
            )
            set_state(session=session, submission_id=sub.id, state=State.FAILED,
                      detail=f"WORKER_LOST: {reason}", error=err, platform_fault=True)
            return State.FAILED
        set_state(session=session, submission_id=sub.id, state=State.QUEUED,
                  detail=f"queued again: worker lost ({reason}); attempt {sub.attempts} of {max_attempts}")
        metrics.attempt_requeued()
        return State.QUEUED


def open_attempts(*, session: Session) -> list[SubmissionAttempt]:
    return list(session.scalars(
        select(SubmissionAttempt).where(SubmissionAttempt.finished_at.is_(None)).order_by(SubmissionAttempt.id)
    ))


def is_stale(attempt: SubmissionAttempt, timeout_s: float, now: dt.datetime) -> bool:
    last = attempt.heartbeat_at or attempt.started_at
    return (now - last).total_seconds() > timeout_s


def cancel(*, session: Session, sub: Submission, by: str) -> Submission:
    """Cancel now in the database; the dispatcher stops a running attempt's process
    (its submission is final, so the attempt no longer counts)."""
    set_state(session=session, submission_id=sub.id, state=State.CANCELLED, detail=f"cancelled by {by}")
    return sub


def rerun(*, session: Session, sub: Submission, by: str) -> Submission:
    """Queue ``sub`` again as a new attempt; a running attempt is superseded (stopped by
    the dispatcher, its late reports refused). Scores are cleared until it is scored again."""
    sub.current_attempt_id = None
    sub.attempts = 0
    sub.error_code = sub.error_message = sub.error_hint = None
    sub.report = None
    sub.score_public = sub.score_private = sub.tokens_per_s = None
    sub.progress_done = sub.progress_total = None
    sub.platform_fault = False
    set_state(session=session, submission_id=sub.id, state=State.QUEUED, detail=f"rerun by {by}")
    return sub
