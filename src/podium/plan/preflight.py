"""Preflight findings about the model and the flags, independent of the engine version.

Each function takes what it needs and returns a list of findings; ``make_plan`` in
``podium.plan.launch`` collects them with the translation findings.
"""

from __future__ import annotations

from podium.errors import Code, Finding, error, info, warning
from podium.hub.types import ModelFacts
from podium.plan.types import MemoryEstimate, Target
from podium.spec.flags import FLAGS, NeuronEffect
from podium.spec.submission import SubmissionSpec

# Load formats that unpickle weights: arbitrary code from a participant. Refused.
PICKLE_LOAD_FORMATS = frozenset({"pt", "npcache", "tensorizer"})
SAFE_LOAD_FORMATS = frozenset({"auto", "safetensors", "fastsafetensors", "runai_streamer", "gguf", "dummy"})


def model_findings(facts: ModelFacts, repo: str) -> list[Finding]:
    out: list[Finding] = []
    if facts.needs_remote_code:
        classes = ", ".join(sorted(facts.auto_map)) or "auto_map"
        out.append(
            error(
                Code.REMOTE_CODE_REQUIRED,
                f"{repo} needs its own Python code to load ({classes} in auto_map); "
                "Podium never runs code from a submission (no trust-remote-code)",
                "submit a model whose architecture transformers and vLLM support natively",
            )
        )
    formats = facts.weight_formats
    if "safetensors" not in formats:
        if "pickle" in formats:
            out.append(
                error(
                    Code.UNSAFE_WEIGHTS,
                    f"{repo} has weights only in pickle formats "
                    f"({', '.join(w.name for w in facts.weight_files if w.format == 'pickle')}); "
                    "Podium loads no pickled weights",
                    "convert the weights to safetensors (e.g. save_pretrained(..., "
                    "safe_serialization=True)) and push them",
                )
            )
        else:
            out.append(
                error(
                    Code.WEIGHTS_MISSING,
                    f"{repo} has no safetensors weights",
                    "push the model's *.safetensors files (and model.safetensors.index.json "
                    "when sharded)",
                )
            )
    elif "pickle" in formats:
        out.append(
            info(
                Code.UNSAFE_WEIGHTS,
                f"{repo} also has pickle weight files; only the safetensors files are loaded",
                "you may delete the *.bin files from the repository",
            )
        )
    if not facts.has_tokenizer:
        out.append(
            error(
                Code.TOKENIZER_MISSING,
                f"{repo} has no tokenizer files (tokenizer.json, tokenizer.model or vocab files)",
                "push the tokenizer with tokenizer.save_pretrained() next to the weights",
            )
        )
    elif not facts.has_chat_template:
        out.append(
            warning(
                Code.CHAT_TEMPLATE_MISSING,
                f"{repo} has no chat template; chat challenges cannot prompt it",
                "add chat_template to tokenizer_config.json (or chat_template.jinja)",
            )
        )
    out.extend(_eos_findings(facts, repo))
    return out


def _eos_findings(facts: ModelFacts, repo: str) -> list[Finding]:
    known = {k: set(v) for k, v in facts.eos_ids.items() if v}
    tok = known.get("tokenizer")
    gen = known.get("generation_config")
    cfg = known.get("config")
    problems = []
    if tok and gen and not tok & gen:
        problems.append(f"generation_config.json says {sorted(gen)}, the tokenizer says {sorted(tok)}")
    if tok and cfg and not tok & cfg and not gen:
        problems.append(f"config.json says {sorted(cfg)}, the tokenizer says {sorted(tok)}")
    if not problems:
        return []
    return [
        warning(
            Code.EOS_MISMATCH,
            f"{repo}: end-of-sequence ids disagree ({'; '.join(problems)}); "
            "generation may not stop where the model means to",
            "set eos_token_id in generation_config.json to the tokenizer's eos token id",
        )
    ]


def context_findings(
    spec: SubmissionSpec, facts: ModelFacts, max_model_len: int, max_num_seqs: int
) -> list[Finding]:
    out: list[Finding] = []
    limit = facts.max_position_embeddings
    allow_long = bool(spec.vllm_env.get("allow-long-max-model-len"))
    if limit and max_model_len > limit:
        if allow_long:
            out.append(
                warning(
                    Code.CONTEXT_TOO_LONG,
                    f"--vllm.max-model-len {max_model_len} is above the model's "
                    f"max_position_embeddings {limit}; allowed by "
                    "--vllm-env.allow-long-max-model-len, outputs past it may be wrong",
                    "use rope scaling made for the longer context, or a shorter max-model-len",
                )
            )
        else:
            out.append(
                error(
                    Code.CONTEXT_TOO_LONG,
                    f"--vllm.max-model-len {max_model_len} is above the model's "
                    f"max_position_embeddings {limit}",
                    f"use --vllm.max-model-len {limit} or less, or add "
                    "--vllm-env.allow-long-max-model-len true if the model really handles it",
                )
            )
    batched = spec.vllm.get("max-num-batched-tokens")
    if batched is not None and batched < max_num_seqs:
        out.append(
            error(
                Code.BATCHED_TOKENS_TOO_SMALL,
                f"--vllm.max-num-batched-tokens {batched} is smaller than "
                f"--vllm.max-num-seqs {max_num_seqs}; vLLM refuses to start",
                f"use --vllm.max-num-batched-tokens {max(max_num_seqs, max_model_len)} or more",
            )
        )
    elif batched is not None and batched < max_model_len:
        out.append(
            warning(
                Code.BATCHED_TOKENS_TOO_SMALL,
                f"--vllm.max-num-batched-tokens {batched} is smaller than --vllm.max-model-len "
                f"{max_model_len}: longer prompts are prefilled in chunks (slower)",
                f"use --vllm.max-num-batched-tokens {max_model_len} to prefill a prompt at once",
            )
        )
    return out


def load_format_findings(spec: SubmissionSpec) -> list[Finding]:
    fmt = spec.vllm.get("load-format")
    if fmt is None:
        return []
    if fmt in PICKLE_LOAD_FORMATS:
        return [
            error(
                Code.UNSAFE_WEIGHTS,
                f"--vllm.load-format {fmt} loads pickled weights; Podium loads no pickles",
                "drop --vllm.load-format (safetensors is used) or use --vllm.load-format safetensors",
            )
        ]
    if fmt not in SAFE_LOAD_FORMATS:
        return [
            error(
                Code.FLAG_INVALID,
                f"--vllm.load-format {fmt} is not allowed on Podium",
                f"use one of: {', '.join(sorted(SAFE_LOAD_FORMATS))}",
            )
        ]
    return []


def memory_findings(mem: MemoryEstimate, target: Target, repo: str, max_num_seqs: int, max_model_len: int) -> list[Finding]:
    if mem.fits:
        return []
    gib = 1024**3
    where = (
        f"one NeuronCore's {mem.available_bytes_per_shard / gib:.1f} GiB "
        f"(model sharded over {mem.shards} cores)"
        if target.backend == "neuron"
        else f"the {mem.available_bytes_per_shard / gib:.1f} GiB of {target.name}"
    )
    return [
        error(
            Code.MODEL_TOO_LARGE,
            f"{repo} needs about {mem.per_shard_bytes / gib:.1f} GiB per shard "
            f"(weights {mem.weights_bytes / gib:.1f} GiB + KV cache {mem.kv_cache_bytes / gib:.1f} GiB "
            f"for {max_num_seqs} x {max_model_len} tokens + overhead {mem.overhead_bytes / gib:.1f} GiB), "
            f"more than {where}",
            "lower --vllm.max-num-seqs or --vllm.max-model-len, use --vllm.dtype bfloat16, "
            "or submit a smaller model",
        )
    ]


def target_flag_findings(spec: SubmissionSpec, target: Target) -> list[Finding]:
    """Flags that do nothing, or cannot work, on the target (from the flag table)."""
    if target.backend != "neuron":
        return []
    out: list[Finding] = []
    for flag in FLAGS:
        if not spec.was_given(flag.name) or spec.value(flag.name) in (None, False):
            continue
        if flag.neuron is NeuronEffect.IGNORED:
            out.append(
                warning(
                    Code.FLAG_IGNORED_ON_TARGET,
                    f"{flag.option} has no effect on {target.name}: {flag.neuron_note}",
                    f"drop {flag.option}",
                )
            )
        elif flag.neuron is NeuronEffect.OVERRIDDEN:
            out.append(
                warning(
                    Code.FLAG_IGNORED_ON_TARGET,
                    f"{flag.option} is replaced on {target.name}: {flag.neuron_note}",
                    f"drop {flag.option}",
                )
            )
        elif flag.neuron is NeuronEffect.UNSUPPORTED:
            out.append(
                warning(
                    Code.FLAG_IGNORED_ON_TARGET,
                    f"{flag.option} is not supported on {target.name} ({flag.neuron_note}); "
                    "it is left out of the launch",
                    f"drop {flag.option}",
                )
            )
    return out
