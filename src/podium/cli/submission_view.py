"""How the participant's commands show what the server answers about submissions: short
commits, scores, timestamps, a submission's state, its detail view and its outcome."""

from __future__ import annotations

from typing import Any


def short_sha(sha: str | None) -> str:
    return (sha or "")[:10]


def repo_at(row: dict[str, Any]) -> str:
    repo = row.get("hf_repo") or "?"
    commit = short_sha(row.get("pinned_commit"))
    return f"{repo}@{commit}" if commit else repo


def format_score(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def format_when(text: Any) -> str:
    return str(text or "")[:19].replace("T", " ")


def _parse_time(text: str) -> float | None:
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _stage_durations(events: list[dict[str, Any]]) -> list[tuple[str, float | None]]:
    """How long each state lasted, from the timestamped transitions."""
    out: list[tuple[str, float | None]] = []
    for i, ev in enumerate(events):
        if i + 1 < len(events):
            a, b = _parse_time(ev["at"]), _parse_time(events[i + 1]["at"])
            out.append((ev["state"], (b - a) if a is not None and b is not None else None))
    return out


def state_text(sub: dict[str, Any], *, progress: bool = False) -> str:
    state = sub.get("state", "?")
    pos = sub.get("queue_position")
    if state == "queued" and pos:
        return f"{state} (position {pos} in the queue)"
    done_total = sub.get("progress") or {}
    if progress and done_total.get("total"):
        return f"{state} {done_total.get('done') or 0}/{done_total['total']}"
    return str(state)


def page_url(server: str, submission_id: Any) -> str:
    """The submission's web page on ``server`` (live stages, log, scores)."""
    return f"{server.rstrip('/')}/submissions/{submission_id}"


def render_submission(sub: dict[str, Any], server: str | None = None) -> None:
    from rich.table import Table

    from podium.cli import render

    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="dim", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("submission", str(sub["id"]))
    t.add_row("challenge", str(sub.get("challenge", "")))
    t.add_row("owner", str(sub.get("owner", "")))
    t.add_row("state", state_text(sub))
    t.add_row("repository", f"{sub.get('hf_repo') or '?'} @ {sub.get('requested_revision') or '?'} -> {sub.get('pinned_commit') or '?'}")
    if sub.get("model_type"):
        t.add_row("model type", str(sub["model_type"]))
    given = (sub.get("spec") or {}).get("given") or []
    if given:
        t.add_row("flags given", ", ".join(given))
    t.add_row("score", format_score(sub.get("score")))
    t.add_row("attempts", str(sub.get("attempts", 0)))
    t.add_row("created", format_when(sub.get("created_at")))
    if server:
        t.add_row("web page", page_url(server, sub["id"]))
    render.out.print(t)
    events = sub.get("events") or []
    if events:
        times = dict(_stage_durations(events))
        ev = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        ev.add_column("state")
        ev.add_column("at")
        ev.add_column("took", justify="right")
        ev.add_column("detail", overflow="fold")
        for i, e in enumerate(events):
            took = times.get(e["state"]) if i + 1 < len(events) else None
            ev.add_row(e["state"], format_when(e["at"]), "" if took is None else f"{took:.1f}s", e.get("detail") or "")
        render.out.rule("[bold]stages")
        render.out.print(ev)
    render_outcome(sub)


def render_outcome(sub: dict[str, Any]) -> None:
    from rich.text import Text

    from podium.cli import render

    state = sub.get("state")
    if state == "scored":
        render.out.print(f"[bold green]SCORED[/]: {format_score(sub.get('score'))} (public split)")
    elif state == "failed" and sub.get("error"):
        e = sub["error"]
        render.out.print(Text.assemble(("FAILED", "bold red"), f" [{e.get('code')}]: ", e.get("message") or ""))
        if e.get("hint"):
            render.out.print(Text.assemble(("  hint: ", "dim"), e["hint"]))
    elif state in ("failed", "cancelled", "rejected"):
        render.out.print(f"[bold red]{str(state).upper()}[/]")
        if state == "rejected" and sub.get("findings"):
            for f in sub["findings"]:
                render.out.print(f"  {f.get('severity')} {f.get('code')}: {f.get('message')}")
