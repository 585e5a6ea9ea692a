"""The queue as organisers see it: per target the slots, the running attempts and the
queued submissions; every submission in flight; every open attempt."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from podium.platform.dispatch import service as dispatch
from podium.platform.dispatch.settings import DispatchSettings
from podium.platform.models import IN_FLIGHT_STATES, Challenge, State, Submission

if TYPE_CHECKING:
    from podium.platform.dispatch.dispatcher import Unavailable

LIMIT = 500


def overview(
    *, session: Session, settings: DispatchSettings, executor: str | None, unavailable: Unavailable | None = None
) -> dict[str, Any]:
    running = dispatch.running_by_target(session=session)
    waiting = dispatch.waiting_by_target(session=session)
    targets = set(settings.slots) | set(running) | set(waiting)
    targets |= set(session.scalars(select(Challenge.target).distinct()))
    capacity = []
    for target in sorted(targets):
        slots = settings.slots_for(target)
        n = running.get(target, 0)
        capacity.append({"target": target, "slots": slots, "running": n,
                         "queued": waiting.get(target, 0), "free": max(0, slots - n)})

    subs = session.scalars(
        select(Submission)
        .where(Submission.state.in_(IN_FLIGHT_STATES))
        .options(joinedload(Submission.challenge), joinedload(Submission.owner))
        .order_by(Submission.id)
        .limit(LIMIT)
    ).all()
    position = 0
    submissions = []
    for sub in subs:  # queue_position counts every queued submission with a smaller id
        queued = sub.state is State.QUEUED
        if queued:
            position += 1
        submissions.append({
            "id": sub.id, "challenge": sub.challenge.name, "owner": sub.owner.name,
            "target": sub.challenge.target, "state": str(sub.state),
            "queue_position": position if queued else None, "attempts": sub.attempts or 0,
            "created_at": sub.created_at, "updated_at": sub.updated_at,
        })

    attempts = [
        {"id": a.id, "submission_id": a.submission_id, "number": a.number, "executor": a.executor,
         "target": a.target, "pid": (a.handle or {}).get("pid"),
         "ray_job": (a.handle or {}).get("ray_job"), "started_at": a.started_at,
         "heartbeat_at": a.heartbeat_at}
        for a in dispatch.open_attempts(session=session)
    ]
    away = None
    if unavailable is not None:
        away = {"reason": unavailable.reason, "since": dt.datetime.fromtimestamp(unavailable.since, dt.UTC),
                "retry_in_s": round(max(0.0, unavailable.retry_at - time.monotonic()), 1),
                "failures": unavailable.failures}
    return {"dispatcher": executor is not None, "executor": executor, "executor_unavailable": away,
            "targets": capacity, "submissions": submissions, "attempts": attempts}
