"""The Neuron model-type registry (NxD Inference's MODEL_TYPES, see REFERENCE.md).

A key names the NxD Inference model class that compiles a model. It equals the Hugging
Face ``model_type`` for text models; the vLLM Neuron plugin picks its class from
``architectures[0]``, so a key must agree with the model's architecture, or the model is
compiled with the wrong backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.registry import Registry

AUTO = "auto"
DEFAULT_MODEL_TYPE = "qwen3"


@dataclass(frozen=True)
class ModelType:
    key: str
    hf_model_types: tuple[str, ...]
    architectures: tuple[str, ...]
    since: str  # the Neuron SDK release whose inference demo first lists it
    multimodal: bool = False
    beta: bool = False
    note: str = ""


MODEL_TYPES: Registry[ModelType] = Registry("model type")

for _mt in (
    ModelType("llama", ("llama",), ("LlamaForCausalLM",), "2.21"),
    ModelType("mixtral", ("mixtral",), ("MixtralForCausalLM",), "2.21"),
    ModelType("dbrx", ("dbrx",), ("DbrxForCausalLM",), "2.21"),
    ModelType("qwen2", ("qwen2",), ("Qwen2ForCausalLM",), "2.25", note="Qwen2 and Qwen2.5 models"),
    ModelType("qwen3", ("qwen3",), ("Qwen3ForCausalLM",), "2.25"),
    ModelType("qwen3_moe", ("qwen3_moe",), ("Qwen3MoeForCausalLM",), "2.26"),
    ModelType("gemma3", ("gemma3", "gemma3_text"), ("Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"), "2.29"),
    ModelType("mistral", ("mistral",), ("MistralForCausalLM",), "2.29"),
    ModelType("gpt_oss", ("gpt_oss",), ("GptOssForCausalLM",), "2.29", note="vLLM plugin list only"),
    ModelType("mllama", ("mllama",), ("MllamaForConditionalGeneration",), "2.21", multimodal=True),
    ModelType("llama4", ("llama4",), ("Llama4ForConditionalGeneration",), "2.25", multimodal=True),
    ModelType(
        "flux",
        ("flux",),
        ("FluxPipeline",),
        "2.23",
        beta=True,
        note="diffusers application (beta), not served through vLLM",
    ),
):
    MODEL_TYPES.add(_mt.key, _mt)

# Names participants write that mean a registered key.
ALIASES: dict[str, str] = {"qwen2.5": "qwen2", "qwen2_5": "qwen2", "gemma3_text": "gemma3"}


def for_model(hf_model_type: str | None, architectures: list[str]) -> ModelType | None:
    """The registered type for a model's config, by architecture first, then model_type."""
    for mt in MODEL_TYPES.values():
        if architectures and architectures[0] in mt.architectures:
            return mt
    for mt in MODEL_TYPES.values():
        if hf_model_type and hf_model_type in mt.hf_model_types:
            return mt
    return None
