"""Memory estimate: weights + KV cache for max-num-seqs x max-model-len, per shard.

weights   = parameters x bytes of the serving dtype (or the stored bytes for quantized
            weights, which keep their packed size)
kv cache  = 2 (K and V) x layers x kv heads x head dim x bytes x max-num-seqs x max-model-len
overhead  = 5 % of the weights + 0.5 GiB per shard (activations, runtime, buffers)

On Neuron the model is sharded over every NeuronCore (tensor parallel), so each core
holds 1/tp of the total and must fit in its share of the device memory.
"""

from __future__ import annotations

from podium.hub.types import ModelFacts
from podium.plan.types import MemoryEstimate, Target

GIB = 1024**3

DTYPE_BYTES = {
    "float32": 4, "float": 4, "fp32": 4, "F32": 4,
    "float16": 2, "half": 2, "fp16": 2, "F16": 2,
    "bfloat16": 2, "bf16": 2, "BF16": 2,
    "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1, "fp8_inc": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "int8": 1, "I8": 1, "U8": 1,
}


def serving_dtype(facts: ModelFacts, requested: str | None, backend: str) -> str:
    """The dtype the engine will use. ``auto`` follows the config, except on Neuron where
    the plugin compiles ``auto`` as float32 (REFERENCE.md)."""
    if requested and requested != "auto":
        return {"half": "float16", "float": "float32"}.get(requested, requested)
    if backend == "neuron":
        return "float32"
    stored = (facts.torch_dtype or "").replace("torch.", "")
    return stored if stored in DTYPE_BYTES else "bfloat16"


def estimate(
    facts: ModelFacts,
    target: Target,
    *,
    dtype: str,
    kv_cache_dtype: str | None,
    max_num_seqs: int,
    max_model_len: int,
    shards: int,
) -> MemoryEstimate:
    weights = _weights_bytes(facts, dtype)
    kv_bytes = DTYPE_BYTES.get(kv_cache_dtype or "auto", DTYPE_BYTES.get(dtype, 2))
    layers = facts.num_layers or 0
    kv_heads = facts.num_kv_heads or facts.num_attention_heads or 0
    head_dim = facts.head_dim or (
        (facts.hidden_size // facts.num_attention_heads)
        if facts.hidden_size and facts.num_attention_heads
        else 0
    )
    kv = 2 * layers * kv_heads * head_dim * kv_bytes * max_num_seqs * max_model_len
    overhead = int(0.05 * weights) + shards * GIB // 2
    if target.backend == "neuron":
        per_shard = int(target.memory_per_core_gib * GIB)
    else:
        per_shard = int(target.device_memory_gib * GIB)
    return MemoryEstimate(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        overhead_bytes=overhead,
        shards=shards,
        available_bytes_per_shard=per_shard,
    )


def _weights_bytes(facts: ModelFacts, dtype: str) -> int:
    if facts.quantization and facts.parameter_bytes:
        return facts.parameter_bytes
    if facts.num_parameters:
        return facts.num_parameters * DTYPE_BYTES.get(dtype, 2)
    return facts.parameter_bytes or sum(w.size for w in facts.weight_files)
