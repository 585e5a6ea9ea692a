"""``Annotated`` dependencies: the database session, the current user from
``Authorization: Bearer <token>``, the token box."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
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


# One semaphore per event loop (a TestClient runs the app in a loop of its own).
_SESSION_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _session_slots(db: Database) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SESSION_SLOTS.get(loop)
    if slots is None:
        # fewer than the pool's connections, so that the short sessions of optional_user
        # and of the DbDep routes always find one
        slots = _SESSION_SLOTS[loop] = asyncio.Semaphore(max(1, db.request_sessions))
    return slots


async def get_session(db: Annotated[Database, Depends(get_db)]) -> AsyncIterator[Session]:
    """A session for the request, closed after the response is sent.

    Its connection is held from the route's first query until then, and between the two
    FastAPI validates the response in the threadpool: when every pool connection was
    held by such requests waiting for a thread, and every thread by a request waiting
    for a connection, nothing moved until the pool's 30 s timeout (200 clients polling
    at once: no answer, then 500s). So at most ``db.request_sessions`` requests (fewer
    than the pool's connections) hold such a session at a time; the others wait here, in
    the event loop, holding neither a thread nor a connection."""
    async with _session_slots(db):
        session = db.session()
        try:
            yield session
        finally:
            # off the event loop (a rollback is a round trip), on a thread of its own as
            # FastAPI does for the exit of sync dependencies
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


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
