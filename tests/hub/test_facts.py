"""ModelFacts of the tiny models and of broken or unusual repositories."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podium.errors import Code, HubError
from podium.hub.facts import read_facts, weight_format
from podium.hub.resolve import from_local_dir, resolve
from podium.localdata.tiny_models import ARCHS, build_tiny_model, tensor_shapes


def _facts(path: Path):
    return read_facts(from_local_dir(path))


def _expected(arch: str, tie: bool) -> int:
    shapes = tensor_shapes(
        arch,
        hidden_size=64,
        num_layers=2,
        heads=4,
        kv_heads=2,
        head_dim=16,
        intermediate_size=128,
        vocab_size=320,
        tie_word_embeddings=tie,
    )
    return sum(int(__import__("math").prod(s)) for s in shapes.values())


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_facts_of_each_architecture(arch: str, tiny_models) -> None:
    f = _facts(tiny_models[arch])
    a = ARCHS[arch]
    assert f.architectures == [a.architecture] and f.model_type == a.model_type
    assert (f.hidden_size, f.num_layers, f.num_attention_heads, f.num_kv_heads) == (64, 2, 4, 2)
    assert (f.head_dim, f.vocab_size, f.max_position_embeddings) == (16, 320, 4096)
    assert f.rope_theta == a.rope_theta and f.torch_dtype == "bfloat16"
    assert f.tie_word_embeddings is a.always_tied
    assert f.num_parameters == _expected(arch, a.always_tied)
    assert f.dtypes == {"BF16": f.num_parameters}
    assert f.parameter_bytes == 2 * f.num_parameters
    assert f.weight_formats == {"safetensors"} and not f.needs_remote_code
    assert f.has_tokenizer and f.has_chat_template and f.quantization is None
    assert f.eos_ids == {"config": [258], "generation_config": [258], "tokenizer": [258]}


def test_multimodal_dims_come_from_text_config(tiny_models) -> None:
    cfg = json.loads((tiny_models["gemma3"] / "config.json").read_text())
    assert "hidden_size" not in cfg and cfg["text_config"]["hidden_size"] == 64
    f = _facts(tiny_models["gemma3"])
    assert f.hidden_size == 64 and f.num_layers == 2 and f.model_type == "gemma3"


def test_sharded_float32(tmp_path: Path) -> None:
    f = _facts(build_tiny_model(tmp_path / "m", "llama", dtype="float32", shards=3))
    assert f.num_parameters == _expected("llama", False)
    assert f.dtypes == {"F32": f.num_parameters} and f.parameter_bytes == 4 * f.num_parameters
    assert len(f.weight_files) == 3 and f.torch_dtype == "float32"


def test_weight_formats(tmp_path: Path) -> None:
    f = _facts(build_tiny_model(tmp_path / "p", "llama", weight_format="pickle"))
    assert f.weight_formats == {"pickle"} and f.num_parameters is None
    f = _facts(build_tiny_model(tmp_path / "b", "llama", weight_format="both"))
    assert f.weight_formats == {"pickle", "safetensors"}
    assert [weight_format(n) for n in ("a.gguf", "x.pt", "y.pth", "z.ckpt", "w.pkl", "c.json")] == [
        "gguf",
        "pickle",
        "pickle",
        "pickle",
        "pickle",
        None,
    ]


def test_eos_mismatch_auto_map_quantization(tmp_path: Path) -> None:
    m = build_tiny_model(tmp_path / "m", "qwen3", eos_mismatch=True, auto_map=True)
    cfg = json.loads((m / "config.json").read_text())
    cfg["quantization_config"] = {"quant_method": "awq", "bits": 4}
    (m / "config.json").write_text(json.dumps(cfg))
    tc = json.loads((m / "tokenizer_config.json").read_text())
    tc["auto_map"] = {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]}
    (m / "tokenizer_config.json").write_text(json.dumps(tc))
    f = _facts(m)
    assert f.eos_ids["config"] == [258] and f.eos_ids["tokenizer"] == [258]
    assert f.eos_ids["generation_config"] == [256]
    assert (
        f.needs_remote_code
        and f.auto_map["AutoModelForCausalLM"] == "modeling_tiny.TinyForCausalLM"
    )
    assert f.auto_map["AutoTokenizer"] == "tokenization_tiny.TinyTokenizer"
    assert f.quantization == "awq"


def test_no_tokenizer_no_chat_template(tmp_path: Path) -> None:
    f = _facts(build_tiny_model(tmp_path / "a", "qwen3", tokenizer=False))
    assert not f.has_tokenizer and f.tokenizer_files == [] and "tokenizer" not in f.eos_ids
    f = _facts(build_tiny_model(tmp_path / "b", "qwen3", chat_template=False))
    assert f.has_tokenizer and not f.has_chat_template


def test_chat_template_in_its_own_file(tmp_path: Path) -> None:
    m = build_tiny_model(tmp_path / "m", "qwen3", chat_template=False)
    (m / "chat_template.jinja").write_text("{{ messages }}")
    f = _facts(m)
    assert f.has_chat_template and "chat_template.jinja" in f.tokenizer_files


def test_eos_list_and_missing_generation_config(tmp_path: Path) -> None:
    m = build_tiny_model(tmp_path / "m", "llama")
    cfg = json.loads((m / "config.json").read_text())
    cfg["eos_token_id"] = [258, 256]
    (m / "config.json").write_text(json.dumps(cfg))
    (m / "generation_config.json").unlink()
    f = _facts(m)
    assert f.eos_ids["config"] == [258, 256] and "generation_config" not in f.eos_ids


def test_bad_config_json_names_the_file(tmp_path: Path) -> None:
    m = build_tiny_model(tmp_path / "m", "llama")
    (m / "config.json").write_text('{"architectures": ["LlamaForCausalLM"],')
    with pytest.raises(HubError) as info:
        _facts(m)
    assert info.value.code is Code.CONFIG_INVALID and "config.json" in info.value.message
    assert "line 1" in info.value.message
    (m / "config.json").write_text("[1, 2]")
    with pytest.raises(HubError) as info:
        _facts(m)
    assert info.value.code is Code.CONFIG_INVALID


def test_bad_generation_config_names_the_file(tmp_path: Path) -> None:
    m = build_tiny_model(tmp_path / "m", "llama")
    (m / "generation_config.json").write_text("{nope")
    with pytest.raises(HubError) as info:
        _facts(m)
    assert info.value.code is Code.CONFIG_INVALID
    assert "generation_config.json" in info.value.message


def test_missing_config_json(tmp_path: Path, tiny_models) -> None:
    m = tmp_path / "m"
    shutil.copytree(tiny_models["llama"], m)
    snap = from_local_dir(m)
    (m / "config.json").unlink()
    with pytest.raises(HubError) as info:
        read_facts(snap)
    assert info.value.code is Code.NOT_A_MODEL_REPO


def test_facts_from_the_cache_and_of_two_revisions(hub_cache) -> None:
    v1 = read_facts(resolve("podium-test/tiny-qwen3", "v1", cache_dir=hub_cache.path))
    main = read_facts(resolve("podium-test/tiny-qwen3", "main", cache_dir=hub_cache.path))
    assert v1.num_parameters == main.num_parameters == _expected("qwen3", False)
    assert [w.name for w in v1.weight_files] == ["model.safetensors"]


def test_cached_snapshot_without_weights_lists_them_from_the_tree_cache(
    hub_cache, tmp_path
) -> None:
    """A snapshot downloaded online holds only the small files: offline, the weight
    listing comes from huggingface_hub's tree cache and the counts are unknown."""
    cache = tmp_path / "cache"
    shutil.copytree(hub_cache.path, cache, symlinks=True)
    sha = hub_cache.commits["llama@main"]
    (cache / "models--podium-test--tiny-llama" / "snapshots" / sha / "model.safetensors").unlink()
    f = read_facts(resolve("podium-test/tiny-llama", cache_dir=cache))
    assert [w.name for w in f.weight_files] == ["model.safetensors"]
    assert f.num_parameters is None and f.dtypes == {}


def test_read_facts_is_fast_and_imports_nothing_heavy(tiny_models) -> None:
    code = (
        "import sys, time; t = time.perf_counter()\n"
        "from podium.hub.resolve import from_local_dir\n"
        "from podium.hub.facts import read_facts\n"
        f"read_facts(from_local_dir({str(tiny_models['qwen3'])!r}))\n"
        "heavy = [m for m in ('torch', 'transformers', 'numpy', 'huggingface_hub') if m in sys.modules]\n"
        "print(time.perf_counter() - t, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.split(" ", 1)
    assert float(seconds) < 0.5 and heavy.strip() == "[]"
