"""What the execute process sends and receives."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class JobPublic(BaseModel):
    """An attempt's work: the spec pinned to its commit, the challenge, the HF token."""

    attempt_id: int
    submission_id: int
    number: int
    spec: dict[str, Any]
    pinned_commit: str | None
    target: str
    challenge_name: str
    challenge_yaml: str
    challenge_path: str | None
    hf_token: str | None = None
    heartbeat_interval_s: float


class StateIn(BaseModel):
    state: Literal["resolving", "compiling", "starting", "evaluating"]
    detail: str = ""


class ProgressIn(BaseModel):
    done: int = Field(ge=0)
    total: int = Field(ge=0)


class LogIn(BaseModel):
    stream: Literal["resolve", "compile", "serve", "evaluate", "worker"]
    text: str = Field(max_length=1_000_000)
    private: bool = False  # hidden-split material: organisers only


class ReportIn(BaseModel):
    report: dict[str, Any]


class FailureIn(BaseModel):
    code: str = Field(max_length=64)
    message: str
    hint: str = ""
    platform_fault: bool = False


class Ack(BaseModel):
    ok: bool = True
    cancel: bool = False  # the attempt should stop: cancelled, superseded or finished
    state: str
