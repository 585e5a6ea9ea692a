"""``podium submissions``: list your submissions, ``show`` one, print its ``logs``
(``--follow`` until it ends), ``cancel`` it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from podium.cli.server_client import (
    DEFAULT_INTERVAL,
    IntervalOpt,
    JsonOpt,
    emit_json,
    open_api,
    run_body,
)
from podium.cli.submission_view import format_score, format_when, render_submission, repo_at

# Seam for the tests (the job going on between polls, a Ctrl-C while following).
_sleep: Callable[[float], None] = time.sleep

submissions_app = typer.Typer(
    help="Your submissions: list (no subcommand), show ID, logs ID [--follow], cancel ID.",
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,
)


@submissions_app.callback()
def submissions_list(
    ctx: typer.Context,
    challenge: Annotated[str | None, typer.Option("--challenge", help="Only this challenge's.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List your submissions, newest first."""
    if ctx.invoked_subcommand is not None:
        return

    def body() -> int:
        from rich import box
        from rich.table import Table

        from podium.cli import render

        with open_api() as api:
            rows = api.get("/api/submissions", params={"challenge": challenge} if challenge else None)
        if json_out:
            emit_json(rows)
            return 0
        if not rows:
            render.out.print("no submissions yet")
            return 0
        t = Table(show_header=True, header_style="bold", expand=False, box=box.SIMPLE_HEAD, pad_edge=False)
        t.add_column("id", justify="right", no_wrap=True)
        t.add_column("challenge", no_wrap=True)
        t.add_column("state", no_wrap=True)
        t.add_column("repository", overflow="fold", min_width=24)
        t.add_column("score", justify="right", no_wrap=True)
        t.add_column("created (UTC)", no_wrap=True)
        for r in rows:
            pos = r.get("queue_position")
            state = f"{r.get('state')} #{pos}" if r.get("state") == "queued" and pos else str(r.get("state"))
            t.add_row(str(r["id"]), r.get("challenge", ""), state, repo_at(r), format_score(r.get("score")), format_when(r.get("created_at"))[5:16])
        render.out.print(t)
        return 0

    run_body(json_out, body)


@submissions_app.command("show")
def submissions_show(submission_id: Annotated[int, typer.Argument(help="The submission's id.")], json_out: JsonOpt = False) -> None:
    """One submission: state, stages with their timestamps, score or error."""

    def body() -> int:
        with open_api() as api:
            sub = api.get(f"/api/submissions/{submission_id}")
        if json_out:
            emit_json(sub)
        else:
            render_submission(sub, api.server)
        return 0

    run_body(json_out, body)


@submissions_app.command("logs")
def submissions_logs(
    submission_id: Annotated[int, typer.Argument(help="The submission's id.")],
    follow_: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the submission ends.")] = False,
    interval: IntervalOpt = DEFAULT_INTERVAL,
    json_out: JsonOpt = False,
) -> None:
    """A submission's stage logs (resolve, compile, serve, evaluate)."""

    def body() -> int:
        import sys

        offset, chunks, done = 0, [], False
        with open_api() as api:
            try:
                while True:
                    page = api.get(f"/api/submissions/{submission_id}/logs", params={"offset": offset})
                    text = page.get("text") or ""
                    done = bool(page.get("done"))
                    offset = int(page.get("next_offset", offset + len(text)))
                    if text:
                        if json_out:
                            chunks.append(text)
                        else:
                            sys.stdout.write(text)
                            sys.stdout.flush()
                    if done or (not follow_ and not text):
                        break
                    if not text:
                        _sleep(interval)
            except KeyboardInterrupt:
                from podium.cli import render

                render.err.print(f"stopped following; resume with: podium submissions logs {submission_id} --follow")
                return 130
        if json_out:
            emit_json({"text": "".join(chunks), "next_offset": offset, "done": done})
        return 0

    run_body(json_out, body)


@submissions_app.command("cancel")
def submissions_cancel(submission_id: Annotated[int, typer.Argument(help="The submission's id.")], json_out: JsonOpt = False) -> None:
    """Cancel a submission: a queued one at once, a running one within seconds."""

    def body() -> int:
        from podium.cli import render

        with open_api() as api:
            answer = api.post(f"/api/submissions/{submission_id}/cancel")
        if json_out:
            emit_json(answer)
        else:
            state = answer.get("state", "cancelled") if isinstance(answer, dict) else "cancelled"
            render.out.print(f"submission {submission_id}: {state}")
        return 0

    run_body(json_out, body)
