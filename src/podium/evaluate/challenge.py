"""Challenge definitions: one YAML file per challenge, validated on load.

Unknown keys are refused and every error names the field and its path, in the organiser's
terms::

    challenge demo.yaml is invalid: evaluation.sampling.temperature: Input should be
    less than or equal to 2 (got 5)

The challenge also decides which ``submit-model`` flags participants may set, their
defaults and maxima (:func:`check_flags`, :func:`apply_defaults`), and declares its own
submission keys (:meth:`Challenge.extra_flags`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from podium.errors import Code, EvalError, Finding, SpecError, error
from podium.registry import closest
from podium.spec.flags import FLAGS_BY_NAME, Flag, Kind, extra_flag
from podium.spec.submission import SubmissionSpec

# Flags every submission needs: always allowed whatever ``allowed_flags`` says.
ALWAYS_ALLOWED = frozenset({"hf-repo", "hf-repo-tag"})
NUMERIC = (Kind.INT, Kind.FLOAT)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtraKey(_Model):
    """A challenge-specific submission key, e.g. ``temperature`` or ``prompt-template-path``."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*(\.[a-z0-9][a-z0-9\-]*)?$")
    type: Literal["string", "integer", "number", "boolean"] = "string"
    help: str = ""
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None

    @property
    def is_path(self) -> bool:
        """Keys ending in ``-path`` name a file read at submission."""
        return self.name.endswith("-path")

    def flag(self) -> Flag:
        return extra_flag(
            self.name,
            Kind(self.type),
            self.help,
            default=self.default,
            choices=self.choices,
            minimum=self.min,
            maximum=self.max,
        )


class ScorerSpec(_Model):
    """One scorer: ``name`` is a registered scorer or ``module:function``.

    ``metric`` is the metric its scores count towards (default: the scorer's name); several
    scorers may feed one metric when their ``kinds`` do not overlap (e.g. ``contains`` for
    facts and ``numeric`` for arithmetic, both counting as ``accuracy``). A sample gets
    the score of the first scorer of a metric that applies to its kind.
    """

    name: str
    metric: str | None = None
    kinds: tuple[str, ...] | None = None  # None: every sample
    options: dict[str, Any] = Field(default_factory=dict)

    @property
    def metric_name(self) -> str:
        return self.metric or self.name

    def applies_to(self, kind: str | None) -> bool:
        return self.kinds is None or kind in self.kinds


class Sampling(_Model):
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(256, ge=1)  # used when neither the submission nor defaults say
    max_concurrency: int = Field(64, ge=1)  # cap on the submission's max-num-seqs
    stop: tuple[str, ...] | None = None
    seed: int | None = None


class Evaluation(_Model):
    dataset: str
    api: Literal["chat", "completions"] = "chat"
    prompt_template: str = "{{ prompt }}"
    system_prompt: str | None = None
    scorers: tuple[ScorerSpec, ...] = Field(min_length=1)
    primary_metric: str
    primary_split: Literal["public", "private"] = "public"
    sampling: Sampling = Field(default_factory=Sampling)

    @model_validator(mode="after")
    def _primary_is_a_metric(self) -> Evaluation:
        metrics = {s.metric_name for s in self.scorers}
        if self.primary_metric not in metrics:
            raise ValueError(
                f"primary_metric {self.primary_metric!r} is not the metric of any scorer "
                f"(metrics: {', '.join(sorted(metrics))})"
            )
        return self

    def metric_names(self) -> list[str]:
        return list(dict.fromkeys(s.metric_name for s in self.scorers))


class Quotas(_Model):
    submissions: int = Field(5, ge=1)
    window: Literal["rolling_24h", "daily"] = "daily"
    reset_hour_utc: int = Field(0, ge=0, le=23)
    failed_allowance: int = Field(2, ge=0)
    max_in_flight: int = Field(1, ge=1)


class Timeouts(_Model):
    startup_s: float = Field(900, gt=0)
    request_s: float = Field(120, gt=0)
    total_s: float = Field(3600, gt=0)


class Challenge(_Model):
    """A challenge as the organiser wrote it. ``path`` is the YAML file it came from."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str
    description: str = ""
    target: str
    defaults: dict[str, Any] = Field(default_factory=dict)
    maximum: dict[str, float] = Field(default_factory=dict)
    allowed_flags: tuple[str, ...] | None = None  # None: every flag
    extra_keys: tuple[ExtraKey, ...] = ()
    evaluation: Evaluation
    quotas: Quotas = Field(default_factory=Quotas)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    reveal_private_at: dt.datetime | None = None
    path: Path | None = Field(None, exclude=True)

    @field_validator("reveal_private_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    @model_validator(mode="after")
    def _flags_known(self) -> Challenge:
        extras = {k.name: k.flag() for k in self.extra_keys}
        clash = sorted(set(extras) & set(FLAGS_BY_NAME))
        if clash:
            raise ValueError(f"extra_keys: {clash[0]!r} is already a submit-model flag")
        if len(extras) != len(self.extra_keys):
            raise ValueError("extra_keys: a key is declared twice")
        known = {**FLAGS_BY_NAME, **extras}
        for name in self.allowed_flags or ():
            _known_flag(known, name, "allowed_flags")
        for name, value in self.maximum.items():
            flag = _known_flag(known, name, "maximum")
            if flag.kind not in NUMERIC:
                raise ValueError(f"maximum.{name}: only numeric flags can have a maximum")
            if flag.minimum is not None and value < flag.minimum:
                raise ValueError(
                    f"maximum.{name}: {value:g} is below the flag's minimum {flag.minimum:g}"
                )
        for name, value in self.defaults.items():
            flag = _known_flag(known, name, "defaults")
            try:
                typed = _coerce(flag, value)
            except SpecError as exc:
                raise ValueError(f"defaults.{name}: {exc.message}") from None
            limit = self.maximum.get(name)
            if limit is not None and typed > limit:
                raise ValueError(f"defaults.{name}: {typed} is above maximum.{name} ({limit:g})")
        return self

    # -- derived ---------------------------------------------------------------------

    def extra_flags(self) -> list[Flag]:
        """The challenge's own submission keys as flags for the ``submit-model`` parser."""
        return [k.flag() for k in self.extra_keys]

    def is_allowed(self, name: str) -> bool:
        if name in ALWAYS_ALLOWED or any(k.name == name for k in self.extra_keys):
            return True
        return self.allowed_flags is None or name in self.allowed_flags

    def typed_defaults(self) -> dict[str, Any]:
        known = {**FLAGS_BY_NAME, **{f.name: f for f in self.extra_flags()}}
        return {name: _coerce(known[name], value) for name, value in self.defaults.items()}

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def dataset_path(self) -> Path:
        return (self.base_dir / self.evaluation.dataset).resolve()

    def max_tokens_for(self, requested: int | None) -> int:
        """max_tokens of every request: the submission's, else the challenge default, capped."""
        value = requested
        if value is None:
            value = self.typed_defaults().get("vllm-inference.max-tokens")
        if value is None:
            value = self.evaluation.sampling.max_tokens
        cap = self.maximum.get("vllm-inference.max-tokens")
        return int(min(value, cap)) if cap is not None else int(value)

    def concurrency_for(self, max_num_seqs: int | None) -> int:
        """Requests in flight: the submission's max-num-seqs, capped by the challenge."""
        cap = self.evaluation.sampling.max_concurrency
        if max_num_seqs is None:
            max_num_seqs = self.typed_defaults().get("vllm.max-num-seqs", cap)
        return max(1, min(int(max_num_seqs), cap))


def _known_flag(known: Mapping[str, Flag], name: str, where: str) -> Flag:
    flag = known.get(name)
    if flag is None:
        guess = closest(name, list(known), cutoff=0.5)
        tip = f": did you mean {guess}?" if guess else ""
        raise ValueError(f"{where}.{name}: unknown submit-model flag {name!r}{tip}")
    return flag


def _coerce(flag: Flag, value: Any) -> Any:
    from podium.spec.values import coerce

    return coerce(flag, value)


# -- loading ---------------------------------------------------------------------------


def load_challenge(path: str | Path) -> Challenge:
    """Read and validate a challenge YAML file (or a directory holding challenge.yaml)."""
    path = Path(path)
    if path.is_dir():
        path = path / "challenge.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _invalid(path, f"cannot read it: {exc.strerror or exc}", "check the path") from None
    except yaml.YAMLError as exc:
        raise _invalid(path, f"not valid YAML: {exc}", "fix the YAML syntax") from None
    return challenge_from_dict(data, path=path)


def challenge_from_dict(data: Any, *, path: Path | None = None) -> Challenge:
    where = path or Path("<challenge>")
    if not isinstance(data, dict):
        raise _invalid(where, "the top level must be a mapping of keys", "start with 'name: ...'")
    try:
        challenge = Challenge.model_validate({**data, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown key"
            hint = "remove it or fix its spelling; see docs for the challenge schema"
        elif first["type"] == "missing":
            msg = "required key is missing"
            hint = "add it"
        else:
            got = first.get("input")
            if not isinstance(got, dict | list) and got is not None:
                msg += f" (got {got!r})"
            hint = "fix this value"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise EvalError(
            f"challenge {where.name} is invalid: {loc}: {msg}",
            hint,
            code=Code.CHALLENGE_INVALID,
            details={
                "path": str(where),
                "field": loc,
                "errors": exc.errors(include_url=False, include_input=False),
            },
        ) from None
    _check_scorers(challenge)
    _check_template(challenge)
    return challenge


def _invalid(path: Path, what: str, hint: str, field: str | None = None) -> EvalError:
    prefix = f"{field}: " if field else ""
    return EvalError(
        f"challenge {path.name} is invalid: {prefix}{what}",
        hint,
        code=Code.CHALLENGE_INVALID,
        details={"path": str(path), "field": field},
    )


def _check_scorers(challenge: Challenge) -> None:
    from podium.evaluate.scorers import make_scorer

    for i, spec in enumerate(challenge.evaluation.scorers):
        make_scorer(spec.name, spec.options, where=f"evaluation.scorers.{i}")


def _check_template(challenge: Challenge) -> None:
    from podium.evaluate.dataset import PromptTemplate

    PromptTemplate(challenge.evaluation.prompt_template, origin="evaluation.prompt_template")


# -- submission flags against the challenge ---------------------------------------------


def check_flags(
    challenge: Challenge, values: Mapping[str, Any], given: Iterable[str]
) -> list[Finding]:
    """Findings for flags the challenge forbids or values above its maxima.

    ``values`` maps flag names (``vllm.max-num-seqs``) to typed values, defaults included;
    ``given`` names the flags the participant wrote.
    """
    findings: list[Finding] = []
    for name in given:
        name = name.lstrip("-")
        if not challenge.is_allowed(name):
            allowed = sorted(set(challenge.allowed_flags or ()) | ALWAYS_ALLOWED)
            findings.append(
                error(
                    Code.FLAG_NOT_ALLOWED,
                    f"--{name} is not allowed in challenge '{challenge.name}'",
                    f"remove --{name}; this challenge accepts: "
                    + ", ".join(f"--{a}" for a in allowed),
                )
            )
    for name, limit in challenge.maximum.items():
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > limit:
            findings.append(
                error(
                    Code.FLAG_ABOVE_MAXIMUM,
                    f"--{name} {value} is above the maximum of challenge "
                    f"'{challenge.name}' ({limit:g})",
                    f"use --{name} {limit:g} or less",
                )
            )
    return findings


def check_submission(challenge: Challenge, spec: SubmissionSpec) -> list[Finding]:
    """:func:`check_flags` for a :class:`SubmissionSpec`."""
    return check_flags(challenge, spec.flags(), spec.given)


def with_defaults(challenge: Challenge, spec: SubmissionSpec) -> SubmissionSpec:
    """A new spec with the challenge's defaults for every flag the participant did not give."""
    values = apply_defaults(challenge, spec.flags(), spec.given)
    values.setdefault("hf-repo", spec.hf_repo)
    return SubmissionSpec.from_values(values, spec.given)


def apply_defaults(
    challenge: Challenge, values: Mapping[str, Any], given: Iterable[str]
) -> dict[str, Any]:
    """A new mapping: the challenge's defaults replace every flag the participant did not
    give (including the flag table's own defaults); given values are kept as they are."""
    given_set = {g.lstrip("-") for g in given}
    out = dict(values)
    for name, value in challenge.typed_defaults().items():
        if name not in given_set:
            out[name] = value
    return out
