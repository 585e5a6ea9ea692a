"""Tiny, real-shaped model repositories built with numpy + safetensors (no torch).

A built folder looks like a Hugging Face model repository: ``config.json`` with the
fields a real one carries, ``generation_config.json``, weights whose tensor names and
shapes are the ones transformers and vLLM use for the architecture, and a working
byte-level BPE tokenizer (``tokenizer.json`` loads with ``tokenizers``) with a ChatML
chat template. Weights are random (seeded): the models load and run, they do not talk.

    >>> build_tiny_model("/tmp/tiny-qwen3", "qwen3")  # doctest: +SKIP
    PosixPath('/tmp/tiny-qwen3')

The same arguments always give byte-identical files.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# --- architectures --------------------------------------------------------------------


@dataclass(frozen=True)
class Arch:
    architecture: str
    model_type: str
    rope_theta: float
    qkv_bias: bool = False
    qk_norm: bool = False
    moe: str | None = None  # "mixtral" | "qwen3_moe"
    gemma_norms: bool = False  # pre/post feed-forward norms (gemma3)
    always_tied: bool = False
    text_config: bool = False  # multimodal config keeping the text dims under text_config
    prefix: str = "model."  # where the text model's tensors live


ARCHS: dict[str, Arch] = {
    "llama": Arch("LlamaForCausalLM", "llama", 500000.0),
    "mistral": Arch("MistralForCausalLM", "mistral", 1000000.0),
    "qwen2": Arch("Qwen2ForCausalLM", "qwen2", 1000000.0, qkv_bias=True),
    "qwen3": Arch("Qwen3ForCausalLM", "qwen3", 1000000.0, qk_norm=True),
    "qwen3_moe": Arch("Qwen3MoeForCausalLM", "qwen3_moe", 1000000.0, qk_norm=True, moe="qwen3_moe"),
    "mixtral": Arch("MixtralForCausalLM", "mixtral", 1000000.0, moe="mixtral"),
    "gemma3_text": Arch(
        "Gemma3ForCausalLM",
        "gemma3_text",
        1000000.0,
        qk_norm=True,
        gemma_norms=True,
        always_tied=True,
    ),
    # Gemma 3 as published (4b and up): a multimodal config with the text dims under
    # text_config. Only the language model's tensors are written (no vision tower), so
    # this one is for reading facts, not for serving.
    "gemma3": Arch(
        "Gemma3ForConditionalGeneration",
        "gemma3",
        1000000.0,
        qk_norm=True,
        gemma_norms=True,
        always_tied=True,
        text_config=True,
        prefix="model.language_model.",
    ),
}

DTYPES = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}
_ITEMSIZE = {"BF16": 2, "F16": 2, "F32": 4}

# --- tokenizer ------------------------------------------------------------------------

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
BOS_TOKEN, EOS_TOKEN, PAD_TOKEN = "<|endoftext|>", "<|im_end|>", "<|endoftext|>"

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table used by byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs, strict=True)}


def byte_level_tokenizer() -> dict:
    """A byte-level BPE tokenizer.json with no merges: one token per byte, plus the
    ChatML special tokens (ids 256, 257, 258)."""
    table = _bytes_to_unicode()
    vocab = {table[b]: b for b in range(256)}
    added = [
        {
            "id": 256 + i,
            "content": tok,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, tok in enumerate(SPECIAL_TOKENS)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": True,
            "trim_offsets": True,
            "use_regex": True,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [],
        },
    }


def _write_json(path: Path, data: object) -> None:
    path.write_text(
        json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _write_tokenizer(out: Path, chat_template: bool) -> None:
    _write_json(out / "tokenizer.json", byte_level_tokenizer())
    config: dict[str, object] = {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(256 + i): {
                "content": tok,
                "lstrip": False,
                "normalized": False,
                "rstrip": False,
                "single_word": False,
                "special": True,
            }
            for i, tok in enumerate(SPECIAL_TOKENS)
        },
        "bos_token": BOS_TOKEN,
        "eos_token": EOS_TOKEN,
        "pad_token": PAD_TOKEN,
        "unk_token": None,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 131072,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    if chat_template:
        config["chat_template"] = CHATML_TEMPLATE
    _write_json(out / "tokenizer_config.json", config)
    _write_json(
        out / "special_tokens_map.json",
        {"bos_token": BOS_TOKEN, "eos_token": EOS_TOKEN, "pad_token": PAD_TOKEN},
    )


def _token_id(tokenizer_dir: Path, token: str | None) -> int | None:
    """The id of ``token`` in a copied tokenizer.json (added tokens first, then vocab)."""
    if token is None or not (tokenizer_dir / "tokenizer.json").is_file():
        return None
    data = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))
    for added in data.get("added_tokens", []):
        if added.get("content") == token:
            return int(added["id"])
    vocab = data.get("model", {}).get("vocab")
    return vocab.get(token) if isinstance(vocab, dict) else None


def _copied_tokenizer_facts(src: Path) -> tuple[int, int | None, int | None]:
    """(size of the vocabulary, bos id, eos id) of a tokenizer copied from ``src``."""
    data = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    ids = list(data.get("model", {}).get("vocab", {}).values()) + [
        a["id"] for a in data.get("added_tokens", [])
    ]
    cfg_path = src / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}

    def content(tok: object) -> str | None:
        return tok.get("content") if isinstance(tok, dict) else tok  # type: ignore[return-value]

    return (
        max(ids) + 1,
        _token_id(src, content(cfg.get("bos_token"))),
        _token_id(src, content(cfg.get("eos_token"))),
    )


# --- weights --------------------------------------------------------------------------


def tensor_shapes(
    arch: str,
    *,
    hidden_size: int,
    num_layers: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    intermediate_size: int,
    vocab_size: int,
    tie_word_embeddings: bool,
    num_experts: int = 4,
) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, as the Hugging Face implementation of ``arch`` names them."""
    a = ARCHS[arch]
    h, q, kv = hidden_size, heads * head_dim, kv_heads * head_dim
    p = a.prefix
    shapes: dict[str, tuple[int, ...]] = {f"{p}embed_tokens.weight": (vocab_size, h)}
    for i in range(num_layers):
        layer = f"{p}layers.{i}."
        shapes[layer + "self_attn.q_proj.weight"] = (q, h)
        shapes[layer + "self_attn.k_proj.weight"] = (kv, h)
        shapes[layer + "self_attn.v_proj.weight"] = (kv, h)
        shapes[layer + "self_attn.o_proj.weight"] = (h, q)
        if a.qkv_bias:
            shapes[layer + "self_attn.q_proj.bias"] = (q,)
            shapes[layer + "self_attn.k_proj.bias"] = (kv,)
            shapes[layer + "self_attn.v_proj.bias"] = (kv,)
        if a.qk_norm:
            shapes[layer + "self_attn.q_norm.weight"] = (head_dim,)
            shapes[layer + "self_attn.k_norm.weight"] = (head_dim,)
        if a.moe == "mixtral":
            shapes[layer + "block_sparse_moe.gate.weight"] = (num_experts, h)
            for e in range(num_experts):
                ex = f"{layer}block_sparse_moe.experts.{e}."
                shapes[ex + "w1.weight"] = (intermediate_size, h)
                shapes[ex + "w2.weight"] = (h, intermediate_size)
                shapes[ex + "w3.weight"] = (intermediate_size, h)
        elif a.moe == "qwen3_moe":
            shapes[layer + "mlp.gate.weight"] = (num_experts, h)
            for e in range(num_experts):
                ex = f"{layer}mlp.experts.{e}."
                shapes[ex + "gate_proj.weight"] = (intermediate_size, h)
                shapes[ex + "up_proj.weight"] = (intermediate_size, h)
                shapes[ex + "down_proj.weight"] = (h, intermediate_size)
        else:
            shapes[layer + "mlp.gate_proj.weight"] = (intermediate_size, h)
            shapes[layer + "mlp.up_proj.weight"] = (intermediate_size, h)
            shapes[layer + "mlp.down_proj.weight"] = (h, intermediate_size)
        shapes[layer + "input_layernorm.weight"] = (h,)
        shapes[layer + "post_attention_layernorm.weight"] = (h,)
        if a.gemma_norms:
            shapes[layer + "pre_feedforward_layernorm.weight"] = (h,)
            shapes[layer + "post_feedforward_layernorm.weight"] = (h,)
    shapes[f"{p}norm.weight"] = (h,)
    if not tie_word_embeddings:
        shapes["lm_head.weight"] = (vocab_size, h)
    return shapes


def _encode(values: np.ndarray, st_dtype: str) -> bytes:
    if st_dtype == "F32":
        return values.astype("<f4").tobytes()
    if st_dtype == "F16":
        return values.astype("<f2").tobytes()
    # bfloat16: the upper half of float32, rounded to nearest even.
    bits = values.astype("<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2").tobytes()


def write_safetensors(
    path: Path,
    tensors: dict[str, tuple[tuple[int, ...], bytes]],
    st_dtype: str,
    metadata: dict[str, str],
) -> None:
    """Write a safetensors file: 8-byte little-endian header length, JSON header, data."""
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, (shape, data) in tensors.items():
        header[name] = {
            "dtype": st_dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + len(data)],
        }
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _shape, data in tensors.values():
            f.write(data)


def _shards(names: list[str], n: int) -> Iterator[list[str]]:
    per = -(-len(names) // n)
    for i in range(n):
        yield names[i * per : (i + 1) * per]


def _write_weights(
    out: Path,
    shapes: dict[str, tuple[int, ...]],
    st_dtype: str,
    seed: int,
    shards: int,
    norm_init: float,
) -> None:
    rng = np.random.default_rng(seed)
    data: dict[str, tuple[tuple[int, ...], bytes]] = {}
    for name, shape in shapes.items():
        if name.endswith("norm.weight"):
            values = np.full(shape, norm_init, dtype=np.float32)
        elif name.endswith(".bias"):
            values = np.zeros(shape, dtype=np.float32)
        else:
            values = rng.normal(0.0, 0.02, size=shape).astype(np.float32)
        data[name] = (shape, _encode(values, st_dtype))
    meta = {"format": "pt"}
    if shards <= 1:
        write_safetensors(out / "model.safetensors", data, st_dtype, meta)
        return
    weight_map: dict[str, str] = {}
    names = list(data)
    for i, group in enumerate(_shards(names, shards), start=1):
        fname = f"model-{i:05d}-of-{shards:05d}.safetensors"
        write_safetensors(out / fname, {k: data[k] for k in group}, st_dtype, meta)
        weight_map.update(dict.fromkeys(group, fname))
    total = sum(len(b) for _s, b in data.values())
    _write_json(
        out / "model.safetensors.index.json",
        {"metadata": {"total_size": total}, "weight_map": weight_map},
    )


def _write_pickle_placeholder(out: Path, seed: int) -> None:
    # An opaque stand-in for a pickled PyTorch checkpoint. Podium never unpickles
    # weights (that would run code from the submission), so the content only has to
    # exist and look binary: it is NOT a loadable torch file.
    rng = np.random.default_rng(seed + 1)
    (out / "pytorch_model.bin").write_bytes(b"PK\x03\x04podium-opaque-pickle" + rng.bytes(4096))


# --- config ---------------------------------------------------------------------------


def _config(
    a: Arch,
    *,
    text: dict[str, object],
    dtype: str,
    tie: bool,
    bos_id: int | None,
    eos_id: int | None,
    auto_map: bool,
) -> dict[str, object]:
    if a.text_config:
        config: dict[str, object] = {
            "architectures": [a.architecture],
            "model_type": a.model_type,
            "text_config": {"model_type": "gemma3_text", **text},
            "vision_config": {
                "model_type": "siglip_vision_model",
                "hidden_size": 32,
                "num_hidden_layers": 1,
            },
            "mm_tokens_per_image": 256,
            "boi_token_index": 255999,
            "eoi_token_index": 256000,
            "image_token_index": 262144,
        }
    else:
        config = {"architectures": [a.architecture], "model_type": a.model_type, **text}
    config.update(
        {
            "bos_token_id": bos_id,
            "eos_token_id": eos_id,
            "tie_word_embeddings": tie,
            "torch_dtype": dtype,
            "transformers_version": "4.57.1",
        }
    )
    if auto_map:
        config["auto_map"] = {
            "AutoConfig": "configuration_tiny.TinyConfig",
            "AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM",
        }
    return config


def _text_dims(
    a: Arch,
    *,
    hidden_size: int,
    num_layers: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    intermediate_size: int,
    vocab_size: int,
    max_position_embeddings: int,
    num_experts: int,
) -> dict[str, object]:
    dims: dict[str, object] = {
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "hidden_act": "gelu_pytorch_tanh" if a.gemma_norms else "silu",
        "max_position_embeddings": max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": a.rope_theta,
        "rope_scaling": None,
        "attention_bias": a.qkv_bias,
        "attention_dropout": 0.0,
        "initializer_range": 0.02,
        "use_cache": True,
        "vocab_size": vocab_size,
    }
    if a.model_type in ("qwen2", "qwen3", "qwen3_moe", "mistral", "mixtral"):
        dims["sliding_window"] = None
        dims["use_sliding_window"] = False
        dims["max_window_layers"] = num_layers
    if a.moe == "mixtral":
        dims.update(num_local_experts=num_experts, num_experts_per_tok=2, router_aux_loss_coef=0.02)
    if a.moe == "qwen3_moe":
        dims.update(
            num_experts=num_experts,
            num_experts_per_tok=2,
            moe_intermediate_size=intermediate_size,
            decoder_sparse_step=1,
            mlp_only_layers=[],
            norm_topk_prob=True,
        )
    if a.gemma_norms:
        dims.update(
            query_pre_attn_scalar=head_dim,
            sliding_window=512,
            sliding_window_pattern=6,
            rope_local_base_freq=10000.0,
            final_logit_softcapping=None,
            attn_logit_softcapping=None,
        )
    return dims


# --- the builder ----------------------------------------------------------------------


def build_tiny_model(
    out_dir: str | Path,
    arch: str = "qwen3",
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    head_dim: int | None = None,
    intermediate_size: int | None = None,
    vocab_size: int | None = None,
    max_position_embeddings: int = 4096,
    tie_word_embeddings: bool | None = None,
    dtype: str = "bfloat16",
    num_experts: int = 4,
    chat_template: bool = True,
    tokenizer: bool = True,
    tokenizer_from: str | Path | None = None,
    weight_format: str = "safetensors",
    shards: int = 1,
    auto_map: bool = False,
    eos_mismatch: bool = False,
    seed: int = 0,
) -> Path:
    """Write a tiny model repository of architecture ``arch`` into ``out_dir``.

    ``vocab_size`` defaults to the tokenizer's size rounded up to 64 (320 for the
    built-in byte-level tokenizer). ``tokenizer_from`` copies the tokenizer files of an
    existing model folder instead of writing the built-in one. ``weight_format`` is
    ``safetensors``, ``pickle`` (an opaque ``pytorch_model.bin``) or ``both``;
    ``shards`` > 1 splits the safetensors into shards with an index.
    ``eos_mismatch`` makes generation_config.json name a different eos id than
    config.json and the tokenizer (the "wrong eos in generation_config" trap).
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r} (known: {', '.join(ARCHS)})")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r} (known: {', '.join(DTYPES)})")
    if weight_format not in ("safetensors", "pickle", "both"):
        raise ValueError(f"unknown weight_format {weight_format!r}")
    a = ARCHS[arch]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    head_dim = head_dim or hidden_size // heads
    intermediate_size = intermediate_size or 2 * hidden_size
    tie = a.always_tied if tie_word_embeddings is None else tie_word_embeddings
    tie = tie or a.always_tied

    bos_id: int | None = SPECIAL_TOKENS.index(BOS_TOKEN) + 256
    eos_id: int | None = SPECIAL_TOKENS.index(EOS_TOKEN) + 256
    tok_size = 256 + len(SPECIAL_TOKENS)
    if tokenizer_from is not None:
        src = Path(tokenizer_from)
        for name in TOKENIZER_FILES:
            if (src / name).is_file():
                shutil.copyfile(src / name, out / name)
        tok_size, bos_id, eos_id = _copied_tokenizer_facts(src)
    elif tokenizer:
        _write_tokenizer(out, chat_template)
    if vocab_size is None:
        vocab_size = -(-tok_size // 64) * 64

    text = _text_dims(
        a,
        hidden_size=hidden_size,
        num_layers=num_layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate_size,
        vocab_size=vocab_size,
        max_position_embeddings=max_position_embeddings,
        num_experts=num_experts,
    )
    config = _config(
        a, text=text, dtype=dtype, tie=tie, bos_id=bos_id, eos_id=eos_id, auto_map=auto_map
    )
    _write_json(out / "config.json", config)
    gen_eos = (bos_id if eos_id != bos_id else (eos_id or 0) + 1) if eos_mismatch else eos_id
    _write_json(
        out / "generation_config.json",
        {
            "bos_token_id": bos_id,
            "eos_token_id": gen_eos,
            "do_sample": False,
            "transformers_version": "4.57.1",
        },
    )
    if auto_map:
        for name in ("configuration_tiny.py", "modeling_tiny.py"):
            (out / name).write_text(
                "# remote code placeholder: Podium refuses to run it\n", encoding="utf-8"
            )

    shapes = tensor_shapes(
        arch,
        hidden_size=hidden_size,
        num_layers=num_layers,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate_size,
        vocab_size=vocab_size,
        tie_word_embeddings=tie,
        num_experts=num_experts,
    )
    if weight_format in ("safetensors", "both"):
        # Gemma's RMSNorm scales by (1 + w): zero is its identity.
        _write_weights(out, shapes, DTYPES[dtype], seed, shards, 0.0 if a.gemma_norms else 1.0)
    if weight_format in ("pickle", "both"):
        _write_pickle_placeholder(out, seed)
    return out


def expected_num_parameters(shapes: dict[str, tuple[int, ...]]) -> int:
    """Sum of the tensor sizes: what a parameter count read from headers must equal."""
    return sum(int(np.prod(s)) for s in shapes.values())
