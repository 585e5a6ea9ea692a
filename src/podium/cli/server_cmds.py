"""``podium server`` and ``podium admin``. FastAPI, SQLAlchemy and uvicorn are imported
inside the commands so that ``podium check`` stays fast."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

admin_app = typer.Typer(help="Organiser commands: users, API tokens, challenges, rerun and cancel.", no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default: $PODIUM_DATA_DIR or ./podium-data).")]


def _settings(data_dir: Path | None):
    from podium.platform.settings import Settings

    if data_dir is not None:
        os.environ["PODIUM_DATA_DIR"] = str(data_dir)
    return Settings().ready()


def _db(data_dir: Path | None):
    from podium.platform.db import Database

    db = Database(_settings(data_dir).db_url)
    db.upgrade()
    return db


def server(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Serve the Podium API (OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from podium.platform.app import create_app

    # The execute processes report back here unless an organiser names another address.
    os.environ.setdefault("PODIUM_SERVER_URL", f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    uvicorn.run(create_app(_settings(data_dir)), host=host, port=port)


@admin_app.command("create-user")
def create_user(
    name: str,
    role: Annotated[str, typer.Option("--role", help="participant or organiser")] = "participant",
    data_dir: DataDir = None,
) -> None:
    from podium.platform.models import Role
    from podium.platform.users import service

    db = _db(data_dir)
    with db.session() as session, session.begin():
        user = service.create_user(session=session, name=name, role=Role(role))
        typer.echo(f"created {user.role} {user.name}")


@admin_app.command("create-token")
def create_token(name: str, data_dir: DataDir = None) -> None:
    """Print a new API token for user NAME (shown once; only its hash is kept)."""
    from podium.errors import Code, PodiumError
    from podium.platform.users import service

    db = _db(data_dir)
    with db.session() as session, session.begin():
        user = service.get_user(session=session, name=name)
        if user is None:
            raise PodiumError(f"no user {name!r}", "create it: podium admin create-user NAME", code=Code.FLAG_INVALID)
        typer.echo(service.create_token(session=session, user=user))


@admin_app.command("add-challenge")
def add_challenge(file: Path, data_dir: DataDir = None) -> None:
    """Add a challenge from its YAML file (or folder), or update the one of that name."""
    from podium.platform.challenges import service

    db = _db(data_dir)
    with db.session() as session, session.begin():
        row, created = service.add_or_update(session=session, path=file)
        typer.echo(f"{'added' if created else 'updated'} challenge {row.name}")


ADMIN_BY = "an organiser (podium admin)"


def _change_submission(data_dir: Path | None, submission_id: int, action: str) -> str:
    """Cancel or rerun submission ``submission_id`` in the data directory's database with
    the dispatch service the API's own routes end in; returns its new state."""
    from podium.errors import Code, PodiumError
    from podium.platform.dispatch import service as dispatch
    from podium.platform.models import State, Submission

    db = _db(data_dir)
    try:
        with db.locked() as session:
            sub = session.get(Submission, submission_id)
            if sub is None:
                raise PodiumError(f"no submission {submission_id}", "list them: podium submissions (as an organiser)",
                                  code=Code.SUBMISSION_NOT_FOUND)
            if action == "cancel":
                if sub.state.is_final:
                    raise PodiumError(f"submission {sub.id} is already {sub.state}",
                                      "only a queued or running submission can be cancelled", code=Code.STATE_CONFLICT)
                dispatch.cancel(session=session, sub=sub, by=ADMIN_BY)
            else:
                if sub.state is State.REJECTED:
                    raise PodiumError(f"submission {sub.id} was rejected at admission",
                                      "a rejected submission cannot run; submit again", code=Code.STATE_CONFLICT)
                dispatch.rerun(session=session, sub=sub, by=ADMIN_BY)
            return str(sub.state)
    finally:
        db.dispose()


@admin_app.command("cancel")
def cancel(submission_id: Annotated[int, typer.Argument(metavar="ID")], data_dir: DataDir = None) -> None:
    """Cancel submission ID (any participant's). A queued one is cancelled at once; a
    running one is marked cancelled here and its process is stopped by the running
    server's dispatcher on its next pass (within seconds; SIGTERM, then SIGKILL after
    PODIUM_CANCEL_GRACE_S)."""
    state = _change_submission(data_dir, submission_id, "cancel")
    typer.echo(f"submission {submission_id} {state}")


@admin_app.command("rerun")
def rerun(submission_id: Annotated[int, typer.Argument(metavar="ID")], data_dir: DataDir = None) -> None:
    """Queue submission ID again as a new attempt (scores cleared until it is scored
    again). A running attempt is superseded: the server's dispatcher stops its process
    and refuses its late reports. The server's dispatcher runs the new attempt."""
    state = _change_submission(data_dir, submission_id, "rerun")
    typer.echo(f"submission {submission_id} {state}")


def register(app: typer.Typer) -> None:
    app.command("server", help="Serve the Podium API (OpenAPI docs at /docs).")(server)
    app.add_typer(admin_app, name="admin")
    from podium.cli.execute import command as execute

    app.command("execute", help="Run one attempt of a submission for the server (its dispatcher starts it).")(execute)
