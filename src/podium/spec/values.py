"""Turning one flag's text into a typed value, with a FLAG_INVALID error that names the
flag, the value and what is allowed."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from podium.errors import Code, SpecError
from podium.spec.flags import Flag, Kind

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
BOOL_WORDS = TRUE_WORDS | FALSE_WORDS

# A token the engine decides about (kv-cache-dtype, quantization, load-format): plain words
# only, so that nothing path- or shell-like ever reaches the engine's command line.
_ENGINE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,199}$")


def invalid(flag: Flag, value: object, allowed: str) -> SpecError:
    return SpecError(
        f"invalid value {str(value)!r} for {flag.option}: {allowed}",
        f"write it as {flag.option} VALUE where VALUE is {allowed}",
        code=Code.FLAG_INVALID,
        details={"flag": flag.option, "value": str(value), "allowed": allowed},
    )


def parse_bool(flag: Flag, text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise invalid(flag, text, "a boolean (true/false, 1/0, yes/no)")


def _check_range(flag: Flag, value: float, text: str) -> None:
    lo, hi = flag.minimum, flag.maximum
    if lo is not None and value < lo:
        raise invalid(flag, text, _range_text(flag))
    if hi is not None and value > hi:
        raise invalid(flag, text, _range_text(flag))


def _range_text(flag: Flag) -> str:
    word = "an integer" if flag.kind is Kind.INT else "a number"
    lo, hi = flag.minimum, flag.maximum
    if lo is not None and hi is not None:
        return f"{word} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{word} >= {lo:g}"
    if hi is not None:
        return f"{word} <= {hi:g}"
    return word


def coerce(flag: Flag, raw: Any) -> Any:
    """The typed value of ``raw`` (text from argv or JSON, or an already typed value)."""
    text = raw if isinstance(raw, str) else json.dumps(raw) if flag.kind is Kind.JSON else str(raw)
    if flag.kind is Kind.BOOL:
        if isinstance(raw, bool):
            return raw
        return parse_bool(flag, text)
    if flag.kind is Kind.INT:
        if isinstance(raw, bool):
            raise invalid(flag, raw, _range_text(flag))
        try:
            value = int(text.strip().replace("_", ""), 10)
        except ValueError:
            raise invalid(flag, text, _range_text(flag)) from None
        _check_range(flag, value, text)
        return value
    if flag.kind is Kind.FLOAT:
        try:
            number = float(text.strip())
        except ValueError:
            raise invalid(flag, text, _range_text(flag)) from None
        if not math.isfinite(number):
            raise invalid(flag, text, "a finite number")
        _check_range(flag, number, text)
        return number
    if flag.kind is Kind.JSON:
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{flag.option} is not valid JSON: {exc.msg} at character {exc.pos} of {text!r}",
                f"quote the whole object for your shell, e.g. {flag.option} "
                '\'{"rope_type": "linear", "factor": 2.0}\'',
                code=Code.FLAG_INVALID,
                details={"flag": flag.option, "value": text},
            ) from None
        if not isinstance(value, dict):
            raise invalid(flag, text, "a JSON object ({...})")
        return value
    # strings
    value = text.strip()
    if not value:
        raise invalid(flag, raw, "a non-empty string")
    if flag.choices is not None and value not in flag.choices:
        raise invalid(flag, value, "one of " + ", ".join(flag.choices))
    if flag.engine_choices and not _ENGINE_WORD.match(value):
        raise invalid(flag, value, "a plain name such as 'auto' (letters, digits, '_', '-', '.')")
    if flag.name == "hf-repo":
        check_repo_id(flag, value)
    if flag.name == "hf-repo-tag" and (not _REVISION.match(value) or ".." in value):
        raise invalid(flag, value, "a branch, tag or commit sha (letters, digits, '_', '-', '.', '/')")
    return value


def check_repo_id(flag: Flag, value: str) -> None:
    if _REPO_ID.match(value) and ".." not in value and not value.endswith((".", "-")):
        return
    raise SpecError(
        f"{flag.option} {value!r} is not a Hugging Face repository id",
        "write it as ORG/NAME, e.g. --hf-repo HuggingFaceTB/SmolLM2-135M-Instruct; "
        "for a model on your own disk use 'podium check --model-dir PATH'",
        code=Code.REPO_INVALID,
        details={"flag": flag.option, "value": value},
    )
