"""What crosses the wire for submissions. No response model has a field that could carry
the participant's Hugging Face token: it is read from the request and sealed at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TypedSpec(BaseModel):
    """The typed form of a submission (``SubmissionSpec.to_dict()`` without ``given``)."""

    model_config = ConfigDict(extra="forbid")

    hf_repo: str
    hf_repo_tag: str | None = None
    neuron_model_type: str | None = None
    vllm: dict[str, Any] = Field(default_factory=dict)
    vllm_env: dict[str, Any] = Field(default_factory=dict)
    inference: dict[str, Any] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)

    def flat(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hf-repo": self.hf_repo}
        if self.hf_repo_tag is not None:
            out["hf-repo-tag"] = self.hf_repo_tag
        if self.neuron_model_type is not None:
            out["neuron.model-type"] = self.neuron_model_type
        for prefix, values in (
            ("vllm", self.vllm),
            ("vllm-env", self.vllm_env),
            ("vllm-inference", self.inference),
        ):
            out.update({f"{prefix}.{k}": v for k, v in values.items()})
        out.update(self.extras)
        return out


class ErrorPublic(BaseModel):
    code: str
    message: str
    hint: str = ""


class EventPublic(BaseModel):
    state: str
    at: dt.datetime
    detail: str = ""


class SubmissionCreated(BaseModel):
    ok: bool = True
    id: int
    state: str
    queue_position: int | None
    hf_repo: str
    requested_revision: str
    pinned_commit: str
    findings: list[dict[str, str]]


class SubmissionPublic(BaseModel):
    id: int
    challenge: str
    owner: str
    state: str
    hf_repo: str | None
    requested_revision: str | None
    pinned_commit: str | None
    model_type: str | None
    spec: dict[str, Any] | None
    findings: list[dict[str, str]]
    error: ErrorPublic | None
    attempts: int
    counted_against_quota: bool
    queue_position: int | None
    score: float | None
    # the public part of the report (scores, request statistics, stage timings) once scored
    report: dict[str, Any] | None = None
    progress: dict[str, int | None] | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    events: list[EventPublic]


class LogsPublic(BaseModel):
    text: str
    next_offset: int
    done: bool  # the submission ended and everything was read


class Ok(BaseModel):
    ok: bool = True
    id: int
    state: str
