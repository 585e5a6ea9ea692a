"""Hardware targets, one registry. Sizes come from REFERENCE.md (AWS instance types).

The cpu target is this machine: its memory is read when it is looked up, since vLLM's
CPU build keeps weights and KV cache in host memory.
"""

from __future__ import annotations

import os

from podium.errors import Code, PlanError
from podium.plan.types import Target
from podium.registry import Registry, closest

DEFAULT_TARGET = "cpu"

TARGETS: Registry[Target] = Registry("target")


def _neuron(name: str, chips: int, cores: int, mem: float, vcpus: int, host: float, what: str) -> Target:
    return Target(
        name=name,
        backend="neuron",
        description=what,
        device_count=chips,
        device_memory_gib=mem / chips,
        cores_per_device=cores // chips,
        host_memory_gib=host,
        vcpus=vcpus,
    )


def _host_memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16.0


for _t in (
    _neuron("trn1.2xlarge", 1, 2, 32, 8, 32, "1 Trainium chip, 2 NeuronCore-v2, 32 GiB device memory"),
    _neuron("trn1.32xlarge", 16, 32, 512, 128, 512, "16 Trainium chips, 32 NeuronCore-v2, 512 GiB device memory"),
    _neuron("inf2.xlarge", 1, 2, 32, 4, 16, "1 Inferentia2 chip, 2 NeuronCore-v2, 32 GiB device memory"),
    _neuron("inf2.8xlarge", 1, 2, 32, 32, 128, "1 Inferentia2 chip, 2 NeuronCore-v2, 32 GiB device memory"),
    _neuron("inf2.24xlarge", 6, 12, 192, 96, 384, "6 Inferentia2 chips, 12 NeuronCore-v2, 192 GiB device memory"),
    _neuron("inf2.48xlarge", 12, 24, 384, 192, 768, "12 Inferentia2 chips, 24 NeuronCore-v2, 384 GiB device memory"),
    Target("cuda", "cuda", "one CUDA GPU with 24 GiB (e.g. L4, A10G)", 1, 24.0, 1, 64.0, 8),
):
    TARGETS.add(_t.name, _t)


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True where the CPU computes bfloat16 itself (AVX512-BF16 or AMX); elsewhere
    vLLM's CPU kernels emulate it, several times slower than float32."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return True  # unknown: do not warn
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def cpu_target() -> Target:
    host = round(_host_memory_gib(), 1)
    return Target(
        name="cpu",
        backend="cpu",
        description=f"this machine's CPU with vLLM's CPU build ({host:g} GiB host memory)",
        device_count=1,
        device_memory_gib=host,
        cores_per_device=1,
        host_memory_gib=host,
        vcpus=os.cpu_count() or 1,
        native_bf16=cpu_has_native_bf16(),
    )


def target_names() -> list[str]:
    return ["cpu", *TARGETS.names()]


def get_target(name: str) -> Target:
    """The target called ``name``; PlanError TARGET_UNKNOWN with a suggestion otherwise."""
    if name == "cpu":
        return cpu_target()
    found = TARGETS.find(name)
    if found is None:
        names = target_names()
        guess = closest(name, names)
        msg = f"unknown target '{name}'" + (f": did you mean {guess}?" if guess else "")
        raise PlanError(
            msg,
            f"choose one of: {', '.join(names)} ('podium targets' lists them)",
            code=Code.TARGET_UNKNOWN,
            details={"target": name},
        )
    return found


def all_targets() -> list[Target]:
    return [cpu_target(), *TARGETS.values()]
