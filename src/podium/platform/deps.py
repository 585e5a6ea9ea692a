"""``Annotated`` dependencies: the database session, the current user from
``Authorization: Bearer <token>``, the token box."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from podium.platform.db import Database
from podium.platform.errors import NOT_AUTHENTICATED, ApiError
from podium.platform.models import User
from podium.platform.security import TokenBox
from podium.platform.users import service as users


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_box(request: Request) -> TokenBox:
    return request.app.state.box


def get_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


DbDep = Annotated[Database, Depends(get_db)]
BoxDep = Annotated[TokenBox, Depends(get_box)]
SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_user(request: Request, db: DbDep) -> User | None:
    """The user of the bearer token, looked up in a short session of its own (so a long
    request such as an admission holds no connection for it)."""
    token = _bearer(request)
    if token is None:
        return None
    with db.session() as session:
        user = users.user_for_token(session=session, token=token)
        if user is not None:
            session.expunge(user)
    if user is None:
        raise ApiError(NOT_AUTHENTICATED, "this API token is not valid", "ask the organisers for a token, then 'podium login'")
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise ApiError(
            NOT_AUTHENTICATED,
            "this request needs an API token",
            "send the header 'Authorization: Bearer <token>' (podium login keeps it for you)",
        )
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
