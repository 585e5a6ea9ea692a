"""The stages of one submission, shared by ``podium check``, ``podium run`` and workers.

``check`` is everything before the engine: resolve the repository to a pinned commit,
read the model's facts, run the preflight and make the launch plan. It starts no process
(except, once per engine install, the capability probe whose answer is cached).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import Code, Finding, Findings, PodiumError, info
from podium.hub.types import ModelFacts, ModelSnapshot
from podium.plan.types import LaunchPlan, Target
from podium.spec.submission import SubmissionSpec


@dataclass(frozen=True)
class CheckResult:
    spec: SubmissionSpec
    target: Target
    snapshot: ModelSnapshot
    facts: ModelFacts
    findings: list[Finding]
    plan: LaunchPlan
    model_type: str | None

    @property
    def ok(self) -> bool:
        return Findings(self.findings).ok

    def to_dict(self) -> dict[str, Any]:
        plan = self.plan.to_dict()
        return {
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
            "spec": self.spec.to_dict(),
            "model": {
                "snapshot": self.snapshot.to_dict(),
                "model_type": self.model_type,
                **self.facts.to_dict(),
            },
            "plan": {
                "target": self.target.name,
                "backend": self.target.backend,
                "engine_version": plan["engine_version"],
                "argv": plan["argv"],
                "env": plan["env"],
                "served_model_name": plan["served_model_name"],
                "request_defaults": plan["request_defaults"],
                "neuron_overrides": plan["neuron_overrides"],
                "compile_cache_key": plan["compile_cache_key"],
                "compiled_artifacts_dir": plan["compiled_artifacts_dir"],
                "memory": plan["memory"],
                "plan_hash": plan["plan_hash"],
            },
        }


def choose_caps(target: Target) -> tuple[Any, list[Finding]]:
    """The engine capabilities to plan with: Neuron hosts run the plugin's vLLM 0.11;
    elsewhere the installed vLLM, or the newest built-in table when none is installed."""
    from podium.plan import capabilities

    if target.backend == "neuron":
        return capabilities.builtin(capabilities.NEURON_ENGINE_VERSION), []
    caps = capabilities.installed()
    if caps is not None:
        return caps, []
    newest = capabilities.builtin_versions()[-1]
    return capabilities.builtin(newest), [
        info(
            Code.ENGINE_VERSION_ASSUMED,
            f"vLLM is not installed here: planned for vLLM {newest} from Podium's built-in table",
            "install the engine (make setup) or set PODIUM_ENGINE_PYTHON to plan against it",
        )
    ]


def resolve_model(
    spec: SubmissionSpec, *, model_dir: Path | None = None, token: str | None = None
) -> ModelSnapshot:
    from podium.hub import resolve

    if model_dir is not None:
        return resolve.from_local_dir(model_dir)
    return resolve.resolve(spec.hf_repo, spec.hf_repo_tag, token=token)


def check(
    spec: SubmissionSpec,
    target: Target,
    *,
    model_dir: Path | None = None,
    token: str | None = None,
    extra_findings: list[Finding] | None = None,
) -> CheckResult:
    """Resolve, read facts, preflight and plan. Raises PodiumError for what stops it
    before a plan can be made (repo not found, bad config, ...)."""
    from podium.hub.facts import read_facts
    from podium.plan.launch import make_plan

    snapshot = resolve_model(spec, model_dir=model_dir, token=token)
    facts = read_facts(snapshot)
    caps, cap_findings = choose_caps(target)
    result = make_plan(spec, snapshot, facts, target, caps)
    findings = Findings()
    findings.extend(list(extra_findings or []))
    findings.extend(result.findings)
    findings.extend(cap_findings)
    return CheckResult(
        spec=spec,
        target=target,
        snapshot=snapshot,
        facts=facts,
        findings=findings.sorted(),
        plan=result.plan,
        model_type=result.model_type,
    )


# --- run: check -> serve -> evaluate -> report -------------------------------------

StageFn = Callable[[str, str, float], None]  # (stage, "start" | "done" | "failed", elapsed s)
ProgressFn = Callable[[int, int], None]


@dataclass
class RunOutcome:
    """What ``run`` produced. ``report`` is None when the submission was rejected
    (``check.ok`` is False) or a stage failed (``error`` says which and why)."""

    check: CheckResult | None
    report: Any = None  # EvalReport
    error: PodiumError | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    output_dir: Path | None = None
    engine_log: Path | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error": self.error.to_dict() if self.error else None,
            "check": self.check.to_dict() if self.check else None,
            "report": self.report.to_dict() if self.report else None,
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "output_dir": str(self.output_dir) if self.output_dir else None,
            "engine_log": str(self.engine_log) if self.engine_log else None,
        }


class _Stages:
    def __init__(self, outcome: RunOutcome, on_stage: StageFn | None) -> None:
        self.outcome = outcome
        self.on_stage = on_stage or (lambda *_: None)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        self.on_stage(name, "start", 0.0)
        try:
            yield
        except BaseException:
            elapsed = time.perf_counter() - t0
            self.outcome.stage_seconds[name] = elapsed
            self.on_stage(name, "failed", elapsed)
            raise
        elapsed = time.perf_counter() - t0
        self.outcome.stage_seconds[name] = elapsed
        self.on_stage(name, "done", elapsed)


def prompt_template_of(spec: SubmissionSpec) -> str | None:
    """The participant's prompt template (``--prompt-template-path FILE``), read here."""
    path = spec.extras.get("prompt-template-path")
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PodiumError(
            f"cannot read --prompt-template-path {path}: {exc.strerror or exc}",
            "give the path of a Jinja template file on this machine",
            code=Code.FLAG_INVALID,
            details={"flag": "--prompt-template-path", "value": str(path)},
        ) from None


def run(
    spec: SubmissionSpec,
    target: Target,
    challenge: Any,
    *,
    output_dir: Path,
    model_dir: Path | None = None,
    token: str | None = None,
    extra_findings: list[Finding] | None = None,
    engine_python: str | None = None,
    on_stage: StageFn | None = None,
    on_progress: ProgressFn | None = None,
) -> RunOutcome:
    """The whole pipeline for one submission on this machine. Never raises PodiumError:
    a failure is returned in ``RunOutcome.error`` with the stage timings so far."""
    from podium.engine import EngineServer
    from podium.evaluate import evaluate

    outcome = RunOutcome(check=None, output_dir=output_dir)
    stages = _Stages(outcome, on_stage)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        with stages.stage("check"):
            outcome.check = check(spec, target, model_dir=model_dir, token=token, extra_findings=extra_findings)
            template = prompt_template_of(spec)
        _write_json(output_dir / "check.json", outcome.check.to_dict())
        if not outcome.check.ok:
            return outcome
        plan = outcome.check.plan
        outcome.engine_log = output_dir / "serve.log"
        server = EngineServer(
            plan,
            log_path=outcome.engine_log,
            engine_python=engine_python,
            startup_timeout=float(challenge.timeouts.startup_s),
        )
        with stages.stage("serve"):
            server.start()
        try:
            with stages.stage("evaluate"):
                outcome.report = evaluate(
                    challenge,
                    server.base_url,
                    plan.served_model_name,
                    max_tokens=spec.inference.get("max-tokens"),
                    concurrency=plan.max_num_seqs,
                    on_progress=on_progress,
                    is_alive=server.check_alive,
                    prompt_template=template,
                )
        finally:
            with stages.stage("stop"):
                server.stop()
        with stages.stage("report"):
            outcome.report.stage_timings.update(outcome.stage_seconds)
            outcome.report.write(output_dir)
    except PodiumError as exc:
        outcome.error = exc
    _write_json(output_dir / "run.json", outcome.to_dict())
    return outcome


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)
