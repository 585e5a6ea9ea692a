"""``podium check``: parse, check, render. Every PodiumError becomes an error finding, so
``--json`` always prints one object of the same shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.errors import PodiumError


def empty_result(exc: PodiumError) -> dict[str, Any]:
    return {"ok": False, "findings": [exc.as_finding().to_dict()], "spec": None, "model": None, "plan": None}


def run_check(
    argv: list[str],
    *,
    model_dir: Path | None,
    target: str | None,
    challenge: Path | None,
    token: str | None,
    json_out: bool,
) -> int:
    from podium.cli import render
    from podium.cli.submission import prepare

    try:
        prepared = prepare(argv, model_dir=model_dir, target=target, challenge=challenge)
        from podium.pipeline import check

        result = check(
            prepared.spec,
            prepared.target,
            model_dir=model_dir,
            token=token,
            extra_findings=prepared.findings,
        )
        data = result.to_dict()
    except PodiumError as exc:
        data = empty_result(exc)
    if json_out:
        render.print_json(data)
    else:
        render.render_check(data)
    return 0 if data["ok"] else 1
