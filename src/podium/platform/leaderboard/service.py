"""The leaderboard: the best scored submission of each participant, ties broken by the
earlier submission. The private split is for organisers until the challenge's
``reveal_private_at``, then for everyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from podium.platform.errors import FORBIDDEN, ApiError
from podium.platform.models import Challenge, State, Submission, User, utcnow

SPLITS = ("public", "private")


def private_visible(challenge: Challenge, user: User | None, now: dt.datetime) -> bool:
    if user is not None and user.is_organiser:
        return True
    return challenge.reveal_private_at is not None and now >= challenge.reveal_private_at


def leaderboard(
    *, session: Session, challenge: Challenge, user: User | None, split: str = "public", now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    now = now or utcnow()
    if split == "private" and not private_visible(challenge, user, now):
        raise ApiError(
            FORBIDDEN,
            f"the private split of challenge '{challenge.name}' is not revealed yet",
            "see the public split until the organisers reveal it"
            + (f" at {challenge.reveal_private_at.isoformat()}" if challenge.reveal_private_at else ""),
        )
    column = Submission.score_public if split == "public" else Submission.score_private
    rows = session.scalars(
        select(Submission)
        .where(
            Submission.challenge_id == challenge.id,
            Submission.state == State.SCORED,
            column.is_not(None),
        )
        .options(joinedload(Submission.owner))
        .order_by(column.desc(), Submission.created_at, Submission.id)
    ).all()
    best: dict[int, Submission] = {}
    for sub in rows:  # ordered best first: the first row of each owner is their best
        best.setdefault(sub.owner_id, sub)
    out = []
    for rank, sub in enumerate(best.values(), start=1):
        spec = sub.spec or {}
        out.append(
            {
                "rank": rank,
                "participant": sub.owner.name,
                "submission_id": sub.id,
                "hf_repo": sub.hf_repo,
                "pinned_commit": sub.pinned_commit,
                "model_type": sub.model_type,
                "flags": {f"vllm.{k}": v for k, v in (spec.get("vllm") or {}).items()},
                "metric": challenge.primary_metric,
                "score": sub.score_public if split == "public" else sub.score_private,
                "tokens_per_s": sub.tokens_per_s,
                "submitted_at": sub.created_at,
            }
        )
    return out
