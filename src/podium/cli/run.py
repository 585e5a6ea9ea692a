"""``podium run``: the whole pipeline on this machine, with a progress display per stage.

Progress goes to stderr (a live bar on a terminal, one line per stage elsewhere), results
to stdout (a table, or one JSON object with ``--json``). Exit status 0 when scored, 1 when
rejected by the preflight, 2 when a stage failed (the error code says which).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from podium.errors import PodiumError

STAGE_WORDS = {
    "check": "resolve + preflight",
    "serve": "start vLLM",
    "evaluate": "evaluate",
    "stop": "stop vLLM",
    "report": "write report",
}


class ProgressDisplay:
    """Stage lines and an evaluation bar on stderr."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from podium.cli.render import err

        self.console = err
        self.live = err.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not self.live,
        )
        self.task: Any = None
        self.started = 0.0
        self.last_line = 0.0

    def __enter__(self) -> ProgressDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def stage(self, name: str, status: str, elapsed: float) -> None:
        words = STAGE_WORDS.get(name, name)
        if status == "start":
            self.started = time.perf_counter()
            if self.live:
                self.task = self.progress.add_task(f"{words} ...", total=None)
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        mark = "[green]done[/]" if status == "done" else "[bold red]failed[/]"
        self.console.print(f"  {words:<20} {mark} {elapsed:7.1f} s")

    def evaluation(self, done: int, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)
        elif not self.live and (done == total or time.perf_counter() - self.last_line > 10):
            self.last_line = time.perf_counter()
            self.console.print(f"  evaluate             {done}/{total}")


def default_output_dir(repo: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{stamp}-{repo.replace('/', '--')}"


def run_command(
    argv: list[str],
    *,
    model_dir: Path | None,
    target: str | None,
    challenge: Path,
    token: str | None,
    output: Path | None,
    json_out: bool,
) -> int:
    from podium.cli import render
    from podium.cli.check import empty_result
    from podium.cli.submission import prepare
    from podium.pipeline import run

    try:
        prepared = prepare(argv, model_dir=model_dir, target=target, challenge=challenge)
    except PodiumError as exc:
        data = empty_result(exc)
        render.print_json(data) if json_out else render.render_check(data)
        return 1
    out_dir = output or default_output_dir(prepared.spec.hf_repo)
    render.err.print(
        f"[bold]podium run[/] {prepared.spec.hf_repo}@{prepared.spec.hf_repo_tag} on "
        f"challenge '{prepared.challenge.name}' (target {prepared.target.name}) -> {out_dir}"
    )
    with ProgressDisplay() as display:
        outcome = run(
            prepared.spec,
            prepared.target,
            prepared.challenge,
            output_dir=out_dir,
            model_dir=model_dir,
            token=token,
            extra_findings=prepared.findings,
            on_stage=display.stage,
            on_progress=display.evaluation,
        )
    if json_out:
        render.print_json(outcome.to_dict())
    else:
        render_outcome(outcome)
    if outcome.check is not None and not outcome.check.ok:
        return 1
    return 0 if outcome.ok else 2


def render_outcome(outcome: Any) -> None:
    from podium.cli import render
    from podium.evaluate.report import render_table

    check = outcome.check
    if check is not None and not check.ok:
        render.render_check(check.to_dict())
        return
    if check is not None and check.findings:
        render.out.print(render.findings_table([f for f in check.findings if f.severity != "info"]))
    if outcome.error is not None:
        render.render_error(outcome.error)
        tail = outcome.error.details.get("log_tail") if outcome.error.details else None
        if tail:
            render.err.print("[dim]last lines of the engine log:[/]")
            for line in tail[-12:]:
                render.err.print("  " + line, markup=False, highlight=False)
        if outcome.engine_log:
            render.err.print(f"  engine log: {outcome.engine_log}")
        return
    render.out.print(render_table(outcome.report))
    value = outcome.report.primary_value
    shown = "n/a" if value is None else f"{value:.3f}"
    render.out.print(
        f"[bold green]SCORED[/]: {outcome.report.primary_metric} = [bold]{shown}[/] "
        f"({outcome.report.primary_split} split); report in {outcome.output_dir}"
    )
