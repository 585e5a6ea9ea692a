"""From the command line to a spec and a target: shared by ``check`` and ``run``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import Finding
from podium.plan.types import Target
from podium.spec.submission import SubmissionSpec


@dataclass(frozen=True)
class Prepared:
    spec: SubmissionSpec
    target: Target
    findings: list[Finding] = field(default_factory=list)
    challenge: Any = None


def local_repo_id(model_dir: Path) -> str:
    """``--model-dir ./my model`` without ``--hf-repo`` is named ``local/my-model``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(model_dir).resolve().name).strip("-.") or "model"
    return f"local/{name}"


def find_challenge(path: Path) -> Path:
    """A challenge file or folder; a bare name (``demo``) that is not a path names a
    challenge shipped with Podium."""
    if Path(path).exists():
        return Path(path)
    shipped = Path(__file__).resolve().parents[1] / "data" / "challenges" / str(path)
    return shipped if shipped.is_dir() else Path(path)


def prepare(
    argv: list[str],
    *,
    model_dir: Path | None,
    target: str | None,
    challenge: Path | None,
) -> Prepared:
    from podium.plan.targets import DEFAULT_TARGET, get_target
    from podium.spec.parse import canonical, parse_submit_args

    argv = list(argv)
    if model_dir is not None and not any(canonical(a.split("=", 1)[0]) == "hf-repo" for a in argv):
        argv = ["--hf-repo", local_repo_id(model_dir), *argv]
    findings: list[Finding] = []
    loaded = None
    if challenge is not None:
        from podium.evaluate.challenge import check_submission, load_challenge, with_defaults

        loaded = load_challenge(find_challenge(challenge))
        spec = parse_submit_args(argv, extras=loaded.extra_flags())
        findings.extend(check_submission(loaded, spec))
        spec = with_defaults(loaded, spec)
        target_name = target or loaded.target
    else:
        spec = parse_submit_args(argv)
        target_name = target or DEFAULT_TARGET
    return Prepared(spec=spec, target=get_target(target_name), findings=findings, challenge=loaded)
