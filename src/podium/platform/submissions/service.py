"""Submissions: admission (parse, check against the challenge, resolve + pin +
preflight, quota, store), state transitions, reads, and ``record_score``.

Admission does its slow part (the pipeline's check) outside any transaction, then counts
the quota and inserts inside one write-locked transaction (:meth:`Database.locked`: SQLite
``BEGIN IMMEDIATE``; elsewhere ``SELECT ... FOR UPDATE`` on the user's row), so concurrent
submissions of one participant never get past the quota.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from podium.errors import Code, Finding, PodiumError, Severity, error
from podium.evaluate.challenge import Challenge as ChallengeDef
from podium.platform import metrics
from podium.platform.challenges import service as challenges
from podium.platform.db import Database
from podium.platform.errors import PAYLOAD_INVALID, ApiError, not_found, status_for
from podium.platform.models import (
    Challenge,
    SecretToken,
    State,
    Submission,
    SubmissionEvent,
    User,
    utcnow,
)
from podium.platform.security import TokenBox, register_secret
from podium.platform.submissions import quota
from podium.platform.submissions.schemas import TypedSpec
from podium.spec.parse import canonical
from podium.spec.submission import SubmissionSpec

log = logging.getLogger(__name__)

TOKEN_KEYS = ("hf_token", "hf-token")
# Keys that name something on the participant's own machine.
LOCAL_ONLY_KEYS = frozenset({"model-dir", "model_dir"})
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass
class Admitted:
    submission: Submission
    queue_position: int | None
    findings: list[dict[str, str]]


class Rejected(ApiError):
    """An admission rejection; the submission was stored as ``rejected``."""


# -- admission ------------------------------------------------------------------------


@metrics.counts_rejections
def admit(
    *,
    db: Database,
    box: TokenBox,
    user: User,
    challenge_name: str,
    body: dict[str, Any],
    now: dt.datetime | None = None,
) -> Admitted:
    body = dict(body)
    token = _pop_token(body)
    with db.session() as session:
        row = challenges.get_challenge(session=session, name=challenge_name)
        if row is None:
            raise not_found("challenge", challenge_name)
        challenge_id = row.id
        definition = challenges.definition(row)
        # early answer: no preflight for a participant who has no submission left
        quota.enforce(_quota(session, user.id, challenge_id, definition, now), definition.name)

    try:
        flat = _flat_payload(body)
        _refuse_local(flat, definition)
        spec, findings = _parse(flat, definition)
        from podium.pipeline import check
        from podium.plan.targets import get_target

        result = check(spec, get_target(definition.target), token=token, extra_findings=findings)
    except PodiumError as exc:
        _store_rejected(db, user.id, challenge_id, None, [exc.as_finding()], None)
        raise Rejected(str(exc.code), exc.message, exc.hint, findings=[exc.as_finding().to_dict()]) from None

    found = [f.to_dict() for f in result.findings]
    if not result.ok:
        _store_rejected(db, user.id, challenge_id, result.spec, result.findings, result)
        first = next(f for f in result.findings if f.severity is Severity.ERROR)
        raise Rejected(str(first.code), first.message, first.hint, findings=found)

    with db.locked() as session:
        session.scalar(select(User).where(User.id == user.id).with_for_update())
        quota.enforce(_quota(session, user.id, challenge_id, definition, now), definition.name)
        sub = Submission(
            owner_id=user.id,
            challenge_id=challenge_id,
            spec=result.spec.to_dict(),
            hf_repo=result.snapshot.repo,
            requested_revision=result.snapshot.revision,
            pinned_commit=result.snapshot.commit,
            model_type=result.model_type,
            state=State.QUEUED,
            findings=found,
            counted_against_quota=True,
            created_at=now or utcnow(),
        )
        session.add(sub)
        session.flush()
        session.add(SubmissionEvent(submission_id=sub.id, state=State.QUEUED, detail="admitted"))
        if token:
            session.add(SecretToken(submission_id=sub.id, ciphertext=box.seal(token)))
    with db.session() as session:
        position = queue_position(session=session, submission_id=sub.id)
    log.info("submission %s admitted: %s@%s", sub.id, sub.hf_repo, sub.pinned_commit)
    return Admitted(sub, position, found)


def _quota(session: Session, user_id: int, challenge_id: int, definition: ChallengeDef, now: dt.datetime | None) -> quota.QuotaStatus:
    return quota.quota_status(
        session=session,
        user_id=user_id,
        challenge_id=challenge_id,
        quotas=definition.quotas,
        now=now or utcnow(),
    )


def _pop_token(body: dict[str, Any]) -> str | None:
    token = None
    for key in TOKEN_KEYS:
        value = body.pop(key, None)
        if value is not None:
            if not isinstance(value, str):
                raise ApiError(PAYLOAD_INVALID, "hf_token must be a string", "send the token as a string")
            token = value.strip() or None
    register_secret(token)
    return token


def _flat_payload(body: dict[str, Any]) -> dict[str, Any]:
    if "spec" in body:
        if set(body) != {"spec"}:
            extra = sorted(set(body) - {"spec"})
            raise ApiError(
                PAYLOAD_INVALID,
                f"a typed submission is {{\"spec\": {{...}}}} only; unexpected key(s): {', '.join(extra)}",
                "send either {\"spec\": {...}} or the flat key/value form, not both",
            )
        if not isinstance(body["spec"], dict):
            raise ApiError(PAYLOAD_INVALID, "spec must be a JSON object", "send {\"spec\": {\"hf_repo\": ...}}")
        try:
            return TypedSpec.model_validate(body["spec"]).flat()
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ApiError(PAYLOAD_INVALID, f"spec.{loc}: {first['msg']}", "fix the typed spec") from None
    return body


def _refuse_local(flat: dict[str, Any], definition: ChallengeDef) -> None:
    """What only the participant's own machine may do: a model directory, a local path as
    the repository, a file path read on the server."""
    for key, value in flat.items():
        name = canonical(key)
        if key in LOCAL_ONLY_KEYS or name in LOCAL_ONLY_KEYS:
            raise PodiumError(
                "--model-dir is not accepted by the server: it names a folder on your machine",
                "upload the model to a Hugging Face repository and submit --hf-repo ORG/NAME",
                code=Code.FLAG_NOT_ALLOWED,
                details={"flag": "--model-dir"},
            )
        if name.endswith("-path"):
            raise PodiumError(
                f"--{name} is not accepted by the server: it names a file on your machine",
                f"run 'podium check --challenge {definition.name}' locally with --{name}; "
                "submissions to the server cannot read files",
                code=Code.FLAG_NOT_ALLOWED,
                details={"flag": f"--{name}"},
            )
        if name == "hf-repo":
            repo = str(value)
            if not _REPO_ID.match(repo) or ".." in repo:
                raise PodiumError(
                    f"--hf-repo {repo!r} is not a Hugging Face repository id: the server cannot read local paths",
                    "the server resolves models from the Hub only: give ORG/NAME, not a path",
                    code=Code.FLAG_NOT_ALLOWED,
                    details={"flag": "--hf-repo", "value": repo},
                )


def _parse(flat: dict[str, Any], definition: ChallengeDef) -> tuple[SubmissionSpec, list[Finding]]:
    from podium.evaluate.challenge import check_submission, with_defaults
    from podium.spec.parse import parse_flat

    spec = parse_flat(flat, extras=definition.extra_flags())
    findings = check_submission(definition, spec)
    return with_defaults(definition, spec), findings


def _store_rejected(
    db: Database,
    user_id: int,
    challenge_id: int,
    spec: SubmissionSpec | None,
    findings: list[Finding],
    result: Any,
) -> None:
    first = next((f for f in findings if f.severity is Severity.ERROR), None) or error(
        Code.EVAL_FAILED, "rejected"
    )
    with db.session() as session, session.begin():
        sub = Submission(
            owner_id=user_id,
            challenge_id=challenge_id,
            spec=spec.to_dict() if spec else None,
            hf_repo=spec.hf_repo if spec else None,
            requested_revision=spec.hf_repo_tag if spec else None,
            pinned_commit=result.snapshot.commit if result is not None else None,
            model_type=result.model_type if result is not None else None,
            state=State.REJECTED,
            error_code=str(first.code),
            error_message=first.message,
            error_hint=first.hint,
            findings=[f.to_dict() for f in findings],
            counted_against_quota=False,
        )
        session.add(sub)
        session.flush()
        session.add(SubmissionEvent(submission_id=sub.id, state=State.REJECTED, detail=str(first.code)))


# -- transitions ----------------------------------------------------------------------


def set_state(
    *,
    session: Session,
    submission_id: int,
    state: State,
    detail: str = "",
    error: PodiumError | None = None,
    platform_fault: bool = False,
) -> Submission:
    """Move a submission to ``state`` (timestamped). A final state deletes its HF token;
    a failure caused by the platform is taken off the participant's quota."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise not_found("submission", submission_id)
    sub.state = State(state)
    if error is not None:
        sub.error_code, sub.error_message, sub.error_hint = str(error.code), error.message, error.hint
    if platform_fault:
        sub.platform_fault = True
        sub.counted_against_quota = False
    session.add(SubmissionEvent(submission_id=sub.id, state=sub.state, detail=detail))
    if sub.state.is_final:
        delete_token(session=session, submission_id=sub.id)
    session.flush()
    return sub


def delete_token(*, session: Session, submission_id: int) -> None:
    row = session.scalar(select(SecretToken).where(SecretToken.submission_id == submission_id))
    if row is not None:
        session.delete(row)


def hf_token_for(*, session: Session, box: TokenBox, submission_id: int) -> str | None:
    """The submission's HF token in clear, for resolve/download only (the executor)."""
    row = session.scalar(select(SecretToken).where(SecretToken.submission_id == submission_id))
    return box.open(row.ciphertext) if row is not None else None


def record_score(*, session: Session, submission_id: int, report_dict: dict[str, Any]) -> Submission:
    """Store an EvalReport (``EvalReport.to_dict()``) and mark the submission scored."""
    sub = session.get(Submission, submission_id)
    if sub is None:
        raise not_found("submission", submission_id)
    by_split = report_dict.get("primary_by_split") or {}
    sub.report = report_dict
    sub.score_public = by_split.get("public")
    sub.score_private = by_split.get("private")
    sub.tokens_per_s = (report_dict.get("requests") or {}).get("output_tokens_per_s")
    return set_state(session=session, submission_id=submission_id, state=State.SCORED, detail="scored")


# -- cancel, rerun, logs ---------------------------------------------------------------

STATE_CONFLICT = Code.STATE_CONFLICT


class Conflict(ApiError):
    """HTTP 409: the submission is not in a state that allows this."""

    @property
    def status(self) -> int:
        return 409


def cancel(*, db: Database, user: User, submission_id: int) -> None:
    """Owner or organiser: queued -> cancelled at once; a running attempt is stopped by
    the dispatcher within seconds (its process and the engine tree)."""
    from podium.platform.dispatch import service as dispatch

    with db.locked() as session:
        sub = get_visible(session=session, user=user, submission_id=submission_id)
        if sub.state.is_final:
            raise Conflict(STATE_CONFLICT, f"submission {sub.id} is already {sub.state}", "only a queued or running submission can be cancelled")
        dispatch.cancel(session=session, sub=sub, by=user.name)


def rerun(*, db: Database, user: User, submission_id: int) -> None:
    """Organiser: queue the submission again as a new attempt (a running one is superseded)."""
    from podium.platform.dispatch import service as dispatch

    if not user.is_organiser:
        get_visible_in(db, user, submission_id)  # 404 for someone else's
        raise ApiError(Code.FORBIDDEN, "only organisers can rerun a submission", "ask the organisers")
    with db.locked() as session:
        sub = get_visible(session=session, user=user, submission_id=submission_id)
        if sub.state is State.REJECTED:
            raise Conflict(STATE_CONFLICT, f"submission {sub.id} was rejected at admission", "a rejected submission cannot run; submit again")
        dispatch.rerun(session=session, sub=sub, by=user.name)


def get_visible_in(db: Database, user: User, submission_id: int) -> None:
    with db.session() as session:
        get_visible(session=session, user=user, submission_id=submission_id)


def read_logs(*, db: Database, data_dir: Any, user: User, submission_id: int, offset: int) -> dict[str, Any]:
    """The participant's log (hidden-split material left out) or, for organisers, the full one."""
    from podium.platform.workers import logs

    with db.session() as session:
        sub = get_visible(session=session, user=user, submission_id=submission_id)
        final = sub.state.is_final
    text, next_offset, size = logs.read(data_dir, submission_id, full=user.is_organiser, offset=offset)
    return {"text": text, "next_offset": next_offset, "done": final and next_offset >= size}


# -- reads ----------------------------------------------------------------------------


def queue_position(*, session: Session, submission_id: int) -> int | None:
    """1 for the next queued submission to run; None when it is not queued."""
    state = session.scalar(select(Submission.state).where(Submission.id == submission_id))
    if state is not State.QUEUED:
        return None
    ahead = session.scalar(
        select(func.count()).where(Submission.state == State.QUEUED, Submission.id < submission_id)
    )
    return int(ahead or 0) + 1


def get_visible(*, session: Session, user: User, submission_id: int) -> Submission:
    """The submission if ``user`` owns it or is an organiser; else NOT_FOUND (a
    participant does not learn that someone else's submission exists)."""
    sub = session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(selectinload(Submission.events))
    )
    if sub is None or (sub.owner_id != user.id and not user.is_organiser):
        raise not_found("submission", submission_id)
    return sub


def list_visible(*, session: Session, user: User, challenge: str | None = None, limit: int = 100) -> list[Submission]:
    query = select(Submission).options(selectinload(Submission.events)).order_by(Submission.id.desc())
    if not user.is_organiser:
        query = query.where(Submission.owner_id == user.id)
    if challenge is not None:
        query = query.join(Challenge).where(Challenge.name == challenge)
    return list(session.scalars(query.limit(limit)))


def report_public(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """What anyone who may see the submission may see of its stored report: the public
    split's scores, the request statistics and the stage timings (nothing computed on
    the private split's samples alone)."""
    if not report:
        return None
    public_only = report.get("primary_split", "public") == "public"
    return {
        "primary_metric": report.get("primary_metric"),
        "primary_split": "public",
        "primary_value": (report.get("primary_by_split") or {}).get(
            "public", report.get("primary_value") if public_only else None
        ),
        "metrics": {"public": (report.get("metrics") or {}).get("public", {})},
        "counts": {"public": (report.get("counts") or {}).get("public")},
        "requests": report.get("requests") or {},
        "stage_timings": report.get("stage_timings") or {},
    }


def to_public(session: Session, sub: Submission) -> dict[str, Any]:
    error_out = (
        {"code": sub.error_code, "message": sub.error_message or "", "hint": sub.error_hint or ""}
        if sub.error_code
        else None
    )
    return {
        "id": sub.id,
        "challenge": sub.challenge.name,
        "owner": sub.owner.name,
        "state": str(sub.state),
        "hf_repo": sub.hf_repo,
        "requested_revision": sub.requested_revision,
        "pinned_commit": sub.pinned_commit,
        "model_type": sub.model_type,
        "spec": sub.spec,
        "findings": sub.findings or [],
        "error": error_out,
        "attempts": sub.attempts,
        "counted_against_quota": sub.counted_against_quota,
        "queue_position": queue_position(session=session, submission_id=sub.id),
        "score": sub.score_public,
        "report": report_public(sub.report),
        "progress": (
            {"done": sub.progress_done, "total": sub.progress_total}
            if sub.progress_total is not None
            else None
        ),
        "created_at": sub.created_at,
        "updated_at": sub.updated_at,
        "events": [{"state": str(e.state), "at": e.at, "detail": e.detail} for e in sub.events],
    }


__all__ = ["Admitted", "Rejected", "admit", "record_score", "set_state", "status_for"]
