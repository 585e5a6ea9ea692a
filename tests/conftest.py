"""Shared fixtures: an isolated Hugging Face environment for every test, and tiny models
plus a local Hub cache built once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_hf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every cache path in tmp_path, no token, offline. huggingface_hub reads its
    environment once at import, so its constants are patched too."""
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    try:
        from huggingface_hub import constants
    except ImportError:
        return home
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return home


@dataclass(frozen=True)
class HubCache:
    path: Path
    commits: dict[str, str]  # "<repo>@<label>" -> commit sha


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from podium.localdata.tiny_models import ARCHS, build_tiny_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {arch: build_tiny_model(root / arch, arch) for arch in ARCHS}


@pytest.fixture(scope="session")
def hub_cache(tmp_path_factory: pytest.TempPathFactory, tiny_models: dict[str, Path]) -> HubCache:
    """podium-test/tiny-qwen3: tag v1 -> first commit, main -> second commit;
    podium-test/tiny-llama: main; podium-test/no-config: a repo without config.json."""
    from podium.localdata.hub_cache import publish
    from podium.localdata.tiny_models import build_tiny_model

    root = tmp_path_factory.mktemp("hub-cache")
    cache = root / "hub"
    v2 = build_tiny_model(root / "src" / "qwen3-v2", "qwen3", seed=1)
    bare = root / "src" / "no-config"
    bare.mkdir(parents=True)
    (bare / "README.md").write_text("# not a model\n")
    commits = {
        "qwen3@v1": publish(
            tiny_models["qwen3"], "podium-test/tiny-qwen3", cache, revisions=("main", "v1")
        ),
        "qwen3@main": publish(v2, "podium-test/tiny-qwen3", cache, revisions=("main",)),
        "llama@main": publish(tiny_models["llama"], "podium-test/tiny-llama", cache),
        "no-config@main": publish(bare, "podium-test/no-config", cache),
    }
    return HubCache(cache, commits)


@pytest.fixture(scope="session")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo models (SmolLM2 and the tiny random Qwen3) published into a Hub cache of
    the session's own, in a subprocess (the conversion itself is cached in
    ~/.cache/podium/demo across runs). For the tests that run the real engine."""
    import subprocess
    import sys

    cache = tmp_path_factory.mktemp("demo-hub") / "hub"
    code = f"from podium.localdata.demo_models import prepare; prepare(cache_dir={str(cache)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=900)
    return cache
