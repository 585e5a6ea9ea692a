"""Golden tests from spec to argv: no hardware, no engine process."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from podium.errors import Code, Severity
from podium.plan import capabilities
from podium.plan.capabilities import EngineCaps
from podium.plan.launch import make_plan
from podium.plan.targets import get_target
from podium.spec.parse import parse_submit_args

V011 = capabilities.builtin("0.11.0")


def v032() -> EngineCaps:
    return capabilities.builtin("0.32.0")


def plan_for(tiny: Callable, argv: list[str], target: str = "cpu", caps: EngineCaps | None = None, arch: str = "qwen3", **model: object):
    snap, facts = tiny(arch, **model)
    spec = parse_submit_args(["--hf-repo", "org/model", *argv])
    return make_plan(spec, snap, facts, get_target(target), caps or V011)


def codes(result, severity: Severity | None = None) -> list[str]:
    return [str(f.code) for f in result.findings if severity is None or f.severity is severity]


def test_cpu_plan_argv_is_a_list_with_explicit_sizes(tiny: Callable) -> None:
    r = plan_for(tiny, ["--vllm.max-model-len", "512", "--vllm.max-num-seqs", "4", "--vllm.enforce-eager", "--vllm-inference.max-tokens", "16"])
    argv = list(r.plan.argv)
    assert argv[:2] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--max-model-len") + 1] == "512"
    assert argv[argv.index("--max-num-seqs") + 1] == "4"
    assert "--enforce-eager" in argv
    assert argv[argv.index("--load-format") + 1] == "safetensors"
    assert "--trust-remote-code" not in argv
    assert r.plan.request_defaults == {"max_tokens": 16}
    assert r.plan.served_model_name == "org/model"
    assert int(r.plan.env["VLLM_CPU_KVCACHE_SPACE"]) >= 1
    assert r.ok


def test_false_boolean_becomes_no_form(tiny: Callable) -> None:
    r = plan_for(tiny, ["--vllm.enable-prefix-caching", "false", "--vllm.enforce-eager", "false"])
    assert "--no-enable-prefix-caching" in r.plan.argv
    assert "--no-enforce-eager" in r.plan.argv
    assert "--enforce-eager" not in r.plan.argv


def test_allow_long_becomes_environment(tiny: Callable) -> None:
    r = plan_for(tiny, ["--vllm-env.allow-long-max-model-len", "--vllm.max-model-len", "8192"], max_position_embeddings=4096)
    assert r.plan.env["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] == "1"
    assert "CONTEXT_TOO_LONG" in codes(r, Severity.WARNING)
    assert r.ok


def test_rope_flags_on_011_are_options(tiny: Callable) -> None:
    r = plan_for(tiny, ["--vllm.rope-theta", "20000", "--vllm.rope-scaling", '{"rope_type": "linear", "factor": 2.0}'])
    argv = list(r.plan.argv)
    assert argv[argv.index("--rope-theta") + 1] == "20000.0"
    assert json.loads(argv[argv.index("--rope-scaling") + 1]) == {"rope_type": "linear", "factor": 2.0}
    assert "--hf-overrides" not in argv


def test_rope_flags_become_hf_overrides_where_vllm_dropped_them(tiny: Callable) -> None:
    caps = v032()
    assert not caps.has("--rope-scaling"), "the 0.32 table should not have --rope-scaling"
    r = plan_for(tiny, ["--vllm.rope-theta", "20000", "--vllm.rope-scaling", '{"rope_type": "linear", "factor": 2.0}'], caps=caps)
    argv = list(r.plan.argv)
    overrides = json.loads(argv[argv.index("--hf-overrides") + 1])
    assert overrides == {"rope_scaling": {"rope_type": "linear", "factor": 2.0}, "rope_theta": 20000.0}
    assert "FLAG_TRANSLATED" in codes(r, Severity.INFO)


def test_lora_extra_vocab_dropped_where_gone(tiny: Callable) -> None:
    caps = v032()
    r = plan_for(tiny, ["--vllm.enable-lora", "--vllm.lora-extra-vocab-size", "256"], caps=caps)
    assert "--lora-extra-vocab-size" not in r.plan.argv
    assert "FLAG_DROPPED" in codes(r, Severity.WARNING)
    r011 = plan_for(tiny, ["--vllm.enable-lora", "--vllm.lora-extra-vocab-size", "256"])
    assert "--lora-extra-vocab-size" in r011.plan.argv


def test_engine_choices_come_from_the_engine(tiny: Callable) -> None:
    r = plan_for(tiny, ["--vllm.kv-cache-dtype", "fp4_imaginary"])
    assert "FLAG_INVALID" in codes(r, Severity.ERROR)
    assert not r.ok
    ok = plan_for(tiny, ["--vllm.kv-cache-dtype", "fp8"])
    assert ok.plan.argv[list(ok.plan.argv).index("--kv-cache-dtype") + 1] == "fp8"


def test_plan_does_not_edit_the_spec(tiny: Callable) -> None:
    snap, facts = tiny("qwen3")
    spec = parse_submit_args(["--hf-repo", "org/model"])
    before = spec.to_dict()
    make_plan(spec, snap, facts, get_target("trn1.2xlarge"), V011)
    assert spec.to_dict() == before


# --- Neuron ---------------------------------------------------------------------------


def neuron_plan(tiny: Callable, argv: list[str], target: str = "trn1.2xlarge", **model: object):
    return plan_for(tiny, ["--neuron.model-type", "qwen3", "--vllm.max-model-len", "1024", "--vllm.max-num-seqs", "4", *argv], target=target, **model)


@pytest.mark.parametrize(("target", "tp"), [("trn1.2xlarge", 2), ("inf2.48xlarge", 24), ("trn1.32xlarge", 32)])
def test_neuron_tensor_parallel_from_cores(tiny: Callable, target: str, tp: int) -> None:
    r = neuron_plan(tiny, [], target=target)
    argv = list(r.plan.argv)
    assert argv[argv.index("--tensor-parallel-size") + 1] == str(tp)
    extra = json.loads(argv[argv.index("--additional-config") + 1])
    neuron = extra["override_neuron_config"]
    assert neuron["tp_degree"] == tp
    assert neuron["batch_size"] == 4
    assert neuron["seq_len"] == neuron["max_context_length"] == 1024


def test_neuron_prefix_caching_off_unless_asked(tiny: Callable) -> None:
    r = neuron_plan(tiny, [])
    assert "--no-enable-prefix-caching" in r.plan.argv
    on = neuron_plan(tiny, ["--vllm.enable-prefix-caching"])
    assert "--enable-prefix-caching" in on.plan.argv and "--block-size" in on.plan.argv
    assert on.plan.neuron_overrides["is_prefix_caching"] is True


def test_neuron_max_num_seqs_always_explicit(tiny: Callable) -> None:
    r = plan_for(tiny, ["--neuron.model-type", "qwen3", "--vllm.max-model-len", "1024"], target="trn1.2xlarge")
    argv = list(r.plan.argv)
    assert argv[argv.index("--max-num-seqs") + 1] == "8"
    assert "TARGET_FORCED_VALUE" in codes(r, Severity.INFO)


def test_neuron_artifacts_dir_is_keyed(tiny: Callable) -> None:
    r = neuron_plan(tiny, [])
    assert r.plan.compile_cache_key
    assert r.plan.env["NEURON_COMPILED_ARTIFACTS"] == r.plan.compiled_artifacts_dir
    assert r.plan.compiled_artifacts_dir.endswith(r.plan.compile_cache_key)


def test_compile_cache_key_changes_only_with_the_compiled_model(tiny: Callable) -> None:
    base = neuron_plan(tiny, []).plan.compile_cache_key
    # request-only and runtime flags do not change the compiled model
    assert neuron_plan(tiny, ["--vllm-inference.max-tokens", "999"]).plan.compile_cache_key == base
    assert neuron_plan(tiny, ["--vllm-env.allow-long-max-model-len"]).plan.compile_cache_key == base
    # everything that does, does
    changed = {
        neuron_plan(tiny, ["--vllm.dtype", "bfloat16"]).plan.compile_cache_key,
        plan_for(tiny, ["--neuron.model-type", "qwen3", "--vllm.max-model-len", "2048", "--vllm.max-num-seqs", "4"], target="trn1.2xlarge").plan.compile_cache_key,
        plan_for(tiny, ["--neuron.model-type", "qwen3", "--vllm.max-model-len", "1024", "--vllm.max-num-seqs", "2"], target="trn1.2xlarge").plan.compile_cache_key,
        neuron_plan(tiny, [], target="inf2.24xlarge").plan.compile_cache_key,
        neuron_plan(tiny, ["--vllm.enable-prefix-caching"]).plan.compile_cache_key,
        neuron_plan(tiny, ["--vllm.quantization", "fp8"]).plan.compile_cache_key,
        neuron_plan(tiny, [], seed=1).plan.compile_cache_key,  # other weights
    }
    assert base not in changed and len(changed) == 7


def test_neuron_warns_about_flags_without_effect(tiny: Callable) -> None:
    r = neuron_plan(tiny, ["--vllm.kv-cache-dtype", "fp8", "--vllm.enable-lora", "--vllm.max-num-batched-tokens", "4096", "--vllm.enforce-eager"])
    msgs = " ".join(f.message for f in r.findings if f.code is Code.FLAG_IGNORED_ON_TARGET)
    for flag in ("--vllm.kv-cache-dtype", "--vllm.enable-lora", "--vllm.max-num-batched-tokens", "--vllm.enforce-eager"):
        assert flag in msgs
    assert "--enable-lora" not in r.plan.argv  # unsupported: left out
    assert r.ok


def test_neuron_dtype_auto_is_float32(tiny: Callable) -> None:
    r = neuron_plan(tiny, [])
    assert r.plan.neuron_overrides["torch_dtype"] == "float32"
    bf = neuron_plan(tiny, ["--vllm.dtype", "bfloat16"])
    assert bf.plan.neuron_overrides["torch_dtype"] == "bfloat16"
    assert bf.plan.memory.weights_bytes * 2 == r.plan.memory.weights_bytes


def test_bfloat16_on_a_cpu_without_it_is_a_warning(tiny: Callable) -> None:
    from dataclasses import replace

    from podium.plan.targets import cpu_has_native_bf16

    assert cpu_has_native_bf16("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert not cpu_has_native_bf16("flags\t\t: fpu avx2 fma\n")
    snap, facts = tiny("qwen3")  # stored as bfloat16
    spec = parse_submit_args(["--hf-repo", "org/model"])
    slow = replace(get_target("cpu"), native_bf16=False)
    assert "DTYPE_SLOW_ON_TARGET" in codes(make_plan(spec, snap, facts, slow, V011), Severity.WARNING)
    fast = replace(get_target("cpu"), native_bf16=True)
    assert "DTYPE_SLOW_ON_TARGET" not in codes(make_plan(spec, snap, facts, fast, V011))
    f32 = parse_submit_args(["--hf-repo", "org/model", "--vllm.dtype", "float32"])
    assert "DTYPE_SLOW_ON_TARGET" not in codes(make_plan(f32, snap, facts, slow, V011))
