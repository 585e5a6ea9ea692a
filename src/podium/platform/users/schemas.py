from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from podium.platform.models import Role


class UserCreate(BaseModel):
    name: str
    role: Role = Role.PARTICIPANT


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    created_at: dt.datetime
