"""Errors over HTTP: the body is always ``{"ok": false, "error": {code, message, hint}}``
(plus ``findings`` for a rejected submission), and :func:`status_for` is the ONE place
a code becomes an HTTP status."""

from __future__ import annotations

from typing import Any

from podium.errors import Code, PodiumError

# Codes about the request rather than the model (short names for the routes).
NOT_AUTHENTICATED = Code.NOT_AUTHENTICATED
FORBIDDEN = Code.FORBIDDEN
NOT_FOUND = Code.NOT_FOUND
CHALLENGE_NOT_FOUND = Code.CHALLENGE_NOT_FOUND
SUBMISSION_NOT_FOUND = Code.SUBMISSION_NOT_FOUND
PAYLOAD_INVALID = Code.PAYLOAD_INVALID

_STATUS: dict[str, int] = {
    NOT_AUTHENTICATED: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    CHALLENGE_NOT_FOUND: 404,
    SUBMISSION_NOT_FOUND: 404,
    PAYLOAD_INVALID: 422,
    Code.QUOTA_EXCEEDED: 429,
    Code.HUB_UNREACHABLE: 503,
    # the server's own configuration, not the participant's submission
    Code.SETTINGS_INVALID: 500,
    Code.TARGET_UNKNOWN: 500,
    Code.CHALLENGE_INVALID: 500,
    Code.DATASET_INVALID: 500,
    Code.SCORER_UNKNOWN: 500,
    Code.ENGINE_NOT_INSTALLED: 500,
    Code.ENGINE_START_FAILED: 500,
    Code.ENGINE_TIMEOUT: 500,
    Code.ENGINE_CRASHED: 500,
    Code.NEURON_COMPILE_FAILED: 500,
    Code.EVAL_FAILED: 500,
    Code.WORKER_LOST: 500,
}


def status_for(code: str) -> int:
    """The HTTP status of an error code. Every other code is about what the participant
    sent (flags, repository, model): 422."""
    return _STATUS.get(str(code), 422)


class ApiError(Exception):
    """An error the API answers with; ``status`` comes from :func:`status_for`."""

    def __init__(self, code: str, message: str, hint: str = "", **extra: Any) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.hint = hint
        self.extra = extra

    @property
    def status(self) -> int:
        return status_for(self.code)

    @classmethod
    def from_podium(cls, exc: PodiumError, **extra: Any) -> ApiError:
        return cls(str(exc.code), exc.message, exc.hint, **extra)

    def body(self) -> dict[str, Any]:
        return {
            "ok": False,
            "error": {"code": self.code, "message": self.message, "hint": self.hint},
            **self.extra,
        }


def not_found(what: str, key: object) -> ApiError:
    code = {"challenge": CHALLENGE_NOT_FOUND, "submission": SUBMISSION_NOT_FOUND}.get(what, NOT_FOUND)
    return ApiError(code, f"no {what} {key}", f"check the {what} and that you may see it")
