"""Routes for the execute process, ``/api/attempts/{attempt_id}/...``. Authenticated
ONLY by that attempt's credential (``Authorization: Bearer pat_...``): an API token of
any user, organisers included, is refused. 409 ATTEMPT_SUPERSEDED tells the worker to stop."""

from __future__ import annotations

from fastapi import APIRouter, Request

from podium.platform.deps import BoxDep, DbDep, _bearer
from podium.platform.models import State
from podium.platform.workers import service
from podium.platform.workers.schemas import (
    Ack,
    FailureIn,
    JobPublic,
    LogIn,
    ProgressIn,
    ReportIn,
    StateIn,
)

router = APIRouter(prefix="/api/attempts", tags=["workers"])
CONFLICT = {409: {"description": "ATTEMPT_SUPERSEDED: this attempt no longer counts; stop"}}


def _ack(state: str) -> Ack:
    return Ack(state=state, cancel=State(state).is_final)


@router.get("/{attempt_id}/job", response_model=JobPublic, responses=CONFLICT)
def get_job(attempt_id: int, request: Request, db: DbDep, box: BoxDep) -> JobPublic:
    interval = request.app.state.dispatch_settings.heartbeat_interval_s
    with db.session() as session:
        attempt = service.authenticate(session=session, attempt_id=attempt_id, token=_bearer(request))
        return service.job(session=session, box=box, attempt=attempt, heartbeat_interval_s=interval)


@router.post("/{attempt_id}/heartbeat", response_model=Ack, responses=CONFLICT)
def heartbeat(attempt_id: int, request: Request, db: DbDep) -> Ack:
    return _ack(service.heartbeat(db=db, attempt_id=attempt_id, token=_bearer(request)))


@router.post("/{attempt_id}/state", response_model=Ack, responses=CONFLICT)
def post_state(attempt_id: int, body: StateIn, request: Request, db: DbDep) -> Ack:
    return _ack(service.move(db=db, attempt_id=attempt_id, token=_bearer(request), state=State(body.state), detail=body.detail))


@router.post("/{attempt_id}/progress", response_model=Ack, responses=CONFLICT)
def post_progress(attempt_id: int, body: ProgressIn, request: Request, db: DbDep) -> Ack:
    return _ack(service.progress(db=db, attempt_id=attempt_id, token=_bearer(request), done=body.done, total=body.total))


@router.post("/{attempt_id}/logs", response_model=Ack, responses=CONFLICT)
def post_logs(attempt_id: int, body: LogIn, request: Request, db: DbDep) -> Ack:
    data_dir = request.app.state.settings.data_dir
    return _ack(service.append_log(db=db, data_dir=data_dir, attempt_id=attempt_id, token=_bearer(request),
                                   stream=body.stream, text=body.text, private=body.private))


@router.post("/{attempt_id}/report", response_model=Ack, responses=CONFLICT)
def post_report(attempt_id: int, body: ReportIn, request: Request, db: DbDep) -> Ack:
    return _ack(service.report(db=db, attempt_id=attempt_id, token=_bearer(request), report_dict=body.report))


@router.post("/{attempt_id}/failure", response_model=Ack, responses=CONFLICT)
def post_failure(attempt_id: int, body: FailureIn, request: Request, db: DbDep) -> Ack:
    return _ack(service.failure(db=db, attempt_id=attempt_id, token=_bearer(request), body=body))
