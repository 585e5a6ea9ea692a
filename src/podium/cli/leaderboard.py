"""``podium leaderboard``: a challenge's leaderboard, from the server."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import typer

from podium.cli.server_client import ClientError, JsonOpt, emit_json, open_api, run_body
from podium.cli.submission_view import format_score, format_when, repo_at


def leaderboard(
    challenge: Annotated[str, typer.Argument(help="The challenge's name.")],
    split: Annotated[str, typer.Option("--split", help="public, or private (organisers; everyone after the reveal).")] = "public",
    json_out: JsonOpt = False,
) -> None:
    """A challenge's leaderboard: the best scored submission of each participant."""

    def body() -> int:
        from rich import box
        from rich.table import Table

        from podium.cli import render

        if split not in ("public", "private"):
            raise ClientError("PAYLOAD_INVALID", f"--split must be public or private, not {split!r}", "pass --split public or --split private")
        with open_api(need_token=False) as api:
            board = api.get(f"/api/challenges/{quote(challenge, safe='')}/leaderboard", params={"split": split})
        if json_out:
            emit_json(board)
            return 0
        rows = board.get("rows") or []
        metric = rows[0]["metric"] if rows else "score"
        render.out.rule(f"[bold]{challenge}[/] ({split} split)")
        if not rows:
            render.out.print("no scored submissions yet")
            return 0
        t = Table(show_header=True, header_style="bold", expand=False, box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("#", "participant", "repository", "model type", metric, "tok/s", "flags", "submitted"):
            t.add_column(col, overflow="fold", justify="right" if col in ("#", metric, "tok/s") else "left")
        for r in rows:
            flags = " ".join(f"{k}={v}" for k, v in (r.get("flags") or {}).items())
            tps = r.get("tokens_per_s")
            t.add_row(
                str(r["rank"]), r["participant"], repo_at(r), r.get("model_type") or "", format_score(r.get("score")),
                "-" if tps is None else f"{tps:.1f}", flags, format_when(r.get("submitted_at")),
            )
        render.out.print(t)
        return 0

    run_body(json_out, body)
