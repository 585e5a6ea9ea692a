from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class LeaderboardRow(BaseModel):
    rank: int
    participant: str
    submission_id: int
    hf_repo: str | None
    pinned_commit: str | None
    model_type: str | None
    flags: dict[str, Any]
    metric: str
    score: float | None
    tokens_per_s: float | None
    submitted_at: dt.datetime


class LeaderboardPublic(BaseModel):
    challenge: str
    split: str
    rows: list[LeaderboardRow]
