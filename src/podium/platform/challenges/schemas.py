from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class QuotasPublic(BaseModel):
    submissions: int
    window: str
    reset_hour_utc: int
    failed_allowance: int
    max_in_flight: int


class ChallengePublic(BaseModel):
    name: str
    title: str
    description: str
    target: str
    primary_metric: str
    quotas: QuotasPublic
    reveal_private_at: dt.datetime | None
    extra_keys: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
