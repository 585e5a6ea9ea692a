"""Datasets (JSONL) and prompt templates (sandboxed Jinja).

One sample per line::

    {"id": "cap-fr", "prompt": "What is the capital of France?", "answer": "Paris",
     "split": "public", "kind": "facts"}

``prompt`` or ``messages`` (a chat list), ``answer`` (a string) or ``answers`` (a list of
accepted strings), ``split`` (public | private), optional ``kind`` and ``choices``
(multiple choice: the answer is then a letter A-E). Errors name the line and the field:
``dataset.jsonl line 12: field 'split': must be 'public' or 'private' (got 'test')``.

Templates see ``prompt``, ``messages``, ``choices``, ``letters``, ``kind`` and ``id``,
never the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from podium.errors import Code, EvalError

SPLITS = ("public", "private")
LETTERS = "ABCDE"
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Sample:
    id: str
    split: str
    answers: tuple[str, ...]
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    kind: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def answer(self) -> str:
        return self.answers[0]

    def template_context(self) -> dict[str, Any]:
        """What a prompt template may see (never the answers)."""
        messages = [dict(m) for m in self.messages] if self.messages else None
        prompt = self.prompt
        if prompt is None and messages:
            users = [m["content"] for m in messages if m["role"] == "user"]
            prompt = users[-1] if users else ""
        return {
            "id": self.id,
            "prompt": prompt,
            "messages": messages,
            "choices": list(self.choices) if self.choices else None,
            "letters": LETTERS,
            "kind": self.kind,
        }


class _DatasetError(ValueError):
    def __init__(self, field: str, what: str) -> None:
        super().__init__(what)
        self.field = field
        self.what = what


def _parse_sample(obj: Any) -> Sample:
    if not isinstance(obj, dict):
        raise _DatasetError("(line)", "each line must be a JSON object")
    allowed = {"id", "prompt", "messages", "answer", "answers", "split", "kind", "choices", "meta"}
    for key in obj:
        if key not in allowed:
            raise _DatasetError(key, f"unknown field (allowed: {', '.join(sorted(allowed))})")
    sid = obj.get("id")
    if not isinstance(sid, str | int) or isinstance(sid, bool) or str(sid) == "":
        raise _DatasetError("id", "required, a non-empty string")
    split = obj.get("split")
    if split not in SPLITS:
        raise _DatasetError("split", f"must be 'public' or 'private' (got {split!r})")
    prompt, messages = obj.get("prompt"), obj.get("messages")
    if (prompt is None) == (messages is None):
        raise _DatasetError("prompt", "give exactly one of 'prompt' or 'messages'")
    if prompt is not None and (not isinstance(prompt, str) or not prompt.strip()):
        raise _DatasetError("prompt", "must be a non-empty string")
    if messages is not None:
        messages = _parse_messages(messages)
    answers = _parse_answers(obj)
    kind = obj.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise _DatasetError("kind", "must be a string")
    choices = obj.get("choices")
    if choices is not None:
        if (
            not isinstance(choices, list)
            or not 2 <= len(choices) <= len(LETTERS)
            or not all(isinstance(c, str) and c.strip() for c in choices)
        ):
            raise _DatasetError(
                "choices", f"must be a list of 2 to {len(LETTERS)} non-empty strings"
            )
        valid = LETTERS[: len(choices)]
        if any(a.strip().upper() not in valid for a in answers):
            raise _DatasetError(
                "answer", f"a multiple-choice answer must be one of the letters {', '.join(valid)}"
            )
        choices = tuple(choices)
    return Sample(
        id=str(sid),
        split=split,
        answers=answers,
        prompt=prompt,
        messages=messages,
        kind=kind,
        choices=choices,
    )


def _parse_messages(messages: Any) -> tuple[dict[str, str], ...]:
    if not isinstance(messages, list) or not messages:
        raise _DatasetError("messages", "must be a non-empty list of {role, content}")
    out = []
    for i, m in enumerate(messages):
        if (
            not isinstance(m, dict)
            or set(m) != {"role", "content"}
            or m["role"] not in ROLES
            or not isinstance(m["content"], str)
        ):
            raise _DatasetError(
                f"messages[{i}]", 'must be {"role": system|user|assistant, "content": text}'
            )
        out.append({"role": m["role"], "content": m["content"]})
    if out[-1]["role"] != "user":
        raise _DatasetError("messages", "the last message must be from the user")
    return tuple(out)


def _parse_answers(obj: dict[str, Any]) -> tuple[str, ...]:
    if ("answer" in obj) == ("answers" in obj):
        raise _DatasetError(
            "answer", "give exactly one of 'answer' (a string) or 'answers' (a list)"
        )
    if "answer" in obj:
        value = obj["answer"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise _DatasetError("answer", "must be a non-empty string")
        return (value,)
    values = obj["answers"]
    if not isinstance(values, list) or not values:
        raise _DatasetError("answers", "must be a non-empty list of strings")
    out = []
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            raise _DatasetError("answers", "must be a non-empty list of strings")
        out.append(v)
    return tuple(out)


def load_dataset(path: str | Path) -> list[Sample]:
    """Every sample of a JSONL file, validated; blank lines and ``//`` comments are skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvalError(
            f"dataset {path} cannot be read: {exc.strerror or exc}",
            "check evaluation.dataset in the challenge (a path relative to the YAML file)",
            code=Code.DATASET_INVALID,
            details={"path": str(path)},
        ) from None
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        try:
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise _DatasetError(
                    "(line)", f"not valid JSON: {exc.msg} at column {exc.colno}"
                ) from None
            sample = _parse_sample(obj)
            if sample.id in seen:
                raise _DatasetError(
                    "id", f"duplicate id {sample.id!r} (first on line {seen[sample.id]})"
                )
        except _DatasetError as exc:
            where = "" if exc.field == "(line)" else f"field '{exc.field}': "
            raise EvalError(
                f"{path.name} line {lineno}: {where}{exc.what}",
                "fix that line of the dataset",
                code=Code.DATASET_INVALID,
                details={"path": str(path), "line": lineno, "field": exc.field},
            ) from None
        seen[sample.id] = lineno
        samples.append(sample)
    if not samples:
        raise EvalError(
            f"dataset {path.name} has no samples",
            "add one JSON object per line",
            code=Code.DATASET_INVALID,
            details={"path": str(path)},
        )
    return samples


# -- prompt templates ------------------------------------------------------------------

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)


class PromptTemplate:
    """A Jinja template that turns a sample into the user's prompt text.

    ``origin`` names where it came from (``evaluation.prompt_template`` or the
    participant's ``--prompt-template-path``) so that errors point there. A template error
    is :class:`EvalError` with ``code`` (CHALLENGE_INVALID for the organiser's template,
    FLAG_INVALID for a participant's).
    """

    def __init__(
        self,
        source: str,
        *,
        origin: str = "evaluation.prompt_template",
        code: Code = Code.CHALLENGE_INVALID,
    ) -> None:
        self.source = source
        self.origin = origin
        self.code = code
        try:
            self._template = _ENV.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise self._error(f"syntax error on line {exc.lineno}: {exc.message}") from None

    def _error(self, what: str) -> EvalError:
        return EvalError(
            f"prompt template ({self.origin}) {what}",
            "the template may use: prompt, messages, choices, letters, kind, id",
            code=self.code,
            details={"origin": self.origin},
        )

    def render(self, sample: Sample) -> str:
        try:
            return self._template.render(sample.template_context()).strip()
        except jinja2.UndefinedError as exc:
            raise self._error(
                f"uses an undefined value on sample {sample.id!r}: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise self._error(f"failed on sample {sample.id!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - sandbox or filter errors on odd input
            raise self._error(
                f"failed on sample {sample.id!r}: {type(exc).__name__}: {exc}"
            ) from None


def build_messages(
    sample: Sample, template: PromptTemplate, system_prompt: str | None
) -> list[dict[str, str]]:
    """Chat messages for one sample: the system prompt (unless the sample has its own),
    earlier turns, and the last user turn rendered through the template."""
    text = template.render(sample)
    if sample.messages:
        msgs = [dict(m) for m in sample.messages]
        msgs[-1]["content"] = text
    else:
        msgs = [{"role": "user", "content": text}]
    if system_prompt and msgs[0]["role"] != "system":
        msgs.insert(0, {"role": "system", "content": system_prompt})
    return msgs


def build_prompt(sample: Sample, template: PromptTemplate, system_prompt: str | None) -> str:
    """Plain completion text for one sample (the ``completions`` API)."""
    text = template.render(sample)
    parts = [system_prompt] if system_prompt else []
    if sample.messages and len(sample.messages) > 1:
        for m in sample.messages[:-1]:
            if m["role"] == "system" and system_prompt:
                continue
            parts.append(f"{m['role'].capitalize()}: {m['content']}")
        parts.append(f"User: {text}\nAssistant:")
    else:
        parts.append(text)
    return "\n\n".join(parts)
