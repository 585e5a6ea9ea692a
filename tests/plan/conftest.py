"""Tiny models on disk for the planner's tests, built once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podium.hub.facts import read_facts
from podium.hub.resolve import from_local_dir
from podium.hub.types import ModelFacts, ModelSnapshot
from podium.localdata.tiny_models import build_tiny_model

Model = tuple[ModelSnapshot, ModelFacts]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Model]:
    """``tiny("llama", chat_template=False)`` -> (snapshot, facts) of a built model."""
    root = tmp_path_factory.mktemp("tiny-models")
    made: dict[str, Model] = {}

    def make(arch: str = "qwen3", **options: object) -> Model:
        key = arch + repr(sorted(options.items()))
        if key not in made:
            out = build_tiny_model(root / f"m{len(made)}", arch, **options)  # type: ignore[arg-type]
            snap = from_local_dir(out)
            made[key] = (snap, read_facts(snap))
        return made[key]

    return make


@pytest.fixture(scope="session")
def model_dir(tiny: Callable[..., Model]) -> Callable[..., Path]:
    def path(arch: str = "qwen3", **options: object) -> Path:
        return tiny(arch, **options)[0].path

    return path
