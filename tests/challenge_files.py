"""The challenge folder the platform and CLI tests (and benchmarks/server_load.py) add:
``<root>/<name>/challenge.yaml`` and a one-line ``dataset.jsonl``, scored by exact match.

Only what a caller varies is a parameter; the rest is the same everywhere. Imported as
``from challenge_files import write_challenge``: tests/ is on ``sys.path`` (pytest
prepends the folder of tests/conftest.py, which has no ``__init__.py``); benchmarks
insert it themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DATASET_LINE = '{"id": "1", "prompt": "2+2?", "answer": "4"}\n'
# What the platform tests' engines would run with (never started: nothing here runs vLLM).
SMALL_ENGINE = {"vllm.max-model-len": 512, "vllm.max-num-seqs": 4}


def challenge_dict(
    name: str = "t1",
    *,
    title: str = "Test challenge",
    target: str = "cpu",
    defaults: Mapping[str, Any] | None = SMALL_ENGINE,
    maximum: Mapping[str, Any] | None = None,
    extra_keys: Mapping[str, str] | None = None,
    quotas: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The challenge as a dict. ``extra_keys``: name -> type ("string", "number", ...);
    ``quotas``: as in the YAML, with ``window: rolling_24h`` unless given (None: the
    challenge's own defaults, a daily window)."""
    doc: dict[str, Any] = {"name": name, "title": title, "target": target}
    if defaults:
        doc["defaults"] = dict(defaults)
    if maximum:
        doc["maximum"] = dict(maximum)
    if extra_keys:
        doc["extra_keys"] = [{"name": key, "type": kind} for key, kind in extra_keys.items()]
    doc["evaluation"] = {
        "dataset": "dataset.jsonl",
        "scorers": [{"name": "exact_match"}],
        "primary_metric": "exact_match",
    }
    if quotas is not None:
        doc["quotas"] = dict(quotas)
        doc["quotas"].setdefault("window", "rolling_24h")
    return doc


def write_challenge(root: Path, name: str = "t1", **fields: Any) -> Path:
    """Write ``root/name/challenge.yaml`` (over any previous one) and its dataset; the
    YAML's path. ``fields``: the keyword arguments of :func:`challenge_dict`."""
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.jsonl").write_text(DATASET_LINE)
    path = folder / "challenge.yaml"
    path.write_text(yaml.safe_dump(challenge_dict(name, **fields), sort_keys=False))
    return path
