from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class TargetCapacity(BaseModel):
    target: str
    slots: int  # attempts that may run at once (PODIUM_SLOTS)
    running: int  # open attempts
    queued: int  # queued and not yet given to an executor
    free: int


class QueuedSubmission(BaseModel):
    id: int
    challenge: str
    owner: str
    target: str
    state: str
    queue_position: int | None
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime


class OpenAttempt(BaseModel):
    id: int
    submission_id: int
    number: int
    executor: str
    target: str
    pid: int | None  # local executor: the execute process
    ray_job: str | None = None  # Ray executor: the job's submission id
    started_at: dt.datetime
    heartbeat_at: dt.datetime | None


class ExecutorUnavailablePublic(BaseModel):
    reason: str  # e.g. "Ray does not answer at http://head:8265: ..."
    since: dt.datetime
    retry_in_s: float  # the dispatcher's next try
    failures: int  # tries that failed in a row


class QueuePublic(BaseModel):
    dispatcher: bool  # False: API only (PODIUM_DISPATCHER=false), nothing is started
    executor: str | None  # where attempts run ("local"), None without a dispatcher
    executor_unavailable: ExecutorUnavailablePublic | None = None  # queued submissions wait meanwhile
    targets: list[TargetCapacity]
    submissions: list[QueuedSubmission]  # in flight (queued or running), oldest first
    attempts: list[OpenAttempt]
