"""The Neuron compiled-artifact cache, as directories.

The vLLM Neuron plugin loads compiled artifacts from ``NEURON_COMPILED_ARTIFACTS`` when
the directory holds them and compiles into it otherwise. The plan names the final
directory, keyed by a hash of everything that changes the compiled graph. A cache miss
compiles into a temporary sibling that is renamed into place only once the server is
ready, so a failed or interrupted compile never leaves a directory that a later run
would load as valid (the plugin does not re-check a directory it can load).

    slot = ArtifactSlot.open("/cache/neuron/3f2a...")
    env["NEURON_COMPILED_ARTIFACTS"] = str(slot.server_dir)
    ... start, wait until ready ...
    slot.commit()      # or slot.discard() on failure

Concurrent compiles of the same key each use their own temporary directory; the first
to commit wins and the others discard theirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "NEURON_COMPILED_ARTIFACTS"
TMP_MARK = ".tmp-"


@dataclass
class ArtifactSlot:
    final_dir: Path
    server_dir: Path  # what NEURON_COMPILED_ARTIFACTS points at for this run
    hit: bool  # the final directory existed: artifacts are loaded, not compiled
    state: str = field(default="open")  # open | committed | discarded

    @classmethod
    def open(cls, final_dir: str | os.PathLike[str]) -> ArtifactSlot:
        final = Path(final_dir).expanduser().absolute()
        if final.is_dir() and any(final.iterdir()):
            return cls(final, final, hit=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        tmp.mkdir()
        return cls(final, tmp, hit=False)

    def commit(self) -> Path:
        """Move the compiled artifacts into place (atomic rename); returns the final path."""
        if self.state != "open" or self.hit:
            self.state = "committed"
            return self.final_dir
        if not any(self.server_dir.iterdir()):
            # Nothing was written (the plugin did not compile): keep no empty entry that
            # a later run would take for a cache hit.
            self.discard()
            return self.final_dir
        try:
            if self.final_dir.is_dir() and not any(self.final_dir.iterdir()):
                self.final_dir.rmdir()  # an empty leftover is not a cache entry
            os.rename(self.server_dir, self.final_dir)
        except OSError:
            # Another run committed the same key first: theirs is as good as ours.
            if not self.final_dir.is_dir():
                raise
            shutil.rmtree(self.server_dir, ignore_errors=True)
        self.state = "committed"
        return self.final_dir

    def discard(self) -> None:
        """Drop this run's temporary directory (never the final one)."""
        if self.state == "open" and not self.hit:
            shutil.rmtree(self.server_dir, ignore_errors=True)
        if self.state == "open":
            self.state = "discarded"


def remove_stale(parent: str | os.PathLike[str], older_than_s: float = 24 * 3600) -> list[Path]:
    """Remove temporary directories left by runs that died without cleaning up."""
    removed: list[Path] = []
    now = time.time()
    root = Path(parent)
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        if entry.name.startswith(".") and TMP_MARK in entry.name and entry.is_dir():
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > older_than_s:
                    shutil.rmtree(entry)
                    removed.append(entry)
    return removed
