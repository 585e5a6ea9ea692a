"""Scorers: ``(output, sample, **options) -> float`` in [0, 1], found through a registry.

A sample may accept several answers; a scorer gives the best score over them. A name of
the form ``module:function`` imports a custom scorer with the same signature.
"""

from __future__ import annotations

import importlib
import inspect
import re
import string
from collections.abc import Callable
from functools import partial
from typing import Any

from podium.errors import Code, EvalError
from podium.evaluate.dataset import LETTERS, Sample
from podium.registry import Registry

Scorer = Callable[[str, Sample], float]

SCORERS: Registry[Callable[..., float]] = Registry("scorer")

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans({c: " " for c in string.punctuation})
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower case, thousands separators dropped (``1,000`` is ``1000``), punctuation to
    spaces, articles removed, whitespace collapsed."""
    text = _THOUSANDS.sub("", text.lower()).translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@SCORERS.register("exact_match")
def exact_match(output: str, sample: Sample) -> float:
    out = normalize(output)
    return float(any(out == normalize(a) for a in sample.answers))


@SCORERS.register("contains")
def contains(output: str, sample: Sample, max_words: int | None = None) -> float:
    """1 when a normalised answer appears as whole words in the normalised output.

    ``max_words`` (optional) scores 0 for longer outputs, so that listing many candidate
    answers does not pay.
    """
    out = f" {normalize(output)} "
    if max_words is not None and len(out.split()) > max_words:
        return 0.0
    for answer in sample.answers:
        norm = normalize(answer)
        if norm and f" {norm} " in out:
            return 1.0
    return 0.0


@SCORERS.register("regex")
def regex(
    output: str, sample: Sample, pattern: str, group: int | str = 1, ignore_case: bool = True
) -> float:
    """Search ``pattern``; its capture group (whole match when it has none) is compared
    with the answers after normalisation."""
    compiled = _compile(pattern, ignore_case)
    match = compiled.search(output)
    if match is None:
        return 0.0
    found = match.group(group if compiled.groups else 0) or ""
    return float(any(normalize(found) == normalize(a) for a in sample.answers))


def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<=[^\w.-])\.\d+")


def extract_numbers(text: str) -> list[float]:
    """Numbers in ``text``; commas as thousands separators (``1,234.5`` is 1234.5)."""
    out = []
    for m in _NUMBER.finditer(" " + text):
        try:
            out.append(float(m.group(0).replace(",", "")))
        except ValueError:  # pragma: no cover - the pattern only matches numbers
            continue
    return out


@SCORERS.register("numeric")
def numeric(output: str, sample: Sample, position: str = "last", tolerance: float = 1e-6) -> float:
    """1 when the first or last number of the output equals an answer within ``tolerance``."""
    if position not in ("first", "last"):
        raise ValueError("position must be 'first' or 'last'")
    found = extract_numbers(output)
    if not found:
        return 0.0
    value = found[-1] if position == "last" else found[0]
    for answer in sample.answers:
        expected = extract_numbers(answer)
        if expected and abs(value - expected[0]) <= tolerance:
            return 1.0
    return 0.0


_MC_PATTERNS = (
    re.compile(r"^\s*[\(\[]?([A-E])[\)\]]?\s*[.:)]?\s*$", re.IGNORECASE),  # "B", "(b)", "B.", "[B]"
    re.compile(
        r"\banswer\s*(?:is|:)?\s*:?\s*(?:option\s*)?[\(\[]?([A-E])\b(?![a-z'])", re.IGNORECASE
    ),
    re.compile(r"^\s*(?:option\s*)?[\(\[]?([A-E])(?:[\)\].:]|\s+-|\s*$)"),  # "B) Paris", "B. Paris"
    re.compile(r"[\(\[]([A-E])[\)\]]"),  # "... (B) ..."
    re.compile(r"\b(?:option|choice)\s+([A-E])\b", re.IGNORECASE),
)


def extract_choice(output: str, choices: tuple[str, ...] | None = None) -> str | None:
    """The letter an output picks, or None. Falls back to the text of exactly one choice."""
    text = output.strip()
    first_line = text.splitlines()[0] if text else ""
    for pat in _MC_PATTERNS:
        for candidate in (first_line, text):
            m = pat.search(candidate)
            if m:
                return m.group(1).upper()
    if choices:
        norm = f" {normalize(output)} "
        hits = [i for i, c in enumerate(choices) if normalize(c) and f" {normalize(c)} " in norm]
        if len(hits) == 1:
            return LETTERS[hits[0]]
    return None


@SCORERS.register("multiple_choice")
def multiple_choice(output: str, sample: Sample) -> float:
    letter = extract_choice(output, sample.choices)
    return float(letter is not None and any(letter == a.strip().upper() for a in sample.answers))


# -- construction ----------------------------------------------------------------------


def make_scorer(
    name: str, options: dict[str, Any] | None = None, *, where: str = "scorer"
) -> Scorer:
    """A ready scorer for ``name`` with ``options`` bound; errors name ``where``."""
    options = dict(options or {})
    fn = _resolve(name, where)
    try:
        inspect.signature(fn).bind("output", None, **options)
    except TypeError as exc:
        raise EvalError(
            f"{where}: options {sorted(options)} do not fit scorer '{name}': {exc}",
            f"scorer '{name}' takes: {_describe(fn)}",
            code=Code.CHALLENGE_INVALID,
            details={"scorer": name, "field": where},
        ) from None
    if name == "regex":
        try:
            _compile(options["pattern"], options.get("ignore_case", True))
        except re.error as exc:
            raise EvalError(
                f"{where}: regex pattern {options['pattern']!r} is invalid: {exc}",
                "fix options.pattern",
                code=Code.CHALLENGE_INVALID,
                details={"scorer": name, "field": where},
            ) from None
    if name == "numeric" and options.get("position", "last") not in ("first", "last"):
        raise EvalError(
            f"{where}: numeric option position must be 'first' or 'last'",
            "fix options.position",
            code=Code.CHALLENGE_INVALID,
            details={"scorer": name, "field": where},
        )
    return partial(fn, **options) if options else fn


def _describe(fn: Callable[..., Any]) -> str:
    params = list(inspect.signature(fn).parameters.values())[2:]
    return ", ".join(str(p) for p in params) or "no options"


def _resolve(name: str, where: str) -> Callable[..., float]:
    found = SCORERS.find(name)
    if found is not None:
        return found
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
            fn = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            raise EvalError(
                f"{where}: custom scorer '{name}' cannot be imported: {exc}",
                "write it as package.module:function, importable where the evaluation runs",
                code=Code.SCORER_UNKNOWN,
                details={"scorer": name, "field": where},
            ) from None
        if not callable(fn):
            raise EvalError(
                f"{where}: custom scorer '{name}' is not callable",
                "point at a function (output, sample) -> float",
                code=Code.SCORER_UNKNOWN,
                details={"scorer": name, "field": where},
            )
        return fn
    raise EvalError(
        f"{where}: {SCORERS.miss_message(name)}",
        "use a built-in scorer or module:function for your own",
        code=Code.SCORER_UNKNOWN,
        details={"scorer": name, "field": where, "suggestion": SCORERS.suggest(name)},
    )


def clamp(value: Any) -> float:
    """A custom scorer's result as a float in [0, 1] (bools count as 0/1)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    if x != x:  # NaN
        return 0.0
    return min(1.0, max(0.0, x))
