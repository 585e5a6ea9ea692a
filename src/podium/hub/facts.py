"""Read a snapshot into :class:`ModelFacts` without loading a weight.

Local files only for ``local`` and ``cache`` snapshots (no network, no torch, no
transformers: a few milliseconds). For a ``hub`` snapshot, whose folder holds only the
small files, the weight listing and the safetensors headers are asked of the Hub
(``model_info(files_metadata=True)`` and ``get_safetensors_metadata``).

    >>> facts = read_facts(from_local_dir("tiny-qwen3"))  # doctest: +SKIP
    >>> facts.architectures, facts.num_parameters, facts.dtypes
    (['Qwen3ForCausalLM'], 115072, {'BF16': 115072})
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from podium.errors import Code, HubError
from podium.hub import safetensors_header as st
from podium.hub.tokenizer_facts import flatten_auto_map, read_tokenizer
from podium.hub.types import ModelFacts, ModelSnapshot, WeightFile

FORMATS = {
    ".safetensors": "safetensors",
    ".bin": "pickle",
    ".pt": "pickle",
    ".pth": "pickle",
    ".ckpt": "pickle",
    ".pkl": "pickle",
    ".gguf": "gguf",
}
INDEX_SUFFIX = ".safetensors.index.json"


def weight_format(name: str) -> str | None:
    """``safetensors`` | ``pickle`` | ``gguf`` for a weight file name, None otherwise."""
    return FORMATS.get(os.path.splitext(name)[1].lower())


def _invalid_json(snapshot: ModelSnapshot, name: str, why: str) -> HubError:
    return HubError(
        f"{name} of '{snapshot.repo}' is not valid JSON: {why}",
        f"fix {name} (it must be one JSON object) and push a new revision",
        code=Code.CONFIG_INVALID,
        details={"repo": snapshot.repo, "revision": snapshot.revision, "file": name},
    )


def _read_json(snapshot: ModelSnapshot, name: str, *, required: bool = False) -> dict[str, Any]:
    path = snapshot.path / name
    if not path.is_file():
        if required:
            raise HubError(
                f"'{snapshot.repo}' has no {name}: it is not a Transformers model repository",
                "submit a repository saved with save_pretrained (config.json, weights, tokenizer)",
                code=Code.NOT_A_MODEL_REPO,
                details={"repo": snapshot.repo, "revision": snapshot.revision},
            )
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise _invalid_json(
            snapshot, name, f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise _invalid_json(snapshot, name, "not UTF-8 text") from None
    if not isinstance(data, dict):
        raise _invalid_json(snapshot, name, f"expected an object, found {type(data).__name__}")
    return data


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


class _Dims:
    """Looks a key up in text_config first (multimodal configs), then at the top."""

    def __init__(self, config: dict[str, Any]) -> None:
        text = config.get("text_config")
        self.layers = [text, config] if isinstance(text, dict) else [config]

    def get(self, *keys: str) -> Any:
        for layer in self.layers:
            for key in keys:
                if layer.get(key) is not None:
                    return layer[key]
        return None

    def int(self, *keys: str) -> int | None:
        value = self.get(*keys)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rope_theta(dims: _Dims) -> float | None:
    theta = dims.get("rope_theta")
    if theta is None:  # transformers 5 configs: rope_parameters
        params = dims.get("rope_parameters")
        if isinstance(params, dict):
            theta = params.get("rope_theta")
            if theta is None and params:  # per-layer-type dict (gemma3)
                first = next(iter(params.values()))
                theta = first.get("rope_theta") if isinstance(first, dict) else None
    return float(theta) if isinstance(theta, int | float) and not isinstance(theta, bool) else None


def _local_listing(folder: Path) -> dict[str, int]:
    out = {}
    for entry in os.scandir(folder):
        if entry.is_file():  # follows the cache's symlinks
            out[entry.name] = entry.stat().st_size
    return out


def _cached_tree(snapshot: ModelSnapshot) -> dict[str, int]:
    """The repo's file listing from huggingface_hub's tree cache (hub >= 2), for a cached
    snapshot downloaded without its weights."""
    if snapshot.commit is None:
        return {}
    try:
        from huggingface_hub import get_cached_repo_tree

        cache_dir = snapshot.path.parent.parent.parent
        return {
            f.path: f.size
            for f in get_cached_repo_tree(
                snapshot.repo, revision=snapshot.commit, cache_dir=cache_dir
            )
        }
    except Exception:  # older huggingface_hub, or no tree cached
        return {}


def _remote_listing(
    snapshot: ModelSnapshot, token: str | None, endpoint: str | None
) -> dict[str, int]:
    from huggingface_hub import HfApi

    from podium.hub import hub_errors

    try:
        info = HfApi(endpoint=endpoint).model_info(
            snapshot.repo, revision=snapshot.commit, files_metadata=True, token=token
        )
    except hub_errors.hub_failure_types() as exc:
        raise hub_errors.translate(exc, snapshot.repo, snapshot.revision, token=token) from None
    return {s.rfilename: s.size or 0 for s in info.siblings or []}


def _safetensors_files(listing: dict[str, int], index: dict[str, Any]) -> list[str]:
    if index:
        return sorted(set(index.get("weight_map", {}).values()))
    names = sorted(n for n in listing if "/" not in n and n.endswith(".safetensors"))
    preferred = [n for n in names if n.startswith("model")]
    return preferred or names


def _headers(
    snapshot: ModelSnapshot, files: list[str], token: str | None, endpoint: str | None
) -> st.HeaderSummary | None:
    if not files:
        return None
    paths = [snapshot.path / f for f in files]
    if all(p.is_file() for p in paths):
        total = st.HeaderSummary()
        for p in paths:
            total = total + st.read_summary(p)
        return total
    if snapshot.source != "hub":
        return None  # weights not cached: counts unknown offline
    from huggingface_hub import HfApi

    from podium.hub import hub_errors

    try:
        meta = HfApi(endpoint=endpoint).get_safetensors_metadata(
            snapshot.repo, revision=snapshot.commit, token=token
        )
    except hub_errors.hub_failure_types() as exc:
        raise hub_errors.translate(exc, snapshot.repo, snapshot.revision, token=token) from None
    return st.summary_from_hub_metadata(meta)


def read_facts(
    snapshot: ModelSnapshot, *, token: str | None = None, endpoint: str | None = None
) -> ModelFacts:
    """Everything the preflight needs to know about ``snapshot``'s model.

    Raises HubError NOT_A_MODEL_REPO (no config.json) or CONFIG_INVALID (a JSON file or
    a safetensors header that does not parse; the message names the file).
    """
    config = _read_json(snapshot, "config.json", required=True)
    generation = _read_json(snapshot, "generation_config.json")
    dims = _Dims(config)

    listing = _local_listing(snapshot.path)
    if snapshot.source == "hub":
        listing = _remote_listing(snapshot, token, endpoint) | listing
    elif not any(weight_format(n) for n in listing):
        listing = _cached_tree(snapshot) | listing
    weights = [
        WeightFile(name, fmt, size)
        for name, size in sorted(listing.items())
        if "/" not in name and (fmt := weight_format(name)) is not None
    ]
    index_names = sorted(n for n in listing if "/" not in n and n.endswith(INDEX_SUFFIX))
    index = _read_json(snapshot, index_names[0]) if index_names else {}
    summary = _headers(snapshot, _safetensors_files(listing, index), token, endpoint)

    param_bytes = summary.num_bytes if summary else None
    if param_bytes is None and isinstance(index.get("metadata", {}).get("total_size"), int):
        param_bytes = index["metadata"]["total_size"]

    heads = dims.int("num_attention_heads", "n_head", "num_heads")
    hidden = dims.int("hidden_size", "n_embd", "d_model")
    head_dim = dims.int("head_dim")
    if head_dim is None and hidden and heads:
        head_dim = hidden // heads
    tie = dims.get("tie_word_embeddings")
    if not isinstance(tie, bool):  # absent: tied when no lm_head is stored
        names = summary.tensor_names if summary else frozenset()
        tie = bool(names) and not any(n.endswith("lm_head.weight") for n in names)

    tok = read_tokenizer(snapshot.path)
    quant = config.get("quantization_config") or dims.get("quantization_config")
    eos_ids: dict[str, list[int]] = {}
    if _ids(dims.get("eos_token_id")):
        eos_ids["config"] = _ids(dims.get("eos_token_id"))
    if _ids(generation.get("eos_token_id")):
        eos_ids["generation_config"] = _ids(generation.get("eos_token_id"))
    if tok.eos_ids:
        eos_ids["tokenizer"] = tok.eos_ids
    architectures = config.get("architectures")
    torch_dtype = (
        config.get("torch_dtype") or config.get("dtype") or dims.get("torch_dtype", "dtype")
    )

    return ModelFacts(
        architectures=[str(a) for a in architectures] if isinstance(architectures, list) else [],
        model_type=config.get("model_type") if isinstance(config.get("model_type"), str) else None,
        num_parameters=summary.num_parameters if summary else None,
        parameter_bytes=param_bytes,
        dtypes=dict(summary.parameters_by_dtype) if summary else {},
        torch_dtype=str(torch_dtype) if torch_dtype else None,
        max_position_embeddings=dims.int(
            "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"
        ),
        hidden_size=hidden,
        num_layers=dims.int("num_hidden_layers", "n_layer", "num_layers"),
        num_attention_heads=heads,
        num_kv_heads=dims.int("num_key_value_heads", "num_kv_heads", "n_head_kv") or heads,
        head_dim=head_dim,
        vocab_size=dims.int("vocab_size"),
        tie_word_embeddings=tie,
        rope_theta=_rope_theta(dims),
        weight_files=weights,
        tokenizer_files=tok.files,
        has_tokenizer=tok.has_tokenizer,
        has_chat_template=tok.has_chat_template,
        eos_ids=eos_ids,
        auto_map=flatten_auto_map(config.get("auto_map")) | tok.auto_map,
        quantization=quant.get("quant_method") if isinstance(quant, dict) else None,
        config=config,
    )
