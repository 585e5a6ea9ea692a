"""The tables. The database is the source of truth and the queue."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    ORGANISER = "organiser"


class State(enum.StrEnum):
    REJECTED = "rejected"
    QUEUED = "queued"
    RESOLVING = "resolving"
    COMPILING = "compiling"
    STARTING = "starting"
    EVALUATING = "evaluating"
    SCORED = "scored"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({State.REJECTED, State.SCORED, State.FAILED, State.CANCELLED})
IN_FLIGHT_STATES = frozenset(
    {State.QUEUED, State.RESOLVING, State.COMPILING, State.STARTING, State.EVALUATING}
)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.PARTICIPANT)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_organiser(self) -> bool:
        return self.role is Role.ORGANISER


class ApiToken(Base):
    """An API token: only its sha256 is kept; ``prefix`` (its first characters) finds it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="tokens")


class Challenge(Base):
    """A challenge as added by an organiser: its YAML text and the fields the platform
    queries (target, reveal time); everything else is read from the parsed YAML."""

    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(100))
    yaml_text: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str | None] = mapped_column(Text, default=None)
    primary_metric: Mapped[str] = mapped_column(String(100))
    reveal_private_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_owner_challenge_created", "owner_id", "challenge_id", "created_at"),
        Index("ix_submissions_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    hf_repo: Mapped[str | None] = mapped_column(String(300), default=None)
    requested_revision: Mapped[str | None] = mapped_column(String(300), default=None)
    pinned_commit: Mapped[str | None] = mapped_column(String(64), default=None)
    model_type: Mapped[str | None] = mapped_column(String(100), default=None)
    state: Mapped[State] = mapped_column(_enum(State, "state"))
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    error_hint: Mapped[str | None] = mapped_column(Text, default=None)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    counted_against_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_fault: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    score_public: Mapped[float | None] = mapped_column(Float, default=None)
    score_private: Mapped[float | None] = mapped_column(Float, default=None)
    tokens_per_s: Mapped[float | None] = mapped_column(Float, default=None)
    # the attempt whose reports count (any other attempt's report is refused: 409);
    # None while queued and not yet claimed by the dispatcher
    current_attempt_id: Mapped[int | None] = mapped_column(Integer, default=None)
    progress_done: Mapped[int | None] = mapped_column(Integer, default=None)
    progress_total: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship()
    challenge: Mapped[Challenge] = relationship()
    events: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id", cascade="all, delete-orphan"
    )


class SubmissionEvent(Base):
    """One timestamped state transition."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[State] = mapped_column(_enum(State, "state"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="events")


class SubmissionAttempt(Base):
    """One run of ``podium execute`` for a submission: its credential (sha256 only), the
    executor and its handle (local: pid + start time), heartbeats and how it ended."""

    __tablename__ = "submission_attempts"
    __table_args__ = (Index("ix_submission_attempts_open", "finished_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    executor: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100))
    handle: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # scored | failed | lost | cancelled | superseded
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)

    submission: Mapped[Submission] = relationship()


class SecretToken(Base):
    """A submission's Hugging Face token, Fernet-encrypted; deleted when it ends."""

    __tablename__ = "secret_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
