"""The worker side of an attempt: its credential, its job, and what it reports. Every
report is accepted only from the submission's current attempt (else 409
ATTEMPT_SUPERSEDED), so a late report of a superseded attempt never scores anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from podium.errors import Code, PodiumError
from podium.platform.db import Database
from podium.platform.errors import NOT_AUTHENTICATED, ApiError
from podium.platform.models import State, Submission, SubmissionAttempt
from podium.platform.security import TokenBox, same_hash, token_hash
from podium.platform.submissions.service import hf_token_for, record_score, set_state
from podium.platform.workers import logs
from podium.platform.workers.schemas import FailureIn, JobPublic

ATTEMPT_SUPERSEDED = Code.ATTEMPT_SUPERSEDED
ORDER = [State.QUEUED, State.RESOLVING, State.COMPILING, State.STARTING, State.EVALUATING]


class Superseded(ApiError):
    """HTTP 409: this attempt no longer counts (cancelled, rerun, lost, or finished)."""

    @property
    def status(self) -> int:
        return 409


def authenticate(*, session: Session, attempt_id: int, token: str | None) -> SubmissionAttempt:
    attempt = session.get(SubmissionAttempt, attempt_id) if token else None
    if attempt is None or not same_hash(attempt.token_sha256, token_hash(token or "")):
        raise ApiError(NOT_AUTHENTICATED, "this attempt credential is not valid",
                       "attempt routes take the PODIUM_ATTEMPT_TOKEN of that attempt only")
    return attempt


def current(session: Session, attempt: SubmissionAttempt) -> Submission:
    """The attempt's submission, locked for update, if this attempt still counts."""
    sub = session.get(Submission, attempt.submission_id, with_for_update=True)
    if sub is None or attempt.finished_at is not None or sub.current_attempt_id != attempt.id or sub.state.is_final:
        state = str(sub.state) if sub is not None else "gone"
        raise Superseded(
            ATTEMPT_SUPERSEDED,
            f"attempt {attempt.id} no longer counts for submission {attempt.submission_id} (now {state})",
            "stop: the submission was cancelled, rerun, finished or given to another attempt",
            state=state,
        )
    return sub


def job(*, session: Session, box: TokenBox, attempt: SubmissionAttempt, heartbeat_interval_s: float) -> JobPublic:
    sub = current(session, attempt)
    row = sub.challenge
    return JobPublic(
        attempt_id=attempt.id,
        submission_id=sub.id,
        number=attempt.number,
        spec=sub.spec or {},
        pinned_commit=sub.pinned_commit,
        target=row.target,
        challenge_name=row.name,
        challenge_yaml=row.yaml_text,
        challenge_path=row.source_path,
        hf_token=hf_token_for(session=session, box=box, submission_id=sub.id),
        heartbeat_interval_s=heartbeat_interval_s,
    )


def heartbeat(*, db: Database, attempt_id: int, token: str | None) -> str:
    from podium.platform.models import utcnow

    with db.locked() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        attempt.heartbeat_at = utcnow()
        return str(sub.state)


def move(*, db: Database, attempt_id: int, token: str | None, state: State, detail: str) -> str:
    """A forward move (resolving -> compiling -> starting -> evaluating); a repeated or
    backward one is ignored."""
    with db.locked() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        if ORDER.index(state) > ORDER.index(sub.state):
            set_state(session=session, submission_id=sub.id, state=state, detail=detail)
        return str(sub.state)


def progress(*, db: Database, attempt_id: int, token: str | None, done: int, total: int) -> str:
    with db.locked() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        sub.progress_done, sub.progress_total = done, total
        return str(sub.state)


def append_log(*, db: Database, data_dir: Path, attempt_id: int, token: str | None, stream: str, text: str, private: bool) -> str:
    with db.session() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        state = str(sub.state)
    prefix = f"[{stream}] "
    body = "".join(prefix + line for line in text.splitlines(keepends=True))
    if body and not body.endswith("\n"):
        body += "\n"
    logs.append(data_dir, attempt.submission_id, body, private=private)
    return state


def report(*, db: Database, attempt_id: int, token: str | None, report_dict: dict[str, Any]) -> str:
    from podium.platform.dispatch.service import finish

    with db.locked() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        record_score(session=session, submission_id=sub.id, report_dict=report_dict)
        finish(session=session, attempt=attempt, outcome="scored")
        return str(sub.state)


def failure(*, db: Database, attempt_id: int, token: str | None, body: FailureIn) -> str:
    from podium.platform.dispatch.service import finish

    with db.locked() as session:
        attempt = authenticate(session=session, attempt_id=attempt_id, token=token)
        sub = current(session, attempt)
        err = PodiumError(body.message, body.hint, code=body.code)
        set_state(session=session, submission_id=sub.id, state=State.FAILED, detail=body.code,
                  error=err, platform_fault=body.platform_fault)
        finish(session=session, attempt=attempt, outcome="failed")
        return str(sub.state)

