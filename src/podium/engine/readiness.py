"""Readiness of an OpenAI-compatible vLLM server, from its endpoints.

Ready means: ``GET /health`` answers 200, then ``GET /v1/models`` lists the served
model name. Until the engine is up the port refuses connections (or answers 503); both
mean "not yet". Standard library only, so the check costs no import.
"""

from __future__ import annotations

import enum
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass


class Outcome(enum.Enum):
    READY = "ready"
    EXITED = "exited"  # the process ended before it was ready
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Readiness:
    outcome: Outcome
    seconds: float
    last_status: str  # what the last poll saw, for messages: "connection refused", "503"


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local URL
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def served_models(base_url: str, timeout: float = 5.0) -> list[str]:
    """The model ids ``GET /v1/models`` lists."""
    status, body = _get(f"{base_url}/v1/models", timeout)
    if status != 200:
        return []
    try:
        return [str(m.get("id")) for m in json.loads(body).get("data", [])]
    except (ValueError, AttributeError):
        return []


def poll_once(base_url: str, served_name: str, timeout: float = 2.0) -> tuple[bool, str]:
    """One readiness check: (ready, what was seen)."""
    try:
        status, _ = _get(f"{base_url}/health", timeout)
        if status != 200:
            return False, f"/health answered {status}"
        names = served_models(base_url, timeout)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"no answer ({reason})"
    if served_name not in names:
        return False, f"/v1/models lists {names}, not {served_name!r}"
    return True, "ready"


def wait_ready(
    base_url: str,
    served_name: str,
    is_running: Callable[[], bool],
    timeout: float,
    interval: float = 0.5,
) -> Readiness:
    """Poll until ready, until ``is_running()`` turns false, or for ``timeout`` s."""
    start = time.monotonic()
    last = "not polled"
    while True:
        if not is_running():
            return Readiness(Outcome.EXITED, time.monotonic() - start, last)
        ready, last = poll_once(base_url, served_name, timeout=min(2.0, max(0.1, timeout)))
        elapsed = time.monotonic() - start
        if ready:
            return Readiness(Outcome.READY, elapsed, last)
        if elapsed >= timeout:
            return Readiness(Outcome.TIMEOUT, elapsed, last)
        time.sleep(min(interval, max(0.0, timeout - elapsed)))
