"""The Neuron part of a launch plan (vLLM with the vllm-neuron platform plugin).

- tensor-parallel size = every NeuronCore of the target;
- max-num-seqs and max-model-len always explicit (they are the compiled batch and
  sequence length);
- prefix caching off unless asked (vLLM turns it on by default, which on Neuron means a
  block KV layout and a different compile);
- ``--additional-config '{"override_neuron_config": {...}}'`` spells out the compile;
- ``NEURON_COMPILED_ARTIFACTS`` points at a directory keyed by the compile-cache key, a
  hash of everything that changes the compiled model and nothing else, because the
  plugin does not re-check a directory it loads (stale artifacts would be reused).

This path cannot run on machines without Neuron devices; it is tested through the plans
it produces.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.errors import Code, Finding, info
from podium.hub.types import ModelSnapshot
from podium.paths import cache_root
from podium.plan.capabilities import EngineCaps
from podium.spec.flags import FLAGS, Group, NeuronEffect
from podium.spec.submission import SubmissionSpec

PREFIX_BLOCK_SIZE = 32
TORCH_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


@dataclass(frozen=True)
class NeuronPlan:
    argv: list[str]
    env: dict[str, str]
    overrides: dict[str, Any]
    cache_key: str
    artifacts_dir: str
    findings: list[Finding] = field(default_factory=list)


def artifacts_root() -> Path:
    return cache_root() / "neuron-artifacts"


def compile_inputs(
    spec: SubmissionSpec,
    snapshot: ModelSnapshot,
    model_type: str | None,
    *,
    tp: int,
    batch: int,
    seq_len: int,
    dtype: str,
    overrides: dict[str, Any],
    engine_version: str,
) -> dict[str, Any]:
    """Everything that changes the compiled model, and nothing else.

    The vLLM flags come from the flag table (those marked ``NeuronEffect.COMPILED``), so
    a flag that only changes requests (``--vllm-inference.max-tokens``) never enters it.
    """
    compiled_flags = {
        f.name: spec.value(f.name)
        for f in FLAGS
        if f.neuron is NeuronEffect.COMPILED and f.group is Group.VLLM and spec.value(f.name) is not None
    }
    return {
        "model": snapshot.commit or _local_identity(snapshot.path),
        "model_type": model_type,
        "tp": tp,
        "batch": batch,
        "seq_len": seq_len,
        "dtype": dtype,
        "flags": compiled_flags,
        "overrides": overrides,
        "engine": engine_version,
    }


def compile_cache_key(inputs: dict[str, Any]) -> str:
    blob = json.dumps(inputs, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _local_identity(path: Path) -> str:
    """A model directory without a commit: names, sizes and mtimes of its files."""
    h = hashlib.sha256()
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(path)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return "local:" + h.hexdigest()


def neuron_plan(
    spec: SubmissionSpec,
    snapshot: ModelSnapshot,
    model_type: str | None,
    *,
    tp: int,
    batch: int,
    seq_len: int,
    dtype: str,
    caps: EngineCaps,
) -> NeuronPlan:
    findings: list[Finding] = []
    prefix = bool(spec.vllm.get("enable-prefix-caching"))
    overrides: dict[str, Any] = {
        "tp_degree": tp,
        "batch_size": batch,
        "seq_len": seq_len,
        "max_context_length": seq_len,
        "torch_dtype": TORCH_DTYPES.get(dtype, dtype),
        "enable_bucketing": True,
        "is_continuous_batching": batch > 1,
    }
    argv = ["--tensor-parallel-size", str(tp)]
    if prefix:
        overrides["is_prefix_caching"] = True
        overrides["is_block_kv_layout"] = True
        argv += ["--enable-prefix-caching", "--block-size", str(PREFIX_BLOCK_SIZE)]
        findings.append(
            info(
                Code.TARGET_FORCED_VALUE,
                f"prefix caching on Neuron compiles a block KV layout; the plan sets "
                f"--block-size {PREFIX_BLOCK_SIZE}",
                "",
            )
        )
    else:
        argv += ["--no-enable-prefix-caching"]
        if not spec.was_given("vllm.enable-prefix-caching"):
            findings.append(
                info(
                    Code.TARGET_FORCED_VALUE,
                    "prefix caching is off on Neuron unless asked for "
                    "(--vllm.enable-prefix-caching true)",
                    "",
                )
            )
    argv += ["--additional-config", json.dumps({"override_neuron_config": overrides}, sort_keys=True)]
    inputs = compile_inputs(
        spec,
        snapshot,
        model_type,
        tp=tp,
        batch=batch,
        seq_len=seq_len,
        dtype=dtype,
        overrides=overrides,
        engine_version=caps.version,
    )
    key = compile_cache_key(inputs)
    artifacts = str(artifacts_root() / key)
    return NeuronPlan(
        argv=argv,
        env={"NEURON_COMPILED_ARTIFACTS": artifacts},
        overrides=overrides,
        cache_key=key,
        artifacts_dir=artifacts,
        findings=findings,
    )
