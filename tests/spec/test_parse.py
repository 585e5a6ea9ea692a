"""The submit-model grammar: both flag forms, booleans, defaults, and every spec error code."""

from __future__ import annotations

import pytest

from podium.errors import Code, SpecError
from podium.spec.flags import FLAGS, Kind, extra_flag
from podium.spec.parse import parse_flat, parse_submit_args

BASE = ["--hf-repo", "org/name"]


def test_the_documented_command_parses() -> None:
    spec = parse_submit_args(
        [
            "--hf-repo", "ORG/NAME", "--hf-repo-tag", "v1", "--neuron.model-type", "llama",
            "--vllm.max-model-len", "4096", "--vllm.max-num-seqs", "8",
            "--vllm-inference.max-tokens", "256",
        ]
    )
    assert (spec.hf_repo, spec.hf_repo_tag, spec.neuron_model_type) == ("ORG/NAME", "v1", "llama")
    assert spec.vllm == {"max-model-len": 4096, "max-num-seqs": 8}
    assert spec.inference == {"max-tokens": 256}
    assert spec.was_given("neuron.model-type")


def test_equals_form_is_the_same_as_space_form() -> None:
    a = parse_submit_args([*BASE, "--vllm.max-model-len=2048", "--vllm.dtype=bfloat16"])
    b = parse_submit_args([*BASE, "--vllm.max-model-len", "2048", "--vllm.dtype", "bfloat16"])
    assert a == b


def test_defaults() -> None:
    spec = parse_submit_args(BASE)
    assert spec.hf_repo_tag == "main"
    assert spec.neuron_model_type == "qwen3"
    assert not spec.was_given("neuron.model-type")
    assert spec.vllm == {}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], True),
        (["true"], True), (["True"], True), (["1"], True), (["yes"], True),
        (["false"], False), (["0"], False), (["no"], False), (["FALSE"], False),
    ],
)
def test_booleans(words: list[str], expected: bool) -> None:
    spec = parse_submit_args([*BASE, "--vllm.enforce-eager", *words, "--vllm.max-num-seqs", "4"])
    assert spec.vllm["enforce-eager"] is expected
    assert spec.vllm["max-num-seqs"] == 4


def test_bare_boolean_at_the_end_and_with_equals() -> None:
    assert parse_submit_args([*BASE, "--vllm.enable-lora"]).vllm["enable-lora"] is True
    assert parse_submit_args([*BASE, "--vllm.enable-lora=no"]).vllm["enable-lora"] is False


def test_env_flag_and_json_flag() -> None:
    spec = parse_submit_args(
        [*BASE, "--vllm-env.allow-long-max-model-len", "true", "--vllm.rope-scaling", '{"rope_type": "linear", "factor": 2.0}']
    )
    assert spec.vllm_env == {"allow-long-max-model-len": True}
    assert spec.vllm["rope-scaling"] == {"rope_type": "linear", "factor": 2.0}


def test_underscores_are_dashes() -> None:
    spec = parse_submit_args(["--hf_repo", "a/b", "--vllm.max_model_len", "64"])
    assert spec.vllm == {"max-model-len": 64}


def test_flat_json_of_existing_clients() -> None:
    spec = parse_flat(
        {
            "hf_repo": "org/name",
            "hf_repo_tag": "v2",
            "neuron.model_type": "llama",
            "vllm.max_model_len": "4096",
            "vllm.enforce_eager": "true",
            "vllm_env.allow_long_max_model_len": "false",
            "vllm_inference.max_tokens": "128",
        }
    )
    assert spec.vllm == {"max-model-len": 4096, "enforce-eager": True}
    assert spec.vllm_env == {"allow-long-max-model-len": False}
    assert spec.inference == {"max-tokens": 128}
    assert spec.hf_repo_tag == "v2"


def test_challenge_extra_keys() -> None:
    extras = [extra_flag("temperature", Kind.FLOAT, "sampling temperature", minimum=0, maximum=2)]
    spec = parse_submit_args([*BASE, "--temperature", "0.7"], extras=extras)
    assert spec.extras == {"temperature": 0.7}
    with pytest.raises(SpecError) as exc:
        parse_submit_args([*BASE, "--temperature", "3"], extras=extras)
    assert exc.value.code is Code.FLAG_INVALID
    with pytest.raises(SpecError) as exc:
        parse_submit_args([*BASE, "--temperature", "0.7"])
    assert exc.value.code is Code.FLAG_UNKNOWN


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        ([*BASE, "--vllm.max-model-length", "4096"], Code.FLAG_UNKNOWN, "did you mean --vllm.max-model-len?"),
        ([*BASE, "--vllm.maxnumseqs", "4"], Code.FLAG_UNKNOWN, "--vllm.max-num-seqs"),
        ([*BASE, "--vllm.max-model-len", "lots"], Code.FLAG_INVALID, "'lots' for --vllm.max-model-len"),
        ([*BASE, "--vllm.max-model-len", "0"], Code.FLAG_INVALID, ">= 1"),
        ([*BASE, "--vllm.max-num-seqs", "-3"], Code.FLAG_INVALID, ">= 1"),
        ([*BASE, "--vllm.dtype", "float64"], Code.FLAG_INVALID, "one of auto, half"),
        ([*BASE, "--vllm.enforce-eager=maybe"], Code.FLAG_INVALID, "a boolean"),
        ([*BASE, "--vllm.rope-theta", "nan"], Code.FLAG_INVALID, "finite"),
        ([*BASE, "--vllm.rope-scaling", "{factor: 2}"], Code.FLAG_INVALID, "not valid JSON"),
        ([*BASE, "--vllm.rope-scaling", "[1, 2]"], Code.FLAG_INVALID, "JSON object"),
        ([*BASE, "--vllm.quantization", "awq; rm -rf /"], Code.FLAG_INVALID, "plain name"),
        ([*BASE, "--vllm.max-model-len", "1", "--vllm.max-model-len", "2"], Code.FLAG_DUPLICATE, "given twice"),
        ([*BASE, "--vllm.max_model_len", "1", "--vllm.max-model-len=2"], Code.FLAG_DUPLICATE, "given twice"),
        ([*BASE, "--vllm.max-model-len"], Code.FLAG_MISSING_VALUE, "needs a value"),
        ([*BASE, "--vllm.max-model-len", "--vllm.max-num-seqs", "4"], Code.FLAG_MISSING_VALUE, "needs a value"),
        (["--vllm.max-model-len", "4"], Code.FLAG_REQUIRED, "--hf-repo is required"),
        ([*BASE, "4096"], Code.UNEXPECTED_ARGUMENT, "'4096'"),
        (["--hf-repo", "not a repo"], Code.REPO_INVALID, "not a Hugging Face repository id"),
        (["--hf-repo", "../../etc/passwd"], Code.REPO_INVALID, "not a Hugging Face repository id"),
        (["--hf-repo", "/home/me/model"], Code.REPO_INVALID, "--model-dir"),
        ([*BASE, "--hf-repo-tag", "v1;reboot"], Code.FLAG_INVALID, "branch, tag or commit"),
        ([*BASE, "--neuron.model-type", "lama"], Code.MODEL_TYPE_UNSUPPORTED, "did you mean llama?"),
        ([*BASE, "--neuron.model-type", "gpt2"], Code.MODEL_TYPE_UNSUPPORTED, "podium model-types"),
    ],
)
def test_spec_errors(argv: list[str], code: Code, needle: str) -> None:
    with pytest.raises(SpecError) as exc:
        parse_submit_args(argv)
    err = exc.value
    assert err.code is code
    assert needle in err.message + " " + err.hint
    assert err.hint, "every error carries a hint"


def test_aliases_and_auto_are_accepted() -> None:
    assert parse_submit_args([*BASE, "--neuron.model-type", "qwen2.5"]).neuron_model_type == "qwen2.5"
    assert parse_submit_args([*BASE, "--neuron.model-type", "auto"]).neuron_model_type == "auto"


def test_every_flag_in_the_table_parses_from_text() -> None:
    samples = {Kind.INT: "16", Kind.FLOAT: "10000.5", Kind.BOOL: "true", Kind.JSON: '{"factor": 2.0}', Kind.STR: "auto"}
    for f in FLAGS:
        if f.name == "hf-repo":
            continue
        value = f.choices[0] if f.choices else samples[f.kind]
        if f.name == "neuron.model-type":
            value = "llama"
        if f.name == "hf-repo-tag":
            value = "v1"
        spec = parse_submit_args([*BASE, f.option, value])
        assert spec.value(f.name) is not None, f.name
