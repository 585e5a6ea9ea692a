"""What the hub layer hands to the planner: the pinned files and the facts read from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelSnapshot:
    """The exact files of one submission.

    ``repo`` is the Hub id (or the directory for ``--model-dir``), ``revision`` what the
    participant asked for (branch, tag or commit), ``commit`` the sha it resolved to
    (None for a local directory that is not a Hub snapshot), ``path`` the local folder
    holding the files, ``source`` one of ``hub`` (online), ``cache`` (offline, from the
    local Hub cache) or ``local`` (``--model-dir``).
    """

    repo: str
    revision: str
    commit: str | None
    path: Path
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "path": str(self.path),
            "source": self.source,
        }


@dataclass(frozen=True)
class WeightFile:
    name: str
    format: str  # "safetensors" | "pickle" (bin, pt, pth, ckpt) | "gguf" | "other"
    size: int


@dataclass(frozen=True)
class ModelFacts:
    """Facts read from config.json, generation_config.json, safetensors headers and the
    tokenizer files, without loading any weight."""

    architectures: list[str]
    model_type: str | None
    num_parameters: int | None  # from safetensors headers; None without safetensors
    parameter_bytes: int | None  # bytes of all tensors as stored
    dtypes: dict[str, int]  # safetensors dtype -> parameter count, e.g. {"BF16": 134515008}
    torch_dtype: str | None  # config's torch_dtype / dtype
    max_position_embeddings: int | None
    hidden_size: int | None
    num_layers: int | None
    num_attention_heads: int | None
    num_kv_heads: int | None
    head_dim: int | None
    vocab_size: int | None
    tie_word_embeddings: bool
    rope_theta: float | None
    weight_files: list[WeightFile]
    tokenizer_files: list[str]
    has_tokenizer: bool
    has_chat_template: bool
    eos_ids: dict[str, list[int]]  # {"config": [...], "generation_config": [...], "tokenizer": [...]}
    auto_map: dict[str, str]  # non-empty means the model needs remote code
    quantization: str | None  # quantization_config.quant_method
    config: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def needs_remote_code(self) -> bool:
        return bool(self.auto_map)

    @property
    def weight_formats(self) -> set[str]:
        return {w.format for w in self.weight_files}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("config")
        out["needs_remote_code"] = self.needs_remote_code
        return out
