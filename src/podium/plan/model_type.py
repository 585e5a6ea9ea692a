"""Does ``--neuron.model-type`` agree with the model? The trap this closes: the flag
defaults to ``qwen3``, so a Llama model submitted without it is compiled with the wrong
backend and fails late, or runs wrong."""

from __future__ import annotations

from dataclasses import dataclass

from podium.errors import Code, Finding, Severity, error, info, warning
from podium.hub.types import ModelFacts
from podium.spec.model_types import ALIASES, AUTO, DEFAULT_MODEL_TYPE, MODEL_TYPES, for_model
from podium.spec.submission import SubmissionSpec


@dataclass(frozen=True)
class ModelTypeDecision:
    key: str | None  # the registry key the plan uses, None when nothing fits
    findings: list[Finding]


def decide(spec: SubmissionSpec, facts: ModelFacts, backend: str, repo: str) -> ModelTypeDecision:
    findings: list[Finding] = []
    asked = spec.neuron_model_type
    detected = for_model(facts.model_type, facts.architectures)
    arch = facts.architectures[0] if facts.architectures else facts.model_type or "unknown"
    on_neuron = backend == "neuron"
    # On Neuron a wrong type breaks the compile; elsewhere the flag has no effect yet,
    # but the same submission would break on a Neuron challenge: warn.
    severity = Severity.ERROR if on_neuron else Severity.WARNING

    if asked == AUTO:
        if detected is None:
            f = error if on_neuron else warning
            findings.append(
                f(
                    Code.ARCHITECTURE_UNSUPPORTED,
                    f"{repo} is a {arch} model, which no Neuron model type serves",
                    "run 'podium model-types' for the architectures Neuron supports",
                )
            )
            return ModelTypeDecision(None, findings)
        findings.append(
            info(
                Code.MODEL_TYPE_DETECTED,
                f"--neuron.model-type auto: detected '{detected.key}' from {arch}",
                f"you may write --neuron.model-type {detected.key} explicitly",
            )
        )
        return ModelTypeDecision(detected.key, findings)

    key = ALIASES.get(asked, asked)
    if key != asked:
        findings.append(
            info(
                Code.MODEL_TYPE_ALIAS,
                f"--neuron.model-type {asked} is served by the '{key}' backend",
                f"write --neuron.model-type {key}: it is the key Neuron uses",
            )
        )
    declared = MODEL_TYPES.find(key)
    if declared is not None and declared.beta:
        findings.append(
            warning(
                Code.MODEL_TYPE_BETA,
                f"--neuron.model-type {key} is a beta Neuron application ({declared.note})",
                "expect rough edges; pick a causal-LM model type for a text challenge",
            )
        )
    if detected is None:
        if on_neuron:
            findings.append(
                error(
                    Code.ARCHITECTURE_UNSUPPORTED,
                    f"{repo} is a {arch} model, which no Neuron model type serves",
                    "run 'podium model-types' for the architectures Neuron supports",
                )
            )
        return ModelTypeDecision(key, findings)
    if detected.key != key:
        if spec.was_given("neuron.model-type"):
            msg = (
                f"--neuron.model-type {asked} does not match {repo}, "
                f"which is a {detected.key} model ({arch})"
            )
        else:
            msg = (
                f"--neuron.model-type was left at its default '{DEFAULT_MODEL_TYPE}', "
                f"but {repo} is a {detected.key} model ({arch})"
            )
        if not on_neuron:
            msg += "; it has no effect on this target but would compile the wrong model on Neuron"
        findings.append(
            Finding(
                severity,
                Code.MODEL_TYPE_MISMATCH,
                msg,
                f"add --neuron.model-type {detected.key} (or --neuron.model-type auto)",
            )
        )
    return ModelTypeDecision(detected.key, findings)
