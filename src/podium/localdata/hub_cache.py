"""Publish a model folder into a local Hugging Face Hub cache, laid out as the Hub's.

No machine here reaches the Hub, but ``huggingface_hub`` resolves repositories from its
cache (``HF_HUB_OFFLINE=1`` or ``local_files_only=True``). :func:`publish` writes what a
download would have left there::

    CACHE/models--ORG--NAME/
        blobs/<sha256 for LFS files, git blob sha1 for the others>
        snapshots/<commit>/<path>       relative symlinks to ../../blobs/<hash>
        refs/<branch or tag>            the commit sha, no newline
        trees/<commit>.json             the tree listing (huggingface_hub >= 2 reads it
                                        to tell a complete cached snapshot)

    >>> publish("/tmp/tiny-qwen3", "podium-demo/tiny-qwen3", "/tmp/hf-cache",
    ...         revisions=("main", "v1"))                      # doctest: +SKIP
    '3f9c...'  (40 hex)

Publishing another folder to the same repo under ``main`` moves ``main`` to a second
snapshot and leaves a tag that pointed at the first one where it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
# Files the Hub stores through LFS (their blob is named by sha256): weights and other
# binaries. Everything else is a plain git blob (named by its git sha1).
_LFS_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".pkl",
    ".gguf",
    ".h5",
    ".msgpack",
    ".onnx",
    ".model",
    ".npz",
    ".npy",
    ".zip",
    ".tar",
    ".gz",
)
_LFS_MIN_SIZE = 10 * 1024 * 1024


def repo_folder(cache_dir: str | Path, repo_id: str, repo_type: str = "model") -> Path:
    """``CACHE/models--ORG--NAME``, as huggingface_hub's ``repo_folder_name`` spells it."""
    return Path(cache_dir) / "--".join([f"{repo_type}s", *repo_id.split("/")])


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _is_lfs(name: str, size: int) -> bool:
    return name.endswith(_LFS_SUFFIXES) or size >= _LFS_MIN_SIZE


def _files(model_dir: Path) -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(model_dir.rglob("*")):
        rel = path.relative_to(model_dir).as_posix()
        if path.is_file() and not rel.startswith(".") and "/." not in rel:
            out.append((rel, path.read_bytes()))
    return out


def commit_sha(files: Iterable[tuple[str, bytes]]) -> str:
    """A deterministic 40-hex commit id over the file names and contents."""
    h = hashlib.sha1()
    for name, data in sorted(files):
        h.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).hexdigest().encode() + b"\n")
    return h.hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def publish(
    model_dir: str | Path,
    repo_id: str,
    cache_dir: str | Path,
    *,
    revisions: Iterable[str] = ("main",),
    commit: str | None = None,
) -> str:
    """Lay ``model_dir`` into ``cache_dir`` as snapshot ``commit`` of ``repo_id``.

    Every name in ``revisions`` (branches, tags, ``refs/pr/1``) is pointed at the commit;
    a 40-hex revision is the commit itself and gets no ref. Returns the commit sha.
    """
    src = Path(model_dir)
    if not (src.is_dir() and "/" in repo_id):
        raise ValueError(f"cannot publish {src} as {repo_id!r}: need a folder and an ORG/NAME id")
    files = _files(src)
    commit = commit or commit_sha(files)
    if not _COMMIT.match(commit):
        raise ValueError(f"commit must be 40 lowercase hex characters, got {commit!r}")

    repo = repo_folder(cache_dir, repo_id)
    blobs, snapshot = repo / "blobs", repo / "snapshots" / commit
    blobs.mkdir(parents=True, exist_ok=True)
    tree: dict[str, dict[str, object]] = {}
    for name, data in files:
        blob_id = _git_blob_sha1(data)
        entry: dict[str, object] = {"size": len(data), "blob_id": blob_id}
        if _is_lfs(name, len(data)):
            blob_name = hashlib.sha256(data).hexdigest()
            entry.update(lfs_sha256=blob_name, lfs_size=len(data))
        else:
            blob_name = blob_id
        tree[name] = entry
        blob = blobs / blob_name
        if not blob.exists():
            blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))

    for rev in revisions:
        if rev != commit and not _COMMIT.match(rev):
            _atomic_write(repo / "refs" / rev, commit)
    _atomic_write(
        repo / "trees" / f"{commit}.json",
        json.dumps({"format_version": 1, "files": dict(sorted(tree.items()))}, indent=1),
    )
    return commit
