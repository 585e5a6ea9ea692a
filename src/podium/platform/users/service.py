"""Users and their API tokens."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from podium.errors import Code, PodiumError
from podium.platform import security
from podium.platform.models import ApiToken, Role, User, utcnow

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


def create_user(*, session: Session, name: str, role: Role = Role.PARTICIPANT) -> User:
    if not _NAME.match(name):
        raise PodiumError(
            f"invalid user name {name!r}",
            "use letters, digits, '.', '_' or '-' (at most 100 characters)",
            code=Code.FLAG_INVALID,
        )
    if get_user(session=session, name=name) is not None:
        raise PodiumError(f"user {name!r} already exists", "pick another name", code=Code.FLAG_INVALID)
    user = User(name=name, role=Role(role))
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def create_token(*, session: Session, user: User) -> str:
    """A new API token for ``user``; the clear text is returned once and never stored."""
    token = security.new_api_token()
    session.add(
        ApiToken(
            user_id=user.id,
            prefix=security.token_prefix(token),
            sha256=security.token_hash(token),
        )
    )
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    if not token.startswith(security.TOKEN_PREFIX):
        return None
    digest = security.token_hash(token)
    rows = session.scalars(
        select(ApiToken).where(
            ApiToken.prefix == security.token_prefix(token), ApiToken.revoked.is_(False)
        )
    ).all()
    for row in rows:
        if security.same_hash(row.sha256, digest):
            user = row.user
            now = utcnow()
            if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
                user_id = user.id
                _touch(session, row.id, now)
                user = session.get(User, user_id)
            return user
    return None


def _touch(session: Session, token_id: int, now: object) -> None:
    """Best effort, at most once a minute per token, in its own write transaction (a
    read-then-write transaction could not wait for SQLite's lock)."""
    session.rollback()
    try:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.commit()
    except OperationalError:
        session.rollback()
