"""Quotas per challenge: submissions per window (rolling 24 h, or daily with a reset
hour in UTC), an allowance of failed submissions that do not count, a limit on
submissions in flight. Rejected-at-admission submissions and failures caused by the
platform are never counted (``counted_against_quota`` is false for them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podium.errors import Code
from podium.evaluate.challenge import Quotas
from podium.platform.errors import ApiError
from podium.platform.models import IN_FLIGHT_STATES, State, Submission

DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class QuotaStatus:
    limit: int
    used: int
    window: str
    window_start: dt.datetime
    resets_at: dt.datetime
    in_flight: int
    max_in_flight: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def to_dict(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "window": self.window,
            "resets_at": _iso(self.resets_at),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }


def window_start(quotas: Quotas, now: dt.datetime) -> dt.datetime:
    if quotas.window == "rolling_24h":
        return now - DAY
    start = now.replace(hour=quotas.reset_hour_utc, minute=0, second=0, microsecond=0)
    return start if start <= now else start - DAY


def quota_status(
    *, session: Session, user_id: int, challenge_id: int, quotas: Quotas, now: dt.datetime
) -> QuotaStatus:
    start = window_start(quotas, now)
    counted = (
        Submission.owner_id == user_id,
        Submission.challenge_id == challenge_id,
        Submission.counted_against_quota.is_(True),
        Submission.created_at >= start,
    )
    rows = session.execute(
        select(Submission.state, func.count(), func.min(Submission.created_at))
        .where(*counted)
        .group_by(Submission.state)
    ).all()
    failed = sum(n for state, n, _ in rows if state is State.FAILED)
    others = sum(n for state, n, _ in rows if state is not State.FAILED)
    used = others + max(0, failed - quotas.failed_allowance)
    in_flight = session.scalar(
        select(func.count()).where(
            Submission.owner_id == user_id,
            Submission.challenge_id == challenge_id,
            Submission.state.in_(IN_FLIGHT_STATES),
        )
    )
    if quotas.window == "rolling_24h":
        oldest = [first for _, _, first in rows if first is not None]
        resets_at = (min(oldest) + DAY) if oldest else now
    else:
        resets_at = start + DAY
    return QuotaStatus(
        limit=quotas.submissions,
        used=used,
        window=quotas.window,
        window_start=start,
        resets_at=resets_at,
        in_flight=int(in_flight or 0),
        max_in_flight=quotas.max_in_flight,
    )


def enforce(status: QuotaStatus, challenge: str) -> None:
    """Raise QUOTA_EXCEEDED (HTTP 429) when one more submission is not allowed."""
    if status.remaining <= 0:
        raise ApiError(
            Code.QUOTA_EXCEEDED,
            f"you have used your {status.limit} submissions to challenge '{challenge}' in this "
            f"{'24-hour' if status.window == 'rolling_24h' else 'daily'} window: 0 remain",
            f"you can submit again at {_iso(status.resets_at)} (UTC); rejected submissions "
            "and failures caused by the platform do not count",
            quota=status.to_dict(),
        )
    if status.in_flight >= status.max_in_flight:
        raise ApiError(
            Code.QUOTA_EXCEEDED,
            f"you have {status.in_flight} submission{'s' if status.in_flight != 1 else ''} to "
            f"challenge '{challenge}' in flight (at most {status.max_in_flight}); "
            f"{status.remaining} of {status.limit} remain in this window",
            "wait for one to finish, or cancel it, then submit again",
            quota=status.to_dict(),
        )


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
