"""Challenges: stored as their YAML text, validated with podium.evaluate.challenge."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from podium.errors import Code, EvalError
from podium.evaluate.challenge import Challenge as ChallengeDef
from podium.evaluate.challenge import challenge_from_dict, load_challenge
from podium.platform.models import Challenge


def add_or_update(*, session: Session, path: Path) -> tuple[Challenge, bool]:
    """Add the challenge in ``path`` (a YAML file or a folder holding challenge.yaml), or
    update the one of that name. Returns the row and whether it is new."""
    path = Path(path)
    if path.is_dir():
        path = path / "challenge.yaml"
    parsed = load_challenge(path)  # raises CHALLENGE_INVALID with the field in question
    text = path.read_text(encoding="utf-8")
    row = get_challenge(session=session, name=parsed.name)
    created = row is None
    if row is None:
        row = Challenge(name=parsed.name)
        session.add(row)
    row.title = parsed.title
    row.target = parsed.target
    row.yaml_text = text
    row.source_path = str(path.resolve())
    row.primary_metric = parsed.evaluation.primary_metric
    row.reveal_private_at = parsed.reveal_private_at
    session.flush()
    return row, created


def get_challenge(*, session: Session, name: str) -> Challenge | None:
    return session.scalar(select(Challenge).where(Challenge.name == name))


def list_challenges(*, session: Session) -> list[Challenge]:
    return list(session.scalars(select(Challenge).order_by(Challenge.name)))


def definition(row: Challenge) -> ChallengeDef:
    """The validated challenge of a row (cached per stored text)."""
    return _parse(row.yaml_text, row.source_path)


@functools.lru_cache(maxsize=64)
def _parse(text: str, source_path: str | None) -> ChallengeDef:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # stored text was valid when added; be safe anyway
        raise EvalError(f"stored challenge is not valid YAML: {exc}", code=Code.CHALLENGE_INVALID) from None
    return challenge_from_dict(data, path=Path(source_path) if source_path else None)


def to_public(row: Challenge) -> dict[str, Any]:
    d = definition(row)
    return {
        "name": row.name,
        "title": row.title,
        "description": d.description,
        "target": row.target,
        "primary_metric": row.primary_metric,
        "quotas": d.quotas.model_dump(),
        "reveal_private_at": row.reveal_private_at,
        "extra_keys": [k.name for k in d.extra_keys],
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
