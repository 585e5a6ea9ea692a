"""One error vocabulary for the whole project.

Every rejection a participant can meet carries a stable ``code``, a ``message`` in the
participant's own terms (their flag, their repo) and a ``hint`` that says what to do.
The CLI, the API and the web pages show the same three.

Two shapes carry a code:

* :class:`PodiumError` is raised: the work cannot go on (a flag that does not parse, a
  repository that does not exist, an engine that never became ready).
* :class:`Finding` is collected: the preflight gathers every problem it sees so that a
  participant learns all of them at once. A finding of severity ``error`` stops a
  submission; warnings and infos are advice.

Example::

    >>> err = FlagUnknown("--vllm.max-model-length", suggestion="--vllm.max-model-len")
    >>> err.code, err.message
    ('FLAG_UNKNOWN', "unknown flag '--vllm.max-model-length': did you mean --vllm.max-model-len?")
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Code(enum.StrEnum):
    """Stable error codes. Never rename one: scripts and organisers match on them."""

    # spec: what the participant typed
    FLAG_UNKNOWN = "FLAG_UNKNOWN"
    FLAG_INVALID = "FLAG_INVALID"
    FLAG_DUPLICATE = "FLAG_DUPLICATE"
    FLAG_MISSING_VALUE = "FLAG_MISSING_VALUE"
    FLAG_REQUIRED = "FLAG_REQUIRED"
    FLAG_NOT_ALLOWED = "FLAG_NOT_ALLOWED"
    FLAG_ABOVE_MAXIMUM = "FLAG_ABOVE_MAXIMUM"
    UNEXPECTED_ARGUMENT = "UNEXPECTED_ARGUMENT"
    # model type
    MODEL_TYPE_UNSUPPORTED = "MODEL_TYPE_UNSUPPORTED"
    MODEL_TYPE_MISMATCH = "MODEL_TYPE_MISMATCH"
    MODEL_TYPE_ALIAS = "MODEL_TYPE_ALIAS"
    MODEL_TYPE_BETA = "MODEL_TYPE_BETA"
    MODEL_TYPE_DETECTED = "MODEL_TYPE_DETECTED"
    # hub: the repository and its files
    REPO_INVALID = "REPO_INVALID"
    REPO_NOT_FOUND = "REPO_NOT_FOUND"
    REVISION_NOT_FOUND = "REVISION_NOT_FOUND"
    REPO_ACCESS_DENIED = "REPO_ACCESS_DENIED"
    HUB_UNREACHABLE = "HUB_UNREACHABLE"
    NOT_A_MODEL_REPO = "NOT_A_MODEL_REPO"
    MODEL_DIR_NOT_FOUND = "MODEL_DIR_NOT_FOUND"
    CONFIG_INVALID = "CONFIG_INVALID"
    # preflight: will it work on the target
    TARGET_UNKNOWN = "TARGET_UNKNOWN"
    ARCHITECTURE_UNSUPPORTED = "ARCHITECTURE_UNSUPPORTED"
    REMOTE_CODE_REQUIRED = "REMOTE_CODE_REQUIRED"
    UNSAFE_WEIGHTS = "UNSAFE_WEIGHTS"
    WEIGHTS_MISSING = "WEIGHTS_MISSING"
    TOKENIZER_MISSING = "TOKENIZER_MISSING"
    CHAT_TEMPLATE_MISSING = "CHAT_TEMPLATE_MISSING"
    EOS_MISMATCH = "EOS_MISMATCH"
    CONTEXT_TOO_LONG = "CONTEXT_TOO_LONG"
    BATCHED_TOKENS_TOO_SMALL = "BATCHED_TOKENS_TOO_SMALL"
    MODEL_TOO_LARGE = "MODEL_TOO_LARGE"
    FLAG_IGNORED_ON_TARGET = "FLAG_IGNORED_ON_TARGET"
    FLAG_UNSUPPORTED_BY_ENGINE = "FLAG_UNSUPPORTED_BY_ENGINE"
    FLAG_TRANSLATED = "FLAG_TRANSLATED"
    FLAG_DROPPED = "FLAG_DROPPED"
    TARGET_FORCED_VALUE = "TARGET_FORCED_VALUE"
    DTYPE_SLOW_ON_TARGET = "DTYPE_SLOW_ON_TARGET"
    ENGINE_VERSION_ASSUMED = "ENGINE_VERSION_ASSUMED"
    # engine and evaluation
    ENGINE_NOT_INSTALLED = "ENGINE_NOT_INSTALLED"
    ENGINE_START_FAILED = "ENGINE_START_FAILED"
    ENGINE_TIMEOUT = "ENGINE_TIMEOUT"
    ENGINE_CRASHED = "ENGINE_CRASHED"
    NEURON_COMPILE_FAILED = "NEURON_COMPILE_FAILED"
    CHALLENGE_INVALID = "CHALLENGE_INVALID"
    DATASET_INVALID = "DATASET_INVALID"
    SCORER_UNKNOWN = "SCORER_UNKNOWN"
    EVAL_FAILED = "EVAL_FAILED"
    # platform
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    WORKER_LOST = "WORKER_LOST"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CHALLENGE_NOT_FOUND = "CHALLENGE_NOT_FOUND"
    SUBMISSION_NOT_FOUND = "SUBMISSION_NOT_FOUND"
    PAYLOAD_INVALID = "PAYLOAD_INVALID"
    SETTINGS_INVALID = "SETTINGS_INVALID"
    STATE_CONFLICT = "STATE_CONFLICT"
    ATTEMPT_SUPERSEDED = "ATTEMPT_SUPERSEDED"
    SERVER_UNREACHABLE = "SERVER_UNREACHABLE"
    SERVER_ERROR = "SERVER_ERROR"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing the preflight has to say about a submission."""

    severity: Severity
    code: Code
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "severity": str(self.severity),
            "code": str(self.code),
            "message": self.message,
            "hint": self.hint,
        }


def error(code: Code, message: str, hint: str = "") -> Finding:
    return Finding(Severity.ERROR, code, message, hint)


def warning(code: Code, message: str, hint: str = "") -> Finding:
    return Finding(Severity.WARNING, code, message, hint)


def info(code: Code, message: str, hint: str = "") -> Finding:
    return Finding(Severity.INFO, code, message, hint)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


class PodiumError(Exception):
    """Base of every error a user can meet. ``code`` is stable; ``details`` is structured."""

    code: Code = Code.EVAL_FAILED

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        code: Code | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.hint = hint
        self.details: dict[str, Any] = details or {}

    def as_finding(self) -> Finding:
        return error(self.code, self.message, self.hint)

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, "hint": self.hint}


class SpecError(PodiumError, ValueError):
    """The submission's flags do not parse or do not validate."""

    code = Code.FLAG_INVALID


class FlagUnknown(SpecError):
    """``unknown flag '--vllm.max-model-length': did you mean --vllm.max-model-len?``"""

    code = Code.FLAG_UNKNOWN

    def __init__(self, flag: str, suggestion: str | None = None) -> None:
        msg = f"unknown flag '{flag}'"
        if suggestion:
            msg += f": did you mean {suggestion}?"
        super().__init__(
            msg,
            "run 'podium flags' to list every flag submit-model accepts",
            details={"flag": flag, "suggestion": suggestion},
        )


class HubError(PodiumError, OSError):
    """The repository or revision cannot be resolved or read."""

    code = Code.REPO_NOT_FOUND


class PlanError(PodiumError, ValueError):
    """No plan can be made (unknown target, ...)."""

    code = Code.TARGET_UNKNOWN


class EngineError(PodiumError, RuntimeError):
    """The vLLM server could not be started, or died."""

    code = Code.ENGINE_START_FAILED


class EvalError(PodiumError, RuntimeError):
    """The challenge, its dataset or the evaluation failed."""

    code = Code.EVAL_FAILED


@dataclass
class Findings:
    """An ordered, append-only collection of findings, errors first when listed."""

    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.items.append(finding)

    def extend(self, findings: list[Finding]) -> None:
        self.items.extend(findings)

    @property
    def ok(self) -> bool:
        return not has_errors(self.items)

    def sorted(self) -> list[Finding]:
        order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
        return sorted(self.items, key=lambda f: order[f.severity])

    def codes(self) -> list[str]:
        return [str(f.code) for f in self.items]
