from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse

from podium.platform.deps import BoxDep, CurrentUser, DbDep, SessionDep
from podium.platform.submissions import service
from podium.platform.submissions.schemas import LogsPublic, Ok, SubmissionCreated, SubmissionPublic

router = APIRouter(prefix="/api", tags=["submissions"])

FLAT_EXAMPLE = {
    "hf_repo": "org/name",
    "hf_repo_tag": "v1",
    "neuron.model_type": "llama",
    "vllm.max_model_len": "4096",
}


@router.post(
    "/challenges/{name}/submissions",
    status_code=201,
    response_model=SubmissionCreated,
    responses={422: {"description": "rejected: findings"}, 429: {"description": "QUOTA_EXCEEDED"}},
)
def submit(
    name: str,
    user: CurrentUser,
    db: DbDep,
    box: BoxDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="Either {\"spec\": {typed spec}} or the flat key/value form; "
            "optionally \"hf_token\" for a gated or private repository (never returned).",
            examples=[FLAT_EXAMPLE],
        ),
    ],
) -> Any:
    admitted = service.admit(db=db, box=box, user=user, challenge_name=name, body=body)
    sub = admitted.submission
    content = SubmissionCreated(
        id=sub.id,
        state=str(sub.state),
        queue_position=admitted.queue_position,
        hf_repo=sub.hf_repo or "",
        requested_revision=sub.requested_revision or "",
        pinned_commit=sub.pinned_commit or "",
        findings=admitted.findings,
    )
    return JSONResponse(content.model_dump(mode="json"), status_code=201)


@router.get("/submissions", response_model=list[SubmissionPublic])
def list_submissions(session: SessionDep, user: CurrentUser, challenge: str | None = None) -> list[dict]:
    subs = service.list_visible(session=session, user=user, challenge=challenge)
    return [service.to_public(session, s) for s in subs]


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic)
def get_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> dict:
    return service.to_public(session, service.get_visible(session=session, user=user, submission_id=submission_id))


def _wake(request: Request) -> None:
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


def _state(db, submission_id: int) -> str:
    from podium.platform.models import Submission

    with db.session() as session:
        return str(session.get(Submission, submission_id).state)


@router.post("/submissions/{submission_id}/cancel", response_model=Ok, responses={409: {"description": "already finished"}})
def cancel_submission(submission_id: int, request: Request, db: DbDep, user: CurrentUser) -> Ok:
    service.cancel(db=db, user=user, submission_id=submission_id)
    _wake(request)
    return Ok(id=submission_id, state=_state(db, submission_id))


@router.post("/submissions/{submission_id}/rerun", response_model=Ok, responses={403: {"description": "organisers only"}})
def rerun_submission(submission_id: int, request: Request, db: DbDep, user: CurrentUser) -> Ok:
    service.rerun(db=db, user=user, submission_id=submission_id)
    _wake(request)
    return Ok(id=submission_id, state=_state(db, submission_id))


@router.get("/submissions/{submission_id}/logs", response_model=LogsPublic)
def submission_logs(
    submission_id: int, request: Request, db: DbDep, user: CurrentUser, offset: Annotated[int, Query(ge=0)] = 0
) -> dict:
    return service.read_logs(db=db, data_dir=request.app.state.settings.data_dir, user=user,
                             submission_id=submission_id, offset=offset)
