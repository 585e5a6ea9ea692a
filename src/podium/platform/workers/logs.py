"""Submission logs on disk: ``DATA_DIR/logs/<submission id>/full.log`` (organisers) and
``public.log`` (the participant: everything except hidden-split prompts, outputs and
answers). Both are append-only, redacted before writing, read by byte offset."""

from __future__ import annotations

import threading
from pathlib import Path

from podium.platform.security import redact

MAX_READ = 64 * 1024
_lock = threading.Lock()


def log_dir(data_dir: Path, submission_id: int) -> Path:
    return Path(data_dir) / "logs" / str(submission_id)


def append(data_dir: Path, submission_id: int, text: str, *, private: bool = False) -> None:
    """Append ``text`` to the organisers' log, and unless ``private`` to the participant's."""
    if not text:
        return
    data = redact(text).encode("utf-8")
    folder = log_dir(data_dir, submission_id)
    with _lock:
        folder.mkdir(parents=True, exist_ok=True)
        names = ("full.log",) if private else ("full.log", "public.log")
        for name in names:
            with (folder / name).open("ab") as fh:
                fh.write(data)


def read(data_dir: Path, submission_id: int, *, full: bool, offset: int) -> tuple[str, int, int]:
    """``(text, next_offset, size)`` from byte ``offset``; never cuts a UTF-8 character."""
    path = log_dir(data_dir, submission_id) / ("full.log" if full else "public.log")
    try:
        size = path.stat().st_size
    except OSError:
        return "", max(0, offset), 0
    offset = max(0, min(offset, size))
    with path.open("rb") as fh:
        fh.seek(offset)
        chunk = fh.read(MAX_READ)
    for cut in range(4):  # a character cut by the read limit: leave it for the next read
        try:
            text = chunk[: len(chunk) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return text, offset + len(chunk) - cut, size
    text = chunk.decode("utf-8", errors="replace")
    return text, offset + len(chunk), size
