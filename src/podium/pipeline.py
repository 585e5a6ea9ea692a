"""The stages of one submission, shared by ``podium check``, ``podium run`` and workers.

``check`` is everything before the engine: resolve the repository to a pinned commit,
read the model's facts, run the preflight and make the launch plan. It starts no process
(except, once per engine install, the capability probe whose answer is cached).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.errors import Code, Finding, Findings, info
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
