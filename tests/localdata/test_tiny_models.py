"""Tiny models: real tensor names and shapes, counts, determinism, size, tokenizer."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest

from podium.localdata.tiny_models import ARCHS, build_tiny_model


def _header(path: Path) -> dict:
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def _tensor_sum(model: Path) -> int:
    """Parameter count computed independently of podium: from the safetensors library."""
    import safetensors
    total = 0
    for file in sorted(model.glob("*.safetensors")):
        with safetensors.safe_open(str(file), framework="numpy") as f:
            for name in f.keys():
                total += math.prod(f.get_slice(name).get_shape())
    return total


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_every_arch_is_small_and_consistent(arch: str, tiny_models: dict[str, Path]) -> None:
    model = tiny_models[arch]
    config = json.loads((model / "config.json").read_text())
    assert config["architectures"] == [ARCHS[arch].architecture]
    assert config["model_type"] == ARCHS[arch].model_type
    assert config["torch_dtype"] == "bfloat16"
    size = sum(p.stat().st_size for p in model.iterdir())
    assert size < 1_000_000
    header = _header(model / "model.safetensors")
    assert all(v["dtype"] == "BF16" for k, v in header.items() if k != "__metadata__")
    # embeddings match the configured vocabulary and hidden size
    dims = config.get("text_config", config)
    embed = next(v for k, v in header.items() if k.endswith("embed_tokens.weight"))
    assert embed["shape"] == [dims["vocab_size"], dims["hidden_size"]]
    layers = {int(k.split(".layers.")[1].split(".")[0]) for k in header if ".layers." in k}
    assert layers == set(range(dims["num_hidden_layers"]))


def test_real_tensor_names_qwen2_qwen3_llama(tiny_models: dict[str, Path]) -> None:
    q2 = _header(tiny_models["qwen2"] / "model.safetensors")
    q3 = _header(tiny_models["qwen3"] / "model.safetensors")
    ll = _header(tiny_models["llama"] / "model.safetensors")
    assert q2["model.layers.0.self_attn.q_proj.bias"]["shape"] == [64]
    assert q2["model.layers.1.self_attn.k_proj.bias"]["shape"] == [32]  # 2 kv heads x 16
    assert "model.layers.0.self_attn.q_norm.weight" not in q2
    assert q3["model.layers.0.self_attn.q_norm.weight"]["shape"] == [16]
    assert q3["model.layers.0.self_attn.k_norm.weight"]["shape"] == [16]
    assert "model.layers.0.self_attn.q_proj.bias" not in q3
    assert ll["model.layers.0.self_attn.k_proj.weight"]["shape"] == [32, 64]
    assert ll["model.layers.0.mlp.down_proj.weight"]["shape"] == [64, 128]
    for h in (q2, q3, ll):
        assert "model.norm.weight" in h and "lm_head.weight" in h


def test_moe_and_gemma_names(tiny_models: dict[str, Path]) -> None:
    mx = _header(tiny_models["mixtral"] / "model.safetensors")
    assert mx["model.layers.0.block_sparse_moe.gate.weight"]["shape"] == [4, 64]
    assert "model.layers.1.block_sparse_moe.experts.3.w2.weight" in mx
    qm = _header(tiny_models["qwen3_moe"] / "model.safetensors")
    assert "model.layers.0.mlp.experts.0.gate_proj.weight" in qm
    g = _header(tiny_models["gemma3"] / "model.safetensors")
    assert "model.language_model.layers.0.pre_feedforward_layernorm.weight" in g
    assert "lm_head.weight" not in g  # gemma ties its embeddings


def test_tied_embeddings_drop_lm_head(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "m", "qwen3", tie_word_embeddings=True)
    assert "lm_head.weight" not in _header(model / "model.safetensors")
    assert json.loads((model / "config.json").read_text())["tie_word_embeddings"] is True


def test_deterministic_and_seeded(tmp_path: Path) -> None:
    a = build_tiny_model(tmp_path / "a", "llama", seed=3)
    b = build_tiny_model(tmp_path / "b", "llama", seed=3)
    c = build_tiny_model(tmp_path / "c", "llama", seed=4)
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()


def test_param_count_equals_independent_tensor_sum(tiny_models: dict[str, Path]) -> None:
    from podium.hub.facts import read_facts
    from podium.hub.resolve import from_local_dir

    for arch, model in tiny_models.items():
        assert read_facts(from_local_dir(model)).num_parameters == _tensor_sum(model), arch


def test_float32_and_shards(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "m", "qwen3", dtype="float32", shards=3)
    index = json.loads((model / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert shards == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
    assert not (model / "model.safetensors").exists()
    assert index["metadata"]["total_size"] == 4 * _tensor_sum(model)


def test_pickle_and_both(tmp_path: Path) -> None:
    p = build_tiny_model(tmp_path / "p", "llama", weight_format="pickle")
    assert (p / "pytorch_model.bin").is_file() and not (p / "model.safetensors").exists()
    both = build_tiny_model(tmp_path / "b", "llama", weight_format="both")
    assert (both / "pytorch_model.bin").is_file() and (both / "model.safetensors").is_file()


def test_tokenizer_loads_and_encodes_specials(tiny_models: dict[str, Path]) -> None:
    import tokenizers
    tok = tokenizers.Tokenizer.from_file(str(tiny_models["qwen3"] / "tokenizer.json"))
    ids = tok.encode("<|im_start|>user\nHé<|im_end|>").ids
    assert ids[0] == 257 and ids[-1] == 258
    assert tok.decode(ids, skip_special_tokens=False) == "<|im_start|>user\nHé<|im_end|>"
    cfg = json.loads((tiny_models["qwen3"] / "tokenizer_config.json").read_text())
    assert cfg["eos_token"] == "<|im_end|>" and "<|im_start|>" in cfg["chat_template"]


def test_options_no_tokenizer_no_template_auto_map_eos(tmp_path: Path) -> None:
    bare = build_tiny_model(tmp_path / "bare", "qwen3", tokenizer=False)
    assert not (bare / "tokenizer.json").exists()
    plain = build_tiny_model(tmp_path / "plain", "qwen3", chat_template=False)
    assert "chat_template" not in json.loads((plain / "tokenizer_config.json").read_text())
    remote = build_tiny_model(tmp_path / "remote", "llama", auto_map=True)
    assert "AutoModelForCausalLM" in json.loads((remote / "config.json").read_text())["auto_map"]
    bad = build_tiny_model(tmp_path / "bad", "qwen3", eos_mismatch=True)
    cfg = json.loads((bad / "config.json").read_text())
    gen = json.loads((bad / "generation_config.json").read_text())
    assert cfg["eos_token_id"] != gen["eos_token_id"]


def test_tokenizer_copied_from_another_model(tmp_path: Path, tiny_models: dict[str, Path]) -> None:
    src = tiny_models["llama"]
    model = build_tiny_model(tmp_path / "m", "qwen3", tokenizer_from=src, vocab_size=512)
    assert (model / "tokenizer.json").read_bytes() == (src / "tokenizer.json").read_bytes()
    cfg = json.loads((model / "config.json").read_text())
    assert cfg["vocab_size"] == 512 and cfg["eos_token_id"] == 258


def test_unknown_arch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build_tiny_model(tmp_path / "x", "gpt2")
