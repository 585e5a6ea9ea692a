"""The planner's values: hardware targets and launch plans. Frozen; plans are new values."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Backend = Literal["neuron", "cuda", "cpu"]


@dataclass(frozen=True)
class Target:
    """Where a submission runs. Memory figures are GiB.

    On Neuron, ``device_count`` counts chips and ``cores_per_device`` NeuronCores per
    chip; the model is sharded over every core (tensor parallel), so the memory that one
    shard must fit in is ``device_memory_gib / cores_per_device``.
    """

    name: str
    backend: Backend
    description: str
    device_count: int
    device_memory_gib: float  # per device (chip / GPU); for cpu: the KV + weights budget
    cores_per_device: int
    host_memory_gib: float
    vcpus: int
    native_bf16: bool = True  # cpu: the CPU computes bfloat16 natively (AVX512-BF16 / AMX)

    @property
    def total_cores(self) -> int:
        return self.device_count * self.cores_per_device

    @property
    def memory_per_core_gib(self) -> float:
        return self.device_memory_gib / self.cores_per_device

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "backend": self.backend,
            "description": self.description,
            "device_count": self.device_count,
            "device_memory_gib": self.device_memory_gib,
            "cores_per_device": self.cores_per_device,
            "total_cores": self.total_cores,
            "host_memory_gib": self.host_memory_gib,
            "vcpus": self.vcpus,
        }


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes the served model needs against what the target has, per shard."""

    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    shards: int
    available_bytes_per_shard: int

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes

    @property
    def per_shard_bytes(self) -> int:
        return -(-self.total_bytes // self.shards)

    @property
    def fits(self) -> bool:
        return self.per_shard_bytes <= self.available_bytes_per_shard

    def to_dict(self) -> dict[str, Any]:
        gib = 1024**3
        return {
            "weights_gib": round(self.weights_bytes / gib, 3),
            "kv_cache_gib": round(self.kv_cache_bytes / gib, 3),
            "overhead_gib": round(self.overhead_bytes / gib, 3),
            "total_gib": round(self.total_bytes / gib, 3),
            "shards": self.shards,
            "per_shard_gib": round(self.per_shard_bytes / gib, 3),
            "available_per_shard_gib": round(self.available_bytes_per_shard / gib, 3),
            "fits": self.fits,
        }


@dataclass(frozen=True)
class LaunchPlan:
    """The exact engine command for one submission on one target.

    ``argv`` is a list passed to the process as is (never a shell string); its first
    elements are the module invocation, without the Python interpreter, which the engine
    layer prepends from the engine environment:
    ``["-m", "vllm.entrypoints.openai.api_server", "--model", PATH, ...]``.
    The engine layer adds ``--host``/``--port`` when it picks a free port.
    """

    target: str
    backend: Backend
    argv: tuple[str, ...]
    env: dict[str, str]
    served_model_name: str
    model_path: str
    engine_version: str
    request_defaults: dict[str, Any] = field(default_factory=dict)  # e.g. {"max_tokens": 256}
    max_num_seqs: int | None = None
    max_model_len: int | None = None
    neuron_overrides: dict[str, Any] = field(default_factory=dict)
    compile_cache_key: str | None = None
    compiled_artifacts_dir: str | None = None
    memory: MemoryEstimate | None = None

    def plan_hash(self) -> str:
        """A stable hash of the whole plan (argv, env, request defaults)."""
        blob = json.dumps(
            {"argv": list(self.argv), "env": self.env, "req": self.request_defaults},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "backend": self.backend,
            "engine_version": self.engine_version,
            "argv": list(self.argv),
            "env": dict(self.env),
            "served_model_name": self.served_model_name,
            "request_defaults": dict(self.request_defaults),
            "neuron_overrides": dict(self.neuron_overrides),
            "compile_cache_key": self.compile_cache_key,
            "compiled_artifacts_dir": self.compiled_artifacts_dir,
            "memory": self.memory.to_dict() if self.memory else None,
            "plan_hash": self.plan_hash(),
        }
