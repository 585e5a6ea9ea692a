from __future__ import annotations

from fastapi import APIRouter, Request

from podium.platform.admin import service
from podium.platform.admin.schemas import QueuePublic
from podium.platform.deps import CurrentUser, SessionDep
from podium.platform.errors import FORBIDDEN, ApiError

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/queue", response_model=QueuePublic, responses={403: {"description": "organisers only"}})
def queue(request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Per target: slots, running attempts, queued submissions; every submission in
    flight and every open attempt. Organisers only."""
    if not user.is_organiser:
        raise ApiError(FORBIDDEN, "only organisers can see the queue", "log in with an organiser's API token")
    dispatcher = getattr(request.app.state, "dispatcher", None)
    executor = getattr(getattr(dispatcher, "executor", None), "name", None) if dispatcher else None
    return service.overview(session=session, settings=request.app.state.dispatch_settings, executor=executor)
