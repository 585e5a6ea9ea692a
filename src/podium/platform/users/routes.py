from __future__ import annotations

from fastapi import APIRouter

from podium.platform.deps import CurrentUser
from podium.platform.users.schemas import UserPublic

router = APIRouter(prefix="/api", tags=["users"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
