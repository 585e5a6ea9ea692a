from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from podium.platform.challenges import service
from podium.platform.challenges.schemas import ChallengePublic
from podium.platform.deps import OptionalUser, SessionDep
from podium.platform.errors import not_found
from podium.platform.leaderboard import service as boards
from podium.platform.leaderboard.schemas import LeaderboardPublic

router = APIRouter(prefix="/api/challenges", tags=["challenges"])


@router.get("", response_model=list[ChallengePublic])
def list_challenges(session: SessionDep, user: OptionalUser) -> list[dict]:
    return [service.to_public(row) for row in service.list_challenges(session=session)]


@router.get("/{name}/leaderboard", response_model=LeaderboardPublic)
def leaderboard(
    name: str,
    session: SessionDep,
    user: OptionalUser,
    split: Literal["public", "private"] = Query("public"),
) -> dict:
    row = service.get_challenge(session=session, name=name)
    if row is None:
        raise not_found("challenge", name)
    rows = boards.leaderboard(session=session, challenge=row, user=user, split=split)
    return {"challenge": name, "split": split, "rows": rows}
