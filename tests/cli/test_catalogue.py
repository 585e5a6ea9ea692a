"""The catalogue of bad submissions: each runs `podium check --json` as a participant would
and asserts its stable code, the exit status, and that errors carry a hint."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.localdata.hub_cache import publish
from podium.localdata.tiny_models import build_tiny_model

CHALLENGE_YAML = """
name: strict
title: A strict challenge
target: trn1.2xlarge
defaults: {vllm.max-model-len: 1024, vllm.max-num-seqs: 4}
maximum: {vllm.max-num-seqs: 8, vllm-inference.max-tokens: 64}
allowed_flags: [neuron.model-type, vllm.max-model-len, vllm.max-num-seqs, vllm-inference.max-tokens, vllm.dtype]
evaluation:
  dataset: data.jsonl
  api: completions
  scorers: [{name: exact_match, metric: accuracy}]
  primary_metric: accuracy
"""


@dataclass(frozen=True)
class World:
    cache: Path
    dirs: dict[str, Path] = field(default_factory=dict)
    challenge: Path | None = None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("catalogue")
    cache = root / "hub"
    src = root / "src"
    models = {
        "qwen3": build_tiny_model(src / "qwen3", "qwen3"),
        "llama": build_tiny_model(src / "llama", "llama"),
        "remote": build_tiny_model(src / "remote", "llama", auto_map=True),
        "pickle": build_tiny_model(src / "pickle", "llama", weight_format="pickle"),
        "notok": build_tiny_model(src / "notok", "llama", tokenizer=False),
        "nochat": build_tiny_model(src / "nochat", "llama", chat_template=False),
        "eos": build_tiny_model(src / "eos", "llama", eos_mismatch=True),
        "long": build_tiny_model(src / "long", "llama", max_position_embeddings=131072),
    }
    phi = build_tiny_model(src / "phi", "llama")
    cfg = json.loads((phi / "config.json").read_text())
    cfg.update(architectures=["Phi3ForCausalLM"], model_type="phi3")
    (phi / "config.json").write_text(json.dumps(cfg))
    models["phi"] = phi
    noweights = build_tiny_model(src / "noweights", "llama")
    (noweights / "model.safetensors").unlink()
    models["noweights"] = noweights
    broken = build_tiny_model(src / "broken", "llama")
    (broken / "config.json").write_text('{"architectures": ["LlamaForCausalLM"],')
    models["broken"] = broken
    for name, path in models.items():
        publish(path, f"cat/{name}", cache, revisions=("main", "v1"))
    bare = src / "bare"
    bare.mkdir()
    (bare / "README.md").write_text("a dataset, not a model\n")
    publish(bare, "cat/bare", cache)
    chal = root / "challenge"
    chal.mkdir()
    (chal / "challenge.yaml").write_text(CHALLENGE_YAML)
    (chal / "data.jsonl").write_text('{"id": "1", "prompt": "1+1=", "answer": "2", "split": "public"}\n')
    return World(cache=cache, dirs=models, challenge=chal / "challenge.yaml")


@pytest.fixture()
def check(world: World, monkeypatch: pytest.MonkeyPatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_CACHE", str(world.cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(world.cache))

    def run(*args: str) -> tuple[int, dict]:
        result = CliRunner().invoke(app, ["check", "--json", *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, json.loads(result.stdout)

    return run


NEURON = ["--target", "trn1.2xlarge", "--vllm.max-model-len", "1024", "--vllm.max-num-seqs", "4"]

# (case id, argv, code, severity, substring of the message)
CASES = [
    ("unknown flag", ["--hf-repo", "cat/llama", "--vllm.max-model-length", "4096"], "FLAG_UNKNOWN", "error", "did you mean --vllm.max-model-len?"),
    ("bad integer", ["--hf-repo", "cat/llama", "--vllm.max-model-len", "4k"], "FLAG_INVALID", "error", "'4k'"),
    ("bad choice", ["--hf-repo", "cat/llama", "--vllm.dtype", "int3"], "FLAG_INVALID", "error", "one of auto"),
    ("bad json", ["--hf-repo", "cat/llama", "--vllm.rope-scaling", "{factor:2}"], "FLAG_INVALID", "error", "not valid JSON"),
    ("flag twice", ["--hf-repo", "cat/llama", "--vllm.max-num-seqs", "4", "--vllm.max-num-seqs=8"], "FLAG_DUPLICATE", "error", "given twice"),
    ("flag without value", ["--hf-repo", "cat/llama", "--vllm.max-num-seqs"], "FLAG_MISSING_VALUE", "error", "needs a value"),
    ("no repo", ["--vllm.max-num-seqs", "4"], "FLAG_REQUIRED", "error", "--hf-repo"),
    ("stray word", ["--hf-repo", "cat/llama", "llama"], "UNEXPECTED_ARGUMENT", "error", "'llama'"),
    ("repo is a path", ["--hf-repo", "../models/x"], "REPO_INVALID", "error", "../models/x"),
    ("unknown model type", ["--hf-repo", "cat/llama", "--neuron.model-type", "llama3"], "MODEL_TYPE_UNSUPPORTED", "error", "did you mean llama?"),
    ("unknown target", ["--hf-repo", "cat/llama", "--target", "trn2.48xlarge"], "TARGET_UNKNOWN", "error", "trn2.48xlarge"),
    ("repo not cached offline", ["--hf-repo", "cat/nowhere"], "HUB_UNREACHABLE", "error", "cat/nowhere"),
    ("revision not cached offline", ["--hf-repo", "cat/llama", "--hf-repo-tag", "v9"], "HUB_UNREACHABLE", "error", "v9"),
    ("not a model repo", ["--hf-repo", "cat/bare"], "NOT_A_MODEL_REPO", "error", "cat/bare"),
    ("broken config", ["--hf-repo", "cat/broken"], "CONFIG_INVALID", "error", "config.json"),
    ("default model type on a llama (Neuron)", ["--hf-repo", "cat/llama", *NEURON], "MODEL_TYPE_MISMATCH", "error", "left at its default 'qwen3'"),
    ("wrong explicit model type (Neuron)", ["--hf-repo", "cat/llama", "--neuron.model-type", "mistral", *NEURON], "MODEL_TYPE_MISMATCH", "error", "--neuron.model-type mistral does not match"),
    ("default model type on a llama (cpu)", ["--hf-repo", "cat/llama"], "MODEL_TYPE_MISMATCH", "warning", "left at its default"),
    ("architecture Neuron cannot serve", ["--hf-repo", "cat/phi", "--neuron.model-type", "auto", *NEURON], "ARCHITECTURE_UNSUPPORTED", "error", "Phi3ForCausalLM"),
    ("remote code", ["--hf-repo", "cat/remote", "--neuron.model-type", "llama"], "REMOTE_CODE_REQUIRED", "error", "trust-remote-code"),
    ("pickle weights only", ["--hf-repo", "cat/pickle", "--neuron.model-type", "llama"], "UNSAFE_WEIGHTS", "error", "pytorch_model.bin"),
    ("pickle load format", ["--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--vllm.load-format", "pt"], "UNSAFE_WEIGHTS", "error", "pickled"),
    ("no weights", ["--hf-repo", "cat/noweights", "--neuron.model-type", "llama"], "WEIGHTS_MISSING", "error", "no safetensors"),
    ("no tokenizer", ["--hf-repo", "cat/notok", "--neuron.model-type", "llama"], "TOKENIZER_MISSING", "error", "tokenizer"),
    ("no chat template", ["--hf-repo", "cat/nochat", "--neuron.model-type", "llama"], "CHAT_TEMPLATE_MISSING", "warning", "chat template"),
    ("eos ids disagree", ["--hf-repo", "cat/eos", "--neuron.model-type", "llama"], "EOS_MISMATCH", "warning", "generation_config.json"),
    ("context too long", ["--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--vllm.max-model-len", "8192"], "CONTEXT_TOO_LONG", "error", "max_position_embeddings 4096"),
    ("batched tokens below seqs", ["--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--vllm.max-num-seqs", "32", "--vllm.max-num-batched-tokens", "16"], "BATCHED_TOKENS_TOO_SMALL", "error", "vLLM refuses"),
    ("too large for a NeuronCore", ["--hf-repo", "cat/long", "--neuron.model-type", "llama", "--target", "trn1.2xlarge", "--vllm.max-model-len", "65536", "--vllm.max-num-seqs", "1024"], "MODEL_TOO_LARGE", "error", "NeuronCore"),
    ("engine rejects the choice", ["--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--vllm.kv-cache-dtype", "fp3", "--target", "cuda"], "FLAG_INVALID", "error", "vLLM 0.11.0"),
    ("lora on Neuron", ["--hf-repo", "cat/qwen3", "--vllm.enable-lora", *NEURON], "FLAG_IGNORED_ON_TARGET", "warning", "--vllm.enable-lora"),
    ("missing --model-dir", ["--model-dir", "/nonexistent/model"], "MODEL_DIR_NOT_FOUND", "error", "/nonexistent/model"),
]


@pytest.mark.parametrize(("argv", "code", "severity", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_submission(check, monkeypatch: pytest.MonkeyPatch, argv: list[str], code: str, severity: str, needle: str) -> None:
    if "--target" in argv and argv[argv.index("--target") + 1] == "cuda":
        # plan for cuda against the built-in 0.11 table, not this machine's vLLM
        from podium.plan import capabilities

        monkeypatch.setattr(capabilities, "installed", lambda python=None: capabilities.builtin("0.11.0"))
    status, data = check(*argv)
    hits = [f for f in data["findings"] if f["code"] == code and f["severity"] == severity]
    assert hits, f"expected {severity} {code}, got {[(f['severity'], f['code']) for f in data['findings']]}"
    assert any(needle in f["message"] + f["hint"] for f in hits), hits
    errors = [f for f in data["findings"] if f["severity"] == "error"]
    assert all(f["hint"] for f in errors), "every error finding carries a hint"
    assert data["ok"] is (not errors)
    assert status == (1 if errors else 0)


def test_catalogue_is_large_enough() -> None:
    assert len({c[2] for c in CASES}) >= 25, "at least 25 distinct codes"


def test_a_good_submission_is_ok(check) -> None:
    status, data = check("--hf-repo", "cat/llama", "--hf-repo-tag", "v1", "--neuron.model-type", "llama", *NEURON, "--vllm.dtype", "bfloat16")
    assert status == 0 and data["ok"]
    assert data["model"]["snapshot"]["commit"] and len(data["model"]["snapshot"]["commit"]) == 40
    assert data["model"]["snapshot"]["source"] == "cache"
    assert data["plan"]["compile_cache_key"]
    assert set(data) == {"ok", "findings", "spec", "model", "plan"}
    assert {"target", "argv", "env", "compile_cache_key", "memory"} <= set(data["plan"])


def test_challenge_limits(check, world: World) -> None:
    status, data = check("--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--challenge", str(world.challenge), "--vllm.max-num-seqs", "16", "--vllm.enforce-eager")
    found = {f["code"]: f for f in data["findings"]}
    assert "FLAG_ABOVE_MAXIMUM" in found and "(8)" in found["FLAG_ABOVE_MAXIMUM"]["message"]
    assert "FLAG_NOT_ALLOWED" in found and "--vllm.enforce-eager" in found["FLAG_NOT_ALLOWED"]["message"]
    assert data["plan"]["target"] == "trn1.2xlarge", "the challenge's target is used"
    assert status == 1


def test_challenge_defaults_fill_what_was_not_given(check, world: World) -> None:
    status, data = check("--hf-repo", "cat/llama", "--neuron.model-type", "llama", "--challenge", str(world.challenge), "--vllm.dtype", "bfloat16")
    argv = data["plan"]["argv"]
    assert argv[argv.index("--max-model-len") + 1] == "1024"
    assert argv[argv.index("--max-num-seqs") + 1] == "4"
    assert status == 0, data["findings"]


def test_token_is_never_printed(check, world: World) -> None:
    secret = "hf_SECRETtoken0123456789abcdef"
    for argv in (["--hf-repo", "cat/llama"], ["--hf-repo", "cat/nowhere"], ["--hf-repo", "cat/llama", "--vllm.max-model-len", "x"]):
        result = CliRunner().invoke(app, ["check", "--json", "--hf-token", secret, *argv])
        assert secret not in result.output
        result = CliRunner().invoke(app, ["check", "--hf-token", secret, *argv])
        assert secret not in result.output


def test_human_output_names_the_code_and_hint(check) -> None:
    result = CliRunner().invoke(app, ["check", "--hf-repo", "cat/llama", *NEURON])
    assert result.exit_code == 1
    assert "MODEL_TYPE_MISMATCH" in result.output
    assert "--neuron.model-type llama" in result.output
    assert "REJECTED" in result.output


def test_model_dir_is_checked_like_a_repo(check, world: World) -> None:
    status, data = check("--model-dir", str(world.dirs["llama"]), "--neuron.model-type", "llama")
    assert status == 0 and data["model"]["snapshot"]["source"] == "local"
