"""``SubmissionSpec``: what the participant asked for, typed and validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.spec.flags import FLAGS, FLAGS_BY_NAME, Group


@dataclass(frozen=True)
class SubmissionSpec:
    """One submission's flags, after parsing. Never edited: plans make new values.

    ``vllm``, ``vllm_env``, ``inference`` and ``extras`` are keyed by the part of the flag
    after its group prefix (``{"max-model-len": 4096}``) and hold only flags that were
    given. ``given`` lists every flag the participant wrote, so a message can say when a
    value is only a default.
    """

    hf_repo: str
    hf_repo_tag: str = "main"
    neuron_model_type: str = "qwen3"
    vllm: dict[str, Any] = field(default_factory=dict)
    vllm_env: dict[str, Any] = field(default_factory=dict)
    inference: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    given: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, values: dict[str, Any], given: tuple[str, ...]) -> SubmissionSpec:
        """Build from ``{flag name: typed value}`` (defaults already filled in)."""
        groups: dict[Group, dict[str, Any]] = {g: {} for g in Group}
        for name, value in values.items():
            flag = FLAGS_BY_NAME.get(name)
            group = flag.group if flag else Group.EXTRA
            key = flag.key if flag else name
            if group in (Group.HUB, Group.NEURON):
                continue
            if value is not None:
                groups[group][key] = value
        return cls(
            hf_repo=values["hf-repo"],
            hf_repo_tag=values.get("hf-repo-tag") or "main",
            neuron_model_type=values.get("neuron.model-type") or "qwen3",
            vllm=groups[Group.VLLM],
            vllm_env=groups[Group.VLLM_ENV],
            inference=groups[Group.INFERENCE],
            extras=groups[Group.EXTRA],
            given=given,
        )

    def was_given(self, name: str) -> bool:
        return name in self.given

    def value(self, name: str) -> Any:
        """The value of a flag by its full name (``vllm.max-num-seqs``), or None."""
        if name == "hf-repo":
            return self.hf_repo
        if name == "hf-repo-tag":
            return self.hf_repo_tag
        if name == "neuron.model-type":
            return self.neuron_model_type
        flag = FLAGS_BY_NAME.get(name)
        if flag is None:
            return self.extras.get(name)
        table = {
            Group.VLLM: self.vllm,
            Group.VLLM_ENV: self.vllm_env,
            Group.INFERENCE: self.inference,
        }[flag.group]
        return table.get(flag.key)

    def flags(self) -> dict[str, Any]:
        """Every set flag by full name, in table order, then extras."""
        out = {f.name: self.value(f.name) for f in FLAGS if self.value(f.name) is not None}
        out.update(self.extras)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "hf_repo": self.hf_repo,
            "hf_repo_tag": self.hf_repo_tag,
            "neuron_model_type": self.neuron_model_type,
            "vllm": dict(self.vllm),
            "vllm_env": dict(self.vllm_env),
            "inference": dict(self.inference),
            "extras": dict(self.extras),
            "given": list(self.given),
        }
