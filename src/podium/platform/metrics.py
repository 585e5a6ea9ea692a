"""``GET /metrics`` in the Prometheus text format, for organisers (their API token).

What comes from the database, computed at each scrape (so it is the same whichever
process scrapes, and survives restarts):

- ``podium_queue_depth{target}``: submissions queued and not yet given to an executor
  (waiting for a slot), for every target a challenge uses (0 included);
- ``podium_jobs{state}``: submissions in each state (every state, 0 included);
- ``podium_stage_duration_seconds{stage}``: a histogram of how long submissions stayed in
  each stage (queued, resolving, compiling, starting, evaluating), one observation per
  *completed* stage: the time from a ``SubmissionEvent`` to the submission's next event.
  Events are only ever appended, so the histogram only grows, like a counter.

What the server process counts (reset when it restarts, as Prometheus counters are):

- ``podium_admissions_rejected_total{code}``: admissions refused, by error code (the
  model's findings, stored as rejected, and the refusals that store nothing:
  ``QUOTA_EXCEEDED``, ``PAYLOAD_INVALID``, ``CHALLENGE_NOT_FOUND``, ...);
- ``podium_attempts_requeued_total``: attempts lost (process gone, silent, never
  started) whose submission was queued again; one lost too often fails instead;
- ``podium_executor_up``: 0 while submissions wait because the dispatcher's executor
  does not take them (a Ray cluster away: nothing counted, retried), else 1; absent
  when the server runs no dispatcher.

The hooks (:func:`counts_rejections`, :func:`attempt_requeued`) are plain counters
under a lock; prometheus_client is imported only to render a scrape, with a registry of
Podium's own (never the global one, which vLLM and others also fill).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from podium.errors import PodiumError
from podium.platform.db import Database
from podium.platform.deps import CurrentUser, DbDep
from podium.platform.errors import FORBIDDEN, ApiError
from podium.platform.models import Challenge, State, Submission, SubmissionEvent

STAGES = (State.QUEUED, State.RESOLVING, State.COMPILING, State.STARTING, State.EVALUATING)
# seconds: resolving takes seconds, a Neuron compile or a long queue hours
BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0)

# -- the counters (the server process's own) ------------------------------------------

_lock = threading.Lock()
_rejected: dict[str, int] = {}
_requeued = 0

P = ParamSpec("P")
R = TypeVar("R")


def admission_rejected(code: str) -> None:
    with _lock:
        _rejected[str(code)] = _rejected.get(str(code), 0) + 1


def attempt_requeued() -> None:
    global _requeued
    with _lock:
        _requeued += 1


def counts_rejections(admit: Callable[P, R]) -> Callable[P, R]:
    """Wrap the admission: every refusal it raises (an API error or a Podium error, each
    with its code) counts once under that code, then goes on to the caller."""

    @functools.wraps(admit)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return admit(*args, **kwargs)
        except (ApiError, PodiumError) as exc:
            admission_rejected(str(exc.code))
            raise

    return wrapper


def counters() -> tuple[dict[str, int], int]:
    with _lock:
        return dict(_rejected), _requeued


def reset_counters() -> None:
    """For tests: the counters live as long as the process."""
    global _requeued
    with _lock:
        _rejected.clear()
        _requeued = 0


# -- what the database says, at scrape time -------------------------------------------


def queue_depth(db: Database) -> dict[str, int]:
    from podium.platform.dispatch.service import waiting_by_target  # it imports this module

    with db.session() as session:
        depth = dict.fromkeys(session.scalars(select(Challenge.target).distinct()), 0)
        depth.update(waiting_by_target(session=session))
    return depth


def jobs_by_state(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Submission.state, func.count()).group_by(Submission.state)).all()
    counts = {str(s): 0 for s in State}
    counts.update({str(state): int(n) for state, n in rows})
    return counts


def stage_durations(db: Database) -> dict[str, list[float]]:
    """Seconds spent in each completed stage: an event to the same submission's next."""
    out: dict[str, list[float]] = {str(s): [] for s in STAGES}
    prev: tuple[int, State, dt.datetime] | None = None
    with db.session() as session:
        rows = session.execute(
            select(SubmissionEvent.submission_id, SubmissionEvent.state, SubmissionEvent.at)
            .order_by(SubmissionEvent.submission_id, SubmissionEvent.id)
            .execution_options(yield_per=2000)
        )
        for sid, state, at in rows:
            if prev is not None and prev[0] == sid and prev[1] in STAGES:
                out[str(prev[1])].append(max(0.0, (at - prev[2]).total_seconds()))
            prev = (sid, State(state), at)
    return out


def _histogram(values: list[float]) -> tuple[list[tuple[str, float]], float]:
    buckets = [(repr(b), float(sum(1 for v in values if v <= b))) for b in BUCKETS]
    return [*buckets, ("+Inf", float(len(values)))], float(sum(values))


class PodiumCollector:
    """One scrape: every family, read from the database and the counters."""

    def __init__(self, db: Database, executor_up: bool | None = None) -> None:
        self.db = db
        self.executor_up = executor_up  # None: no dispatcher in this process

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        depth = GaugeMetricFamily(
            "podium_queue_depth", "Submissions queued and waiting for a slot, by target.", labels=["target"]
        )
        for target, n in sorted(queue_depth(self.db).items()):
            depth.add_metric([target], n)
        yield depth

        jobs = GaugeMetricFamily("podium_jobs", "Submissions by state.", labels=["state"])
        for state, n in jobs_by_state(self.db).items():
            jobs.add_metric([state], n)
        yield jobs

        stages = HistogramMetricFamily(
            "podium_stage_duration_seconds",
            "Time submissions spent in each completed stage (from their timestamped events).",
            labels=["stage"],
        )
        for stage, values in stage_durations(self.db).items():
            buckets, total = _histogram(values)
            stages.add_metric([stage], buckets, total)
        yield stages

        rejected, requeued = counters()
        refused = CounterMetricFamily(
            "podium_admissions_rejected",
            "Admissions refused by this server process, by error code.",
            labels=["code"],
        )
        for code, n in sorted(rejected.items()):
            refused.add_metric([code], n)
        yield refused
        yield CounterMetricFamily(
            "podium_attempts_requeued",
            "Lost attempts whose submission was queued again, by this server process.",
            value=requeued,
        )
        if self.executor_up is not None:
            yield GaugeMetricFamily(
                "podium_executor_up",
                "0 while submissions wait because the dispatcher's executor cannot start them (e.g. Ray away), else 1.",
                value=int(self.executor_up),
            )


# The classic text format, which every Prometheus version reads (every name here is a
# legacy name, so the body is the same in the newer 1.0.0 text format).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(db: Database, executor_up: bool | None = None) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PodiumCollector(db, executor_up))
    return generate_latest(registry)


router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request, user: CurrentUser, db: DbDep) -> Response:
    """Prometheus text format; an organiser's API token (``Authorization: Bearer``)."""
    if not user.is_organiser:
        raise ApiError(FORBIDDEN, "only organisers can read /metrics", "scrape with an organiser's API token")
    dispatcher = getattr(request.app.state, "dispatcher", None)
    up = None if dispatcher is None else dispatcher.unavailable is None
    return Response(render(db, up), media_type=CONTENT_TYPE)
