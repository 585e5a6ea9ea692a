"""The FastAPI app: ``create_app(settings)`` migrates the database to head, installs the
log redaction filter and mounts the routers. OpenAPI docs at /docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from podium.errors import PodiumError
from podium.platform.db import Database
from podium.platform.dispatch.settings import DispatchSettings
from podium.platform.errors import PAYLOAD_INVALID, ApiError
from podium.platform.security import TokenBox, install_redaction, register_secret
from podium.platform.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, migrate: bool = True, dispatch: DispatchSettings | None = None
) -> FastAPI:
    install_redaction()
    dispatch = dispatch or DispatchSettings()
    settings = (settings or Settings()).ready()
    register_secret(settings.secret_key)
    db = Database(settings.db_url)
    if migrate:
        db.upgrade()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The dispatcher runs while the app serves (unless PODIUM_DISPATCHER=false)."""
        if dispatch.dispatcher:
            from podium.platform.dispatch.dispatcher import Dispatcher
            from podium.platform.dispatch.executor import make_executor

            executor = make_executor(dispatch, settings.data_dir)
            app.state.dispatcher = Dispatcher(db, executor, dispatch)
            app.state.dispatcher.start()
        try:
            yield
        finally:
            if app.state.dispatcher is not None:
                app.state.dispatcher.stop()
                app.state.dispatcher = None

    app = FastAPI(
        title="Podium",
        description="Submit LLMs to challenges: admission, queue, quotas, leaderboard.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.dispatch_settings = dispatch
    app.state.dispatcher = None
    app.state.db = db
    app.state.box = TokenBox(settings.secret_key or "")

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(PodiumError)
    def _podium_error(request: Request, exc: PodiumError) -> JSONResponse:
        err = ApiError.from_podium(exc)
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = ".".join(str(p) for p in first.get("loc", ()))
        err = ApiError(PAYLOAD_INVALID, f"{loc}: {first.get('msg')}", "fix the request (see /docs)")
        return JSONResponse(err.body(), status_code=err.status)

    from podium.platform.admin.routes import router as admin
    from podium.platform.challenges.routes import router as challenges
    from podium.platform.metrics import router as metrics
    from podium.platform.submissions.routes import router as submissions
    from podium.platform.users.routes import router as users
    from podium.platform.workers.routes import router as workers

    app.include_router(users)
    app.include_router(challenges)
    app.include_router(submissions)
    app.include_router(workers)
    app.include_router(metrics)
    app.include_router(admin)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, bool]:
        return {"ok": True}

    from podium.platform.web.routes import install as install_pages

    install_pages(app)  # the web pages (/, /login, ...) and /static
    return app
