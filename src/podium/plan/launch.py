"""``make_plan(spec, snapshot, facts, target, caps)``: the findings and the exact command.

Translation is version-aware: booleans become bare flags (``--no-...`` for false where
the engine has it), rope settings go through ``--hf-overrides`` where the engine no
longer has ``--rope-*`` (vLLM >= 0.11.1), ``--lora-extra-vocab-size`` is dropped with a
warning where vLLM no longer has it, and ``--vllm-env.*`` flags become environment
variables. The plan never edits the spec: it records what it set and a finding says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from podium.errors import Code, Finding, Findings, error, info, warning
from podium.hub.types import ModelFacts, ModelSnapshot
from podium.plan import memory, neuron, preflight
from podium.plan.capabilities import EngineCaps
from podium.plan.model_type import decide
from podium.plan.types import LaunchPlan, Target
from podium.spec.flags import FLAGS, Flag, Group, Kind, NeuronEffect
from podium.spec.submission import SubmissionSpec

SERVER_MODULE = "vllm.entrypoints.openai.api_server"
DEFAULT_MAX_NUM_SEQS = 8
FALLBACK_MAX_MODEL_LEN = 2048
ROPE_FLAGS = ("vllm.rope-theta", "vllm.rope-scaling")
# Flags the plan writes itself (or handles specially) instead of the generic translation.
_SPECIAL = {"vllm.max-model-len", "vllm.max-num-seqs", "vllm.load-format", "vllm.enable-prefix-caching", *ROPE_FLAGS}


@dataclass(frozen=True)
class PlanResult:
    findings: list[Finding]
    plan: LaunchPlan
    model_type: str | None

    @property
    def ok(self) -> bool:
        return Findings(self.findings).ok


def make_plan(
    spec: SubmissionSpec,
    snapshot: ModelSnapshot,
    facts: ModelFacts,
    target: Target,
    caps: EngineCaps,
) -> PlanResult:
    found = Findings()
    repo = spec.hf_repo if snapshot.source != "local" else str(snapshot.path)
    decision = decide(spec, facts, target.backend, repo)
    found.extend(decision.findings)
    found.extend(preflight.model_findings(facts, repo))
    found.extend(preflight.load_format_findings(spec))
    found.extend(preflight.target_flag_findings(spec, target))

    max_model_len = spec.vllm.get("max-model-len") or facts.max_position_embeddings or FALLBACK_MAX_MODEL_LEN
    max_num_seqs = spec.vllm.get("max-num-seqs") or DEFAULT_MAX_NUM_SEQS
    if "max-num-seqs" not in spec.vllm:
        found.add(
            info(
                Code.TARGET_FORCED_VALUE,
                f"--vllm.max-num-seqs not given: the plan sets {max_num_seqs} "
                "(vLLM's own default of 256 would compile a batch of 256 on Neuron)",
                "set --vllm.max-num-seqs to the concurrency you want evaluated",
            )
        )
    found.extend(preflight.context_findings(spec, facts, max_model_len, max_num_seqs))

    dtype = memory.serving_dtype(facts, spec.vllm.get("dtype"), target.backend)
    if target.backend == "neuron" and spec.vllm.get("dtype", "auto") == "auto":
        found.add(
            info(
                Code.TARGET_FORCED_VALUE,
                f"--vllm.dtype auto compiles in float32 on {target.name} (the model is stored "
                f"as {facts.torch_dtype or 'unknown'}), twice the memory of bfloat16",
                "add --vllm.dtype bfloat16 to halve the weights' memory",
            )
        )
    if target.backend == "cpu" and dtype == "bfloat16" and not target.native_bf16:
        found.add(
            warning(
                Code.DTYPE_SLOW_ON_TARGET,
                "this CPU has no native bfloat16 (AVX512-BF16 / AMX): vLLM emulates it, "
                "several times slower than float32 (measured 6.7x on the demo)",
                "add --vllm.dtype float32",
            )
        )
    tp = target.total_cores if target.backend == "neuron" else 1
    mem = memory.estimate(
        facts,
        target,
        dtype=dtype,
        kv_cache_dtype=None if target.backend == "neuron" else spec.vllm.get("kv-cache-dtype"),
        max_num_seqs=max_num_seqs,
        max_model_len=max_model_len,
        shards=tp,
    )
    found.extend(preflight.memory_findings(mem, target, repo, max_num_seqs, max_model_len))

    argv: list[str] = ["-m", SERVER_MODULE, "--model", str(snapshot.path)]
    argv += ["--served-model-name", spec.hf_repo]
    argv += ["--max-model-len", str(max_model_len), "--max-num-seqs", str(max_num_seqs)]
    env: dict[str, str] = {}
    argv += _load_format_args(spec, found)
    for flag in FLAGS:
        value = spec.value(flag.name)
        if value is None or flag.name in _SPECIAL or flag.group not in (Group.VLLM, Group.VLLM_ENV):
            continue
        if target.backend == "neuron" and flag.neuron is NeuronEffect.UNSUPPORTED:
            continue  # warned about in target_flag_findings
        if flag.group is Group.VLLM_ENV:
            if value:
                env[flag.env_var or ""] = "1"
            continue
        argv += _translate(flag, value, caps, found)
    argv += _rope_args(spec, caps, found)

    neuron_overrides: dict[str, Any] = {}
    cache_key = artifacts = None
    prefix = spec.vllm.get("enable-prefix-caching")
    if target.backend == "neuron":
        np = neuron.neuron_plan(
            spec, snapshot, decision.key, tp=tp, batch=max_num_seqs, seq_len=max_model_len, dtype=dtype, caps=caps
        )
        argv += np.argv
        env.update(np.env)
        found.extend(np.findings)
        neuron_overrides, cache_key, artifacts = np.overrides, np.cache_key, np.artifacts_dir
    elif prefix is not None:
        argv += _bool_args("--enable-prefix-caching", prefix, caps)
    if target.backend == "cpu":
        kv_gib = max(1, -(-mem.kv_cache_bytes // memory.GIB))
        env["VLLM_CPU_KVCACHE_SPACE"] = str(kv_gib)

    request_defaults: dict[str, Any] = {}
    if "max-tokens" in spec.inference:
        request_defaults["max_tokens"] = spec.inference["max-tokens"]
    plan = LaunchPlan(
        target=target.name,
        backend=target.backend,
        argv=tuple(argv),
        env=env,
        served_model_name=spec.hf_repo,
        model_path=str(snapshot.path),
        engine_version=caps.version,
        request_defaults=request_defaults,
        max_num_seqs=max_num_seqs,
        max_model_len=max_model_len,
        neuron_overrides=neuron_overrides,
        compile_cache_key=cache_key,
        compiled_artifacts_dir=artifacts,
        memory=mem,
    )
    return PlanResult(found.sorted(), plan, decision.key)


def _bool_args(option: str, value: bool, caps: EngineCaps) -> list[str]:
    if value:
        return [option]
    negative = "--no-" + option.removeprefix("--")
    info_ = caps.options.get(option)
    if (info_ and info_.negatable) or caps.has(negative):
        return [negative]
    return []


def _translate(flag: Flag, value: Any, caps: EngineCaps, found: Findings) -> list[str]:
    option = flag.vllm_option or ""
    if not caps.has(option):
        if flag.name == "vllm.lora-extra-vocab-size":
            found.add(
                warning(
                    Code.FLAG_DROPPED,
                    f"{flag.option} was removed in vLLM {caps.version}; it is left out of the launch",
                    f"drop {flag.option}",
                )
            )
        else:
            found.add(
                error(
                    Code.FLAG_UNSUPPORTED_BY_ENGINE,
                    f"{flag.option} is not an option of vLLM {caps.version}",
                    f"drop {flag.option}",
                )
            )
        return []
    if flag.kind is Kind.BOOL:
        return _bool_args(option, bool(value), caps)
    choices = caps.choices(option)
    if choices and str(value) not in choices:
        found.add(
            error(
                Code.FLAG_INVALID,
                f"{flag.option} {value} is not accepted by vLLM {caps.version}",
                f"use one of: {', '.join(choices)}",
            )
        )
        return []
    text = json.dumps(value, sort_keys=True) if flag.kind is Kind.JSON else str(value)
    return [option, text]


def _load_format_args(spec: SubmissionSpec, found: Findings) -> list[str]:
    fmt = spec.vllm.get("load-format")
    if fmt is None or fmt == "auto":
        found.add(
            info(
                Code.TARGET_FORCED_VALUE,
                "the plan loads safetensors only (--load-format safetensors), so no pickled "
                "weight file is ever read",
                "",
            )
        )
        return ["--load-format", "safetensors"]
    if fmt in preflight.PICKLE_LOAD_FORMATS or fmt not in preflight.SAFE_LOAD_FORMATS:
        return []  # an error finding already says why
    return ["--load-format", fmt]


def _rope_args(spec: SubmissionSpec, caps: EngineCaps, found: Findings) -> list[str]:
    theta = spec.vllm.get("rope-theta")
    scaling = spec.vllm.get("rope-scaling")
    if theta is None and scaling is None:
        return []
    if caps.has("--rope-theta") and caps.has("--rope-scaling"):
        out: list[str] = []
        if theta is not None:
            out += ["--rope-theta", repr(float(theta))]
        if scaling is not None:
            out += ["--rope-scaling", json.dumps(scaling, sort_keys=True)]
        return out
    overrides: dict[str, Any] = {}
    if scaling is not None:
        overrides["rope_scaling"] = scaling
    if theta is not None:
        overrides["rope_theta"] = float(theta)
    found.add(
        info(
            Code.FLAG_TRANSLATED,
            f"vLLM {caps.version} has no --rope-* options: the rope settings are passed as "
            f"--hf-overrides {json.dumps(overrides, sort_keys=True)}",
            "",
        )
    )
    return ["--hf-overrides", json.dumps(overrides, sort_keys=True)]
