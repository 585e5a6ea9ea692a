from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from podium.platform.admin import service
from podium.platform.admin.schemas import QueuePublic
from podium.platform.deps import CurrentUser, SessionDep
from podium.platform.errors import FORBIDDEN, ApiError, not_found
from podium.platform.models import SubmissionAttempt, User

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/queue", response_model=QueuePublic, responses={403: {"description": "organisers only"}})
def queue(request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Per target: slots, running attempts, queued submissions; every submission in
    flight and every open attempt. Organisers only."""
    _organisers_only(user, "see the queue")
    dispatcher = getattr(request.app.state, "dispatcher", None)
    executor = getattr(getattr(dispatcher, "executor", None), "name", None) if dispatcher else None
    return service.overview(session=session, settings=request.app.state.dispatch_settings, executor=executor,
                            unavailable=dispatcher.unavailable if dispatcher else None)


@router.get("/attempts/{attempt_id}/executor-log", response_class=PlainTextResponse,
            responses={403: {"description": "organisers only"}, 404: {"description": "no such attempt"}})
def executor_log(attempt_id: int, request: Request, session: SessionDep, user: CurrentUser) -> str:
    """The attempt's own output as its executor has it (the local process's stdout and
    stderr, or the Ray job's logs): for debugging a worker, not the submission's logs.
    Organisers only."""
    _organisers_only(user, "read an executor's log")
    attempt = session.get(SubmissionAttempt, attempt_id)
    if attempt is None:
        raise not_found("attempt", attempt_id)
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is None or not attempt.handle or attempt.executor != dispatcher.executor.name:
        return f"(no executor log: attempt {attempt_id} ran on the {attempt.executor} executor, not this server's)"
    return dispatcher.executor.logs(attempt.handle)


def _organisers_only(user: User, what: str) -> None:
    if not user.is_organiser:
        raise ApiError(FORBIDDEN, f"only organisers can {what}", "log in with an organiser's API token")
