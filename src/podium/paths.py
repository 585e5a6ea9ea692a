"""Where Podium keeps what it makes on a machine."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``PODIUM_CACHE_DIR``, else ``$XDG_CACHE_HOME/podium``, else ``~/.cache/podium``:
    converted demo models (``demo/``), engine capabilities (``engine-caps/``) and Neuron
    compiled artifacts (``neuron-artifacts/``)."""
    explicit = os.environ.get("PODIUM_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "podium"
