"""Page routes. Every page is the same for everyone: it holds no data and needs no
authentication; its script reads the JSON API with the user's token (``Authorization:
Bearer``, kept in the browser's localStorage by /login), so what a page shows is what
the API lets that token see."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)


# The pages keep an API token in localStorage, so a script injected into one could take
# it: the pages load only their own script and stylesheet (no inline script or style
# attribute, no other origin), cannot be framed, and send no Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _page(request: Request, template: str, page: str, **context: object) -> HTMLResponse:
    version = request.app.version
    response = templates.TemplateResponse(request, template, {"page": page, "version": version, **context})
    response.headers.update(PAGE_HEADERS)
    return response


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return _page(request, "index.html", "challenges")


@router.get("/login", response_class=HTMLResponse)
def login(request: Request) -> HTMLResponse:
    return _page(request, "login.html", "login")


@router.get("/challenges/{name}/leaderboard", response_class=HTMLResponse)
def leaderboard(request: Request, name: str) -> HTMLResponse:
    return _page(request, "leaderboard.html", "leaderboard", challenge=name)


@router.get("/submissions", response_class=HTMLResponse)
def submissions(request: Request) -> HTMLResponse:
    return _page(request, "submissions.html", "submissions")


@router.get("/submissions/{submission_id}", response_class=HTMLResponse)
def submission(request: Request, submission_id: int) -> HTMLResponse:
    return _page(request, "submission.html", "submission", submission_id=submission_id)


@router.get("/admin/queue", response_class=HTMLResponse)
def admin_queue(request: Request) -> HTMLResponse:
    return _page(request, "admin_queue.html", "queue")


def install(app: FastAPI) -> None:
    """Mount the pages and /static on ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
