"""Help text, JSON schema and Markdown docs, all generated from the flag table."""

from __future__ import annotations

from typing import Any

from podium.spec.flags import FLAGS, Flag, Kind
from podium.spec.model_types import ALIASES, AUTO, MODEL_TYPES


def allowed_text(flag: Flag) -> str:
    if flag.name == "neuron.model-type":
        return ", ".join([*MODEL_TYPES.names(), AUTO]) + f" (aliases: {', '.join(ALIASES)})"
    if flag.choices:
        return ", ".join(flag.choices)
    if flag.engine_choices:
        return "as the installed vLLM accepts"
    if flag.kind is Kind.BOOL:
        return "true/false (a bare flag means true)"
    if flag.minimum is not None or flag.maximum is not None:
        lo = "" if flag.minimum is None else f">= {flag.minimum:g}"
        hi = "" if flag.maximum is None else f"<= {flag.maximum:g}"
        return " and ".join(x for x in (lo, hi) if x)
    return ""


def _maps_to(flag: Flag) -> str:
    if flag.vllm_option:
        return f"vLLM {flag.vllm_option}"
    if flag.env_var:
        return f"env {flag.env_var}=1"
    if flag.request_field:
        return f"request field {flag.request_field}"
    return "resolution" if flag.group.value == "hub" else "Neuron model class"


def flags_epilog() -> str:
    """The submit-model flags for ``--help`` (``\b`` keeps click from rewrapping them)."""
    lines = ["\b", "Submit-model flags (--key value or --key=value; 'podium flags' explains each):"]
    for f in FLAGS:
        default = f" [default: {f.default}]" if f.default is not None else ""
        req = " [required]" if f.required else ""
        lines.append(f"  {f.option} {f.kind.value.upper()}{req}{default}")
    return "\n".join(lines)


def json_schema() -> dict[str, Any]:
    """A JSON schema of the flat key/value submission (keys as flat clients send them)."""
    props: dict[str, Any] = {}
    for f in FLAGS:
        kind = {Kind.STR: "string", Kind.INT: "integer", Kind.FLOAT: "number", Kind.BOOL: "boolean", Kind.JSON: "object"}[f.kind]
        prop: dict[str, Any] = {"type": kind, "description": f.help, "x-flag": f.option}
        if f.default is not None:
            prop["default"] = f.default
        if f.choices:
            prop["enum"] = list(f.choices)
        if f.name == "neuron.model-type":
            prop["enum"] = [*MODEL_TYPES.names(), AUTO, *ALIASES]
        if f.minimum is not None:
            prop["minimum"] = f.minimum
        if f.maximum is not None:
            prop["maximum"] = f.maximum
        props[f.wire_key] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Podium submit-model submission",
        "type": "object",
        "properties": props,
        "required": [f.wire_key for f in FLAGS if f.required],
        "additionalProperties": False,
    }


def markdown() -> str:
    """docs/flags.md. Regenerate with ``podium flags --markdown > docs/flags.md``."""
    out = [
        "# submit-model flags",
        "",
        "Generated from the flag table (`src/podium/spec/flags.py`) by "
        "`podium flags --markdown`; do not edit by hand.",
        "",
        "Write `--key value` or `--key=value`; booleans also as a bare flag. Flat JSON clients "
        "send the same keys with underscores (`vllm.max_model_len`) and every value as a string.",
        "",
        "| flag | type | default | allowed | maps to | on Neuron | help |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in FLAGS:
        default = "" if f.default is None else f"`{f.default}`"
        neuron = f.neuron.value + (f": {f.neuron_note}" if f.neuron_note else "")
        req = " (required)" if f.required else ""
        out.append(
            f"| `{f.option}`{req} | {f.kind.value} | {default} | {allowed_text(f)} | {_maps_to(f)} | "
            f"{neuron} | {f.help} |"
        )
    out += [
        "",
        "## Neuron model types",
        "",
        "| key | Hugging Face model_type | architectures | since Neuron SDK | notes |",
        "|---|---|---|---|---|",
    ]
    for mt in MODEL_TYPES.values():
        notes = ", ".join(x for x in ("multimodal" if mt.multimodal else "", "beta" if mt.beta else "", mt.note) if x)
        out.append(
            f"| `{mt.key}` | {', '.join(mt.hf_model_types)} | {', '.join(mt.architectures)} | {mt.since} | {notes} |"
        )
    out += ["", f"`auto` detects the type from config.json. Aliases: {', '.join(f'`{a}` -> `{k}`' for a, k in ALIASES.items())}.", ""]
    return "\n".join(out)
