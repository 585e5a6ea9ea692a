"""The one table of ``submit-model`` flags.

Every flag is declared here once: its type, allowed values or range, default, help, and
how it maps to vLLM (a command-line option or an environment variable) and to the Neuron
compile. The parser, ``--help``, the JSON schema, the docs (docs/flags.md), the launch
plan and the Neuron compile-cache key are all derived from this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Kind(enum.StrEnum):
    STR = "string"
    INT = "integer"
    FLOAT = "number"
    BOOL = "boolean"
    JSON = "json"


class Group(enum.StrEnum):
    """The prefix before the dot; where the value goes."""

    HUB = "hub"  # --hf-repo, --hf-repo-tag
    NEURON = "neuron"  # --neuron.*
    VLLM = "vllm"  # --vllm.*: a vLLM server option
    VLLM_ENV = "vllm-env"  # --vllm-env.*: an environment variable of the server
    INFERENCE = "vllm-inference"  # --vllm-inference.*: a field of every request
    EXTRA = "extra"  # declared by a challenge


class NeuronEffect(enum.StrEnum):
    """What the vLLM Neuron plugin does with a flag (REFERENCE.md, 'vLLM on Neuron')."""

    COMPILED = "compiled"  # changes the compiled model: part of the compile-cache key
    RUNTIME = "runtime"  # used as on any target, does not change the compiled model
    IGNORED = "ignored"  # the plugin ignores it: a warning says so
    OVERRIDDEN = "overridden"  # the plugin replaces the value: a warning says so
    UNSUPPORTED = "unsupported"  # the plugin cannot do it: a warning says so


@dataclass(frozen=True)
class Flag:
    """One ``submit-model`` flag. ``name`` is written without the leading dashes."""

    name: str
    kind: Kind
    help: str
    group: Group
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    vllm_option: str | None = None  # e.g. "--max-model-len"
    env_var: str | None = None  # e.g. "VLLM_ALLOW_LONG_MAX_MODEL_LEN"
    request_field: str | None = None  # e.g. "max_tokens"
    neuron: NeuronEffect = NeuronEffect.RUNTIME
    neuron_note: str = ""
    engine_choices: bool = False  # the installed vLLM decides the allowed values

    @property
    def option(self) -> str:
        return f"--{self.name}"

    @property
    def key(self) -> str:
        """The part after the group prefix: ``max-model-len``."""
        return self.name.split(".", 1)[1] if "." in self.name else self.name

    @property
    def wire_key(self) -> str:
        """The key flat JSON clients send: ``vllm.max_model_len``."""
        return self.name.replace("-", "_")


def _vllm(
    key: str, kind: Kind, help: str, neuron: NeuronEffect, neuron_note: str = "", **kw: Any
) -> Flag:
    return Flag(
        name=f"vllm.{key}",
        kind=kind,
        help=help,
        group=Group.VLLM,
        vllm_option=f"--{key}",
        neuron=neuron,
        neuron_note=neuron_note,
        **kw,
    )


C, R, I, O, U = (
    NeuronEffect.COMPILED,
    NeuronEffect.RUNTIME,
    NeuronEffect.IGNORED,
    NeuronEffect.OVERRIDDEN,
    NeuronEffect.UNSUPPORTED,
)

DTYPES = ("auto", "half", "float16", "bfloat16", "float", "float32")

FLAGS: tuple[Flag, ...] = (
    Flag(
        "hf-repo",
        Kind.STR,
        "Hugging Face model repository, ORG/NAME.",
        Group.HUB,
        required=True,
        neuron=C,
        neuron_note="the pinned commit is part of the compile-cache key",
    ),
    Flag(
        "hf-repo-tag",
        Kind.STR,
        "Branch, tag or commit of the repository; pinned to a commit sha at submission.",
        Group.HUB,
        default="main",
        neuron=C,
    ),
    Flag(
        "neuron.model-type",
        Kind.STR,
        "NxD Inference model type (the Neuron backend that compiles the model), or 'auto' "
        "to detect it from config.json. Must match the model's architecture.",
        Group.NEURON,
        default="qwen3",
        neuron=C,
        neuron_note="selects the NxD Inference model class",
    ),
    _vllm(
        "max-model-len",
        Kind.INT,
        "Maximum sequence length (prompt + output) in tokens.",
        C,
        "compiled as seq_len and max_context_length",
        minimum=1,
    ),
    _vllm("dtype", Kind.STR, "Weight and activation dtype.", C, "torch dtype of the compiled model (auto means float32 there)", choices=DTYPES),
    _vllm(
        "kv-cache-dtype",
        Kind.STR,
        "KV cache dtype; the choices depend on the vLLM version.",
        I,
        "the Neuron plugin ignores kv-cache-dtype",
        engine_choices=True,
    ),
    _vllm(
        "quantization",
        Kind.STR,
        "Quantization method of the weights; the choices depend on the vLLM version.",
        C,
        "changes the compiled model",
        engine_choices=True,
    ),
    _vllm(
        "load-format",
        Kind.STR,
        "Weight loading format. Formats that load pickled weights (pt, npcache) are refused.",
        I,
        "the Neuron plugin loads the weights itself and ignores load-format",
        engine_choices=True,
    ),
    _vllm(
        "rope-theta",
        Kind.FLOAT,
        "Override of the RoPE base frequency (sent as --hf-overrides on vLLM >= 0.11.1).",
        I,
        "the Neuron plugin ignores rope overrides for the compile",
        minimum=0,
    ),
    _vllm(
        "rope-scaling",
        Kind.JSON,
        'RoPE scaling as a JSON object, e.g. \'{"rope_type": "linear", "factor": 2.0}\'.',
        I,
        "the Neuron plugin ignores rope overrides for the compile",
    ),
    _vllm(
        "max-num-batched-tokens",
        Kind.INT,
        "Maximum number of tokens in one scheduler step.",
        O,
        "the Neuron plugin sets max-num-batched-tokens to 131072 itself",
        minimum=1,
    ),
    _vllm(
        "max-num-seqs",
        Kind.INT,
        "Maximum number of sequences served at once; also the evaluation's concurrency.",
        C,
        "compiled as batch_size",
        minimum=1,
    ),
    _vllm("enforce-eager", Kind.BOOL, "Run the model eagerly (no graph capture).", I, "the Neuron plugin ignores enforce-eager"),
    _vllm("enable-lora", Kind.BOOL, "Serve with LoRA adapters enabled.", U, "LoRA is not supported by the Neuron plugin 0.2"),
    _vllm("lora-dtype", Kind.STR, "Dtype of the LoRA adapters.", U, "LoRA is not supported by the Neuron plugin 0.2", choices=("auto", "float16", "bfloat16")),
    _vllm(
        "lora-extra-vocab-size",
        Kind.INT,
        "Extra vocabulary size of LoRA adapters (deprecated in vLLM 0.11.1, gone in 0.12).",
        U,
        "LoRA is not supported by the Neuron plugin 0.2",
        minimum=0,
    ),
    _vllm(
        "enable-prefix-caching",
        Kind.BOOL,
        "Enable automatic prefix caching (Neuron plans turn it off unless it is asked for).",
        C,
        "on means a block KV layout in the compiled model",
    ),
    Flag(
        "vllm-env.allow-long-max-model-len",
        Kind.BOOL,
        "Allow --vllm.max-model-len above the model's max_position_embeddings.",
        Group.VLLM_ENV,
        env_var="VLLM_ALLOW_LONG_MAX_MODEL_LEN",
        neuron=R,
    ),
    Flag(
        "vllm-inference.max-tokens",
        Kind.INT,
        "max_tokens of every evaluation request.",
        Group.INFERENCE,
        minimum=1,
        request_field="max_tokens",
        neuron=R,
    ),
)

FLAGS_BY_NAME: dict[str, Flag] = {f.name: f for f in FLAGS}


def flag(name: str) -> Flag:
    return FLAGS_BY_NAME[name]


def extra_flag(
    name: str,
    kind: Kind,
    help: str,
    *,
    default: Any = None,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Flag:
    """A challenge-specific key (e.g. ``temperature``, ``prompt-template-path``)."""
    return Flag(
        name=name,
        kind=kind,
        help=help,
        group=Group.EXTRA,
        default=default,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
    )
