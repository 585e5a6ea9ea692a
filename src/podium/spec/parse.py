"""The grammar of ``submit-model``: argv (or the flat JSON that existing clients send)
to a :class:`SubmissionSpec`.

Accepted forms: ``--key value``, ``--key=value``; booleans also as a bare flag
(``--vllm.enforce-eager``) or with true/false/1/0/yes/no. Underscores and dashes are the
same in flag names (``--vllm.max_model_len`` is ``--vllm.max-model-len``), which is also
how the flat JSON keys (``vllm.max_model_len``) map onto flags.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from podium.errors import Code, FlagUnknown, SpecError
from podium.registry import closest
from podium.spec.flags import FLAGS, Flag, Kind
from podium.spec.model_types import ALIASES, AUTO, MODEL_TYPES
from podium.spec.submission import SubmissionSpec
from podium.spec.values import BOOL_WORDS, coerce


def canonical(name: str) -> str:
    """``--vllm.max_model_len`` -> ``vllm.max-model-len``."""
    return name.lstrip("-").replace("_", "-").lower()


class FlagTable:
    """The flags one parse accepts: the standard table plus a challenge's extra keys."""

    def __init__(self, extras: Iterable[Flag] = ()) -> None:
        self.by_name: dict[str, Flag] = {f.name: f for f in FLAGS}
        for f in extras:
            name = canonical(f.name)
            if name in self.by_name:
                raise ValueError(f"extra key {f.name!r} clashes with a submit-model flag")
            self.by_name[name] = f

    def lookup(self, written: str) -> Flag:
        name = canonical(written)
        found = self.by_name.get(name)
        if found is None:
            guess = closest(name, list(self.by_name), cutoff=0.5)
            raise FlagUnknown(written if written.startswith("--") else f"--{written}", f"--{guess}" if guess else None)
        return found


def parse_submit_args(argv: Sequence[str], extras: Iterable[Flag] = ()) -> SubmissionSpec:
    """Parse ``submit-model`` flags. Raises :class:`SpecError` subclasses, never others."""
    table = FlagTable(extras)
    pairs: list[tuple[Flag, str, Any]] = []  # (flag, as written, raw value)
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--") or token == "--":
            raise SpecError(
                f"unexpected argument {token!r}: every value must follow its flag",
                "write flags as --flag VALUE or --flag=VALUE; quote values that contain spaces",
                code=Code.UNEXPECTED_ARGUMENT,
                details={"value": token},
            )
        written, eq, inline = token.partition("=")
        flag = table.lookup(written)
        i += 1
        if eq:
            raw: Any = inline
        elif flag.kind is Kind.BOOL:
            nxt = argv[i] if i < len(argv) else None
            if nxt is not None and nxt.strip().lower() in BOOL_WORDS:
                raw, i = nxt, i + 1
            else:
                raw = "true"
        else:
            if i >= len(argv) or argv[i].startswith("--"):
                raise SpecError(
                    f"{flag.option} needs a value",
                    f"write {flag.option} VALUE, e.g. {_example(flag)}",
                    code=Code.FLAG_MISSING_VALUE,
                    details={"flag": flag.option},
                )
            raw, i = argv[i], i + 1
        pairs.append((flag, written, raw))
    return _build(table, pairs)


def parse_flat(payload: Mapping[str, Any], extras: Iterable[Flag] = ()) -> SubmissionSpec:
    """Parse the flat key/value JSON of existing submission clients:
    ``{"hf_repo": "org/name", "vllm.max_model_len": "4096", ...}`` (values may be strings)."""
    table = FlagTable(extras)
    pairs = [(table.lookup(key), key, value) for key, value in payload.items()]
    return _build(table, pairs)


def _build(table: FlagTable, pairs: list[tuple[Flag, str, Any]]) -> SubmissionSpec:
    values: dict[str, Any] = {}
    for flag, written, raw in pairs:
        if flag.name in values:
            raise SpecError(
                f"{flag.option} is given twice",
                f"keep one {flag.option}",
                code=Code.FLAG_DUPLICATE,
                details={"flag": flag.option, "written": written},
            )
        values[flag.name] = coerce(flag, raw)
    given = tuple(values)
    if "hf-repo" not in values:
        raise SpecError(
            "--hf-repo is required",
            "name the model repository, e.g. --hf-repo HuggingFaceTB/SmolLM2-135M-Instruct",
            code=Code.FLAG_REQUIRED,
            details={"flag": "--hf-repo"},
        )
    for flag in table.by_name.values():
        if flag.name not in values and flag.default is not None:
            values[flag.name] = flag.default
    check_model_type(values["neuron.model-type"])
    return SubmissionSpec.from_values(values, given)


def check_model_type(value: str) -> None:
    if value == AUTO or value in MODEL_TYPES or value in ALIASES:
        return
    raise SpecError(
        MODEL_TYPES.miss_message(value).replace("unknown model type", "unsupported --neuron.model-type"),
        "run 'podium model-types' to list them, or pass --neuron.model-type auto to detect it",
        code=Code.MODEL_TYPE_UNSUPPORTED,
        details={"flag": "--neuron.model-type", "value": value},
    )


def _example(flag: Flag) -> str:
    samples = {Kind.INT: "4096", Kind.FLOAT: "1000000.0", Kind.JSON: "'{\"factor\": 2.0}'", Kind.BOOL: "true"}
    if flag.choices:
        return f"{flag.option} {flag.choices[0]}"
    if flag.name == "hf-repo":
        return "--hf-repo ORG/NAME"
    return f"{flag.option} {samples.get(flag.kind, 'VALUE')}"
