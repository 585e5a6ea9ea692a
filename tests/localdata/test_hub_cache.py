"""The local Hub cache is the one huggingface_hub reads: branch, tag, full sha."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from huggingface_hub import snapshot_download, try_to_load_from_cache

from podium.localdata.hub_cache import commit_sha, publish, repo_folder

REPO = "podium-test/tiny-qwen3"


def test_layout(hub_cache) -> None:
    repo = repo_folder(hub_cache.path, REPO)
    assert repo.name == "models--podium-test--tiny-qwen3"
    assert (repo / "refs" / "main").read_text() == hub_cache.commits["qwen3@main"]
    assert (repo / "refs" / "v1").read_text() == hub_cache.commits["qwen3@v1"]
    link = repo / "snapshots" / hub_cache.commits["qwen3@v1"] / "model.safetensors"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert link.resolve().parent == (repo / "blobs").resolve()
    assert len(link.resolve().name) == 64  # LFS files are stored under their sha256
    cfg = repo / "snapshots" / hub_cache.commits["qwen3@v1"] / "config.json"
    assert len(cfg.resolve().name) == 40  # git blobs under their git sha1


@pytest.mark.parametrize("label,revision", [("v1", "v1"), ("main", "main"), ("v1", None)])
def test_snapshot_download_resolves(hub_cache, label: str, revision: str | None) -> None:
    commit = hub_cache.commits[f"qwen3@{label}"]
    rev = revision or commit  # None: ask by full sha
    path = snapshot_download(REPO, revision=rev, cache_dir=hub_cache.path, local_files_only=True)
    assert Path(path).name == commit
    assert (Path(path) / "config.json").is_file()
    found = try_to_load_from_cache(REPO, "config.json", cache_dir=hub_cache.path, revision=rev)
    assert isinstance(found, str) and Path(found).parent.name == commit


def test_tag_and_branch_point_to_different_commits(hub_cache) -> None:
    assert hub_cache.commits["qwen3@v1"] != hub_cache.commits["qwen3@main"]
    snaps = repo_folder(hub_cache.path, REPO) / "snapshots"
    assert sorted(p.name for p in snaps.iterdir()) == sorted(
        [hub_cache.commits["qwen3@v1"], hub_cache.commits["qwen3@main"]]
    )


def test_commit_is_deterministic_and_content_sensitive(tmp_path: Path, tiny_models) -> None:
    a = publish(tiny_models["llama"], "o/a", tmp_path / "c1")
    b = publish(tiny_models["llama"], "o/b", tmp_path / "c2")
    assert a == b and len(a) == 40 and int(a, 16) >= 0
    assert commit_sha([("x", b"1")]) != commit_sha([("x", b"2")])
    assert commit_sha([("x", b"1")]) != commit_sha([("y", b"1")])


def test_explicit_commit_and_bad_commit(tmp_path: Path, tiny_models) -> None:
    sha = "ab" * 20
    assert (
        publish(tiny_models["llama"], "o/m", tmp_path, commit=sha, revisions=("main", sha)) == sha
    )
    assert not (repo_folder(tmp_path, "o/m") / "refs" / sha).exists()
    with pytest.raises(ValueError):
        publish(tiny_models["llama"], "o/m", tmp_path, commit="abc")
