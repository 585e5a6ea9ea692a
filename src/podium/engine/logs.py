"""Reading the engine's log: its last lines, vLLM's own error line, and what to do about it.

This is the one place that interprets vLLM's output. It is used only to explain a
failure that the process already signalled (an exit code, a missed deadline), never to
decide whether the server works: readiness and liveness come from HTTP and the process.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

# "ValueError: ...", "(EngineCore pid=12) RuntimeError: ...", "torch.OutOfMemoryError: ..."
# also inside a log record: "(EngineCore pid=20) ERROR ... [core.py:1100] ValueError: ..."
_EXCEPTION = re.compile(r"(?:^|[\s\])])[A-Za-z_][\w.]*(?:Error|Exception|Exit):\s*\S")
# argparse: "api_server.py: error: argument --dtype: invalid choice: ..."
_ARGPARSE = re.compile(r"\berror: ")
# a vLLM log record at ERROR level
_LOG_ERROR = re.compile(r"\bERROR\b")
# wrappers that only point at the real cause, printed after it
_WRAPPERS = (
    "See root cause above",
    "See stack trace for root cause",
    "Engine core initialization failed",
    "Traceback (most",
)
_NOISE = ("DeprecationWarning", "warnings.warn")


def tail(path: Path, lines: int = 40, max_bytes: int = 1 << 20) -> list[str]:
    """The last ``lines`` lines of ``path`` (reading at most its last ``max_bytes``)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    return list(deque((line.rstrip() for line in text.splitlines()), maxlen=lines))


def error_line(lines: list[str]) -> str | None:
    """vLLM's own error line: the last exception line that is not a mere wrapper, else
    an argparse error, else the last ERROR log record."""
    lines = [line.strip() for line in lines if line.strip()]
    lines = [line for line in lines if not any(n in line for n in _NOISE)]
    for pattern in (_EXCEPTION, _ARGPARSE, _LOG_ERROR):
        found = [line for line in lines if pattern.search(line)]
        specific = [line for line in found if not any(w in line for w in _WRAPPERS)]
        if specific or found:
            return (specific or found)[-1]
    return None


_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"out of memory|OutOfMemory|MemoryError|Cannot allocate memory|"
            r"larger than the available KV cache|not enough KV cache|"
            r"KV cache is needed|max_num_batched_tokens .* smaller|"
            r"Available memory on node .* less than",
            re.IGNORECASE,
        ),
        "the model does not fit in memory: lower --vllm.max-model-len or "
        "--vllm.max-num-seqs (on CPU, raise VLLM_CPU_KVCACHE_SPACE if the host has room)",
    ),
    (
        re.compile(
            r"invalid choice|unrecognized arguments|expected one argument|invalid \w+ value"
        ),
        "an engine option was refused: check the --vllm.* flags against 'podium flags'",
    ),
    (
        re.compile(r"does not exist|No such file|not a valid model|Can't load|Invalid repository"),
        "the model files could not be read: check the repository and its revision",
    ),
    (
        re.compile(r"trust_remote_code|remote code", re.IGNORECASE),
        "the model needs remote code, which Podium does not run",
    ),
    (
        re.compile(r"Address already in use"),
        "the port was taken by another process: retry the submission",
    ),
    (
        re.compile(r"max_model_len|max-model-len|max_position_embeddings"),
        "the context length is not valid for this model: lower --vllm.max-model-len",
    ),
)


def hint_for(line: str | None, exit_code: int | None = None) -> str:
    """What the participant (or the operator) should do about this failure."""
    if line:
        for pattern, hint in _HINTS:
            if pattern.search(line):
                return hint
    if exit_code is not None and exit_code in (-9, 137):
        return (
            "the engine was killed (SIGKILL), most often by the kernel's out-of-memory "
            "killer: lower --vllm.max-model-len or --vllm.max-num-seqs"
        )
    return "read the engine log for the cause"
