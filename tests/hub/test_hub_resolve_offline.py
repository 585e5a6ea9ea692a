"""Offline resolution from the local Hub cache (HF_HUB_OFFLINE=1 by the autouse fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.errors import Code, HubError
from podium.hub.resolve import from_local_dir, is_offline, resolve

QWEN = "podium-test/tiny-qwen3"


def test_offline_is_on_in_tests() -> None:
    assert is_offline()


def test_branch_and_tag_resolve_to_different_commits(hub_cache) -> None:
    main = resolve(QWEN, "main", cache_dir=hub_cache.path)
    v1 = resolve(QWEN, "v1", cache_dir=hub_cache.path)
    assert main.commit == hub_cache.commits["qwen3@main"]
    assert v1.commit == hub_cache.commits["qwen3@v1"]
    assert main.commit != v1.commit
    assert (main.source, main.revision, main.repo) == ("cache", "main", QWEN)
    assert main.path.name == main.commit and (main.path / "config.json").is_file()


def test_default_revision_is_main(hub_cache) -> None:
    assert resolve(QWEN, cache_dir=hub_cache.path).commit == hub_cache.commits["qwen3@main"]


def test_full_sha(hub_cache) -> None:
    sha = hub_cache.commits["qwen3@v1"]
    snap = resolve(QWEN, sha, cache_dir=hub_cache.path)
    assert snap.commit == sha and snap.revision == sha


def test_short_sha_resolves_to_the_unique_cached_snapshot(hub_cache) -> None:
    sha = hub_cache.commits["qwen3@v1"]
    snap = resolve(QWEN, sha[:7], cache_dir=hub_cache.path)
    assert snap.commit == sha and snap.revision == sha[:7]


def test_short_sha_not_cached_is_unreachable(hub_cache) -> None:
    prefix = next(
        p
        for p in ("0000000", "1111111", "fffffff")
        if not any(c.startswith(p) for c in hub_cache.commits.values())
    )
    with pytest.raises(HubError) as info:
        resolve(QWEN, prefix, cache_dir=hub_cache.path)
    assert info.value.code is Code.HUB_UNREACHABLE


def test_ambiguous_short_sha(tmp_path: Path, tiny_models) -> None:
    from podium.localdata.hub_cache import publish

    publish(tiny_models["llama"], "o/m", tmp_path, commit="abcdef0" + "1" * 33)
    publish(tiny_models["qwen3"], "o/m", tmp_path, commit="abcdef0" + "2" * 33)
    with pytest.raises(HubError) as info:
        resolve("o/m", "abcdef0", cache_dir=tmp_path)
    assert info.value.code is Code.REVISION_NOT_FOUND and "2 cached" in info.value.message


def test_repo_not_in_cache(hub_cache) -> None:
    with pytest.raises(HubError) as info:
        resolve("podium-test/does-not-exist", "main", cache_dir=hub_cache.path)
    err = info.value
    assert err.code is Code.HUB_UNREACHABLE
    assert "podium-test/does-not-exist" in err.message and "repository is not" in err.message
    assert "hf download podium-test/does-not-exist" in err.hint and "--model-dir" in err.hint


def test_revision_not_in_cache_lists_what_is(hub_cache) -> None:
    with pytest.raises(HubError) as info:
        resolve(QWEN, "v9", cache_dir=hub_cache.path)
    err = info.value
    assert err.code is Code.HUB_UNREACHABLE
    assert "'v9'" in err.message and "revision is not" in err.message
    assert "main" in err.details["cached_revisions"] and "v1" in err.details["cached_revisions"]


def test_repo_without_config_json(hub_cache) -> None:
    with pytest.raises(HubError) as info:
        resolve("podium-test/no-config", "main", cache_dir=hub_cache.path)
    assert info.value.code is Code.NOT_A_MODEL_REPO
    assert "podium-test/no-config" in info.value.message


@pytest.mark.parametrize("bad", ["not a repo", "a/b/c", "-bad-/x"])
def test_invalid_repo_id(bad: str, hub_cache) -> None:
    with pytest.raises(HubError) as info:
        resolve(bad, cache_dir=hub_cache.path)
    assert info.value.code is Code.REPO_INVALID


def test_default_cache_comes_from_hf_hub_cache(hub_cache, monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache.path))
    assert resolve(QWEN, "v1").commit == hub_cache.commits["qwen3@v1"]


def test_from_local_dir(tiny_models, tmp_path: Path) -> None:
    snap = from_local_dir(tiny_models["llama"])
    assert (snap.source, snap.commit, snap.path) == ("local", None, tiny_models["llama"])
    with pytest.raises(HubError) as info:
        from_local_dir(tmp_path / "missing")
    assert info.value.code is Code.MODEL_DIR_NOT_FOUND and "missing" in info.value.message
    (tmp_path / "empty").mkdir()
    with pytest.raises(HubError) as info:
        from_local_dir(tmp_path / "empty")
    assert info.value.code is Code.NOT_A_MODEL_REPO


def test_from_local_dir_inside_the_cache_keeps_the_commit(hub_cache) -> None:
    snap = resolve(QWEN, "v1", cache_dir=hub_cache.path)
    local = from_local_dir(snap.path)
    assert local.commit == hub_cache.commits["qwen3@v1"] and local.source == "local"
