"""Resolve a repository + revision to a pinned commit and a local folder of its small files.

Online (the Hub answers): ``HfApi.model_info`` gives the commit sha the revision points
at now; ``snapshot_download`` then fetches, at that exact commit, only the files the
preflight reads (config, generation config, tokenizer files, safetensors index), never
the weights. Safetensors headers are read remotely by :mod:`podium.hub.facts`.

Offline: when ``HF_HUB_OFFLINE`` is set (read once, by huggingface_hub at import) or when
the Hub cannot be reached (connection error, timeout, HTTP 5xx), the revision is
resolved from the local Hub cache. A not-found, gated or unauthorised answer is never
papered over with the cache: the Hub said no.

A short commit sha (7 to 39 hex characters) resolves offline when it is the prefix of
exactly one cached snapshot of the repository; online the Hub resolves it.

    >>> resolve("HuggingFaceTB/SmolLM2-135M-Instruct", "main")  # doctest: +SKIP
    ModelSnapshot(repo='HuggingFaceTB/SmolLM2-135M-Instruct', revision='main',
                  commit='12fd25f7...', path=PosixPath('.../snapshots/12fd25f7...'), source='hub')
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from podium.errors import Code, HubError
from podium.hub import hub_errors
from podium.hub.types import ModelSnapshot

# What the preflight reads. Weights are never downloaded here.
SMALL_FILES = [
    "config.json",
    "generation_config.json",
    "*.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "chat_template.json",
]

_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")


def is_offline() -> bool:
    """huggingface_hub's offline switch (HF_HUB_OFFLINE), as it read it at import."""
    from huggingface_hub import constants

    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if check else constants.HF_HUB_OFFLINE)


def _cache_root(cache_dir: str | Path | None) -> Path:
    from huggingface_hub import constants

    return Path(cache_dir if cache_dir is not None else constants.HF_HUB_CACHE).expanduser()


def _storage(cache_dir: str | Path | None, repo_id: str) -> Path:
    return _cache_root(cache_dir) / "--".join(["models", *repo_id.split("/")])


def cached_revisions(repo_id: str, cache_dir: str | Path | None = None) -> list[str]:
    """Branches and tags (``refs/``) cached for ``repo_id``, then short snapshot shas."""
    storage = _storage(cache_dir, repo_id)
    refs = storage / "refs"
    names = (
        sorted(p.relative_to(refs).as_posix() for p in refs.rglob("*") if p.is_file())
        if refs.is_dir()
        else []
    )
    snaps = storage / "snapshots"
    if snaps.is_dir():
        names += sorted(p.name[:12] for p in snaps.iterdir() if p.is_dir())
    return names


def _validate(repo_id: str, revision: str, token: str | None) -> None:
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except Exception as exc:  # HFValidationError
        raise hub_errors.translate(exc, repo_id, revision, token=token) from None
    if "/" not in repo_id:
        raise HubError(
            f"'{repo_id}' is not a full Hugging Face repository id",
            "write the repository as ORG/NAME, e.g. --hf-repo HuggingFaceTB/SmolLM2-135M-Instruct",
            code=Code.REPO_INVALID,
            details={"repo": repo_id, "revision": revision},
        )


def _expand_short_sha(repo_id: str, revision: str, cache_dir: str | Path | None) -> str:
    storage = _storage(cache_dir, repo_id)
    if not _SHORT_SHA.match(revision) or (storage / "refs" / revision).is_file():
        return revision
    snaps = storage / "snapshots"
    matches = (
        sorted(p.name for p in snaps.iterdir() if p.name.startswith(revision))
        if snaps.is_dir()
        else []
    )
    if len(matches) > 1:
        raise HubError(
            f"short commit '{revision}' of '{repo_id}' matches {len(matches)} cached snapshots",
            "give more characters of the commit sha, or all 40",
            code=Code.REVISION_NOT_FOUND,
            details={"repo": repo_id, "revision": revision, "matches": matches},
        )
    return matches[0] if matches else revision


def _from_cache(
    repo_id: str,
    revision: str,
    cache_dir: str | Path | None,
    *,
    reason: str,
    token: str | None,
) -> ModelSnapshot:
    # huggingface_hub's own cache lookup (refs/<revision> -> snapshots/<sha>), without
    # importing its HTTP API: offline, `podium check` stays well under a second.
    from huggingface_hub import try_to_load_from_cache

    wanted = _expand_short_sha(repo_id, revision, cache_dir)
    try:
        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache_dir, revision=wanted)
    except hub_errors.hub_failure_types() as exc:
        raise hub_errors.translate(exc, repo_id, revision, token=token) from None
    snap_dir = _snapshot_dir(repo_id, wanted, cache_dir) if not isinstance(found, str) else None
    if isinstance(found, str):
        path = str(Path(found).parent)
    elif snap_dir is not None:  # cached, but without config.json: not a model repo
        path = str(snap_dir)
    else:
        storage = _storage(cache_dir, repo_id)
        what = "the revision is not" if storage.is_dir() else "the repository is not"
        raise hub_errors.not_cached(
            repo_id,
            revision,
            cached=cached_revisions(repo_id, cache_dir),
            reason=f"{reason} and {what} in the local Hugging Face cache ({_cache_root(cache_dir)})",
        ) from None
    snapshot = ModelSnapshot(repo_id, revision, Path(path).name, Path(path), "cache")
    _require_config(snapshot)
    return snapshot


def _snapshot_dir(repo_id: str, revision: str, cache_dir: str | Path | None) -> Path | None:
    """The cached snapshot folder a revision points at, if any (as huggingface_hub lays it)."""
    storage = _storage(cache_dir, repo_id)
    ref = storage / "refs" / revision
    commit = ref.read_text().strip() if ref.is_file() else revision
    snap = storage / "snapshots" / commit
    return snap if _FULL_SHA.match(commit) and snap.is_dir() else None


def _require_config(snapshot: ModelSnapshot) -> None:
    if not (snapshot.path / "config.json").is_file():
        raise hub_errors.not_a_model_repo(snapshot.repo, snapshot.revision, snapshot.commit)


def _remember_ref(repo_id: str, revision: str, commit: str, cache_dir: str | Path | None) -> None:
    """Point ``refs/<revision>`` at ``commit``, as a download by branch name would have,
    so that the same revision resolves offline later. Best effort."""
    if revision == commit or _SHORT_SHA.match(revision) or _FULL_SHA.match(revision):
        return
    ref = _storage(cache_dir, repo_id) / "refs" / revision
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        if ref.is_file() and ref.read_text().strip() == commit:
            return
        tmp = ref.with_name(ref.name + f".{os.getpid()}.tmp")
        tmp.write_text(commit)
        os.replace(tmp, ref)
    except OSError:
        pass


def resolve(
    repo_id: str,
    revision: str = "main",
    *,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    endpoint: str | None = None,
) -> ModelSnapshot:
    """Pin ``repo_id`` at ``revision`` to a commit and fetch its small files.

    ``token`` comes from --hf-token or HF_TOKEN and never appears in an error.
    ``endpoint`` overrides HF_ENDPOINT (a mirror, or a test server).
    Raises :class:`~podium.errors.HubError` with REPO_INVALID, REPO_NOT_FOUND,
    REVISION_NOT_FOUND, REPO_ACCESS_DENIED, HUB_UNREACHABLE or NOT_A_MODEL_REPO.
    """
    revision = revision or "main"
    _validate(repo_id, revision, token)
    if is_offline():
        return _from_cache(
            repo_id, revision, cache_dir, reason="offline mode is on (HF_HUB_OFFLINE)", token=token
        )

    from huggingface_hub import HfApi, snapshot_download

    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, revision=revision, token=token)
    except hub_errors.hub_failure_types() as exc:
        if hub_errors.is_unreachable(exc):
            why = f"the Hugging Face Hub is unreachable ({type(exc).__name__})"
            return _from_cache(repo_id, revision, cache_dir, reason=why, token=token)
        raise hub_errors.translate(exc, repo_id, revision, token=token) from None

    commit = info.sha
    if commit is None:  # never for a real Hub answer
        raise hub_errors.translate(
            RuntimeError("the Hub returned no commit sha"), repo_id, revision, token=token
        )
    files = {s.rfilename for s in (info.siblings or [])}
    if info.siblings is not None and "config.json" not in files:
        raise hub_errors.not_a_model_repo(repo_id, revision, commit)
    try:
        path = snapshot_download(
            repo_id,
            revision=commit,
            cache_dir=cache_dir,
            token=token,
            allow_patterns=SMALL_FILES,
            endpoint=endpoint,
        )
    except hub_errors.hub_failure_types() as exc:
        raise hub_errors.translate(exc, repo_id, revision, token=token) from None
    _remember_ref(repo_id, revision, commit, cache_dir)
    snapshot = ModelSnapshot(repo_id, revision, commit, Path(path), "hub")
    _require_config(snapshot)
    return snapshot


def from_local_dir(path: str | Path) -> ModelSnapshot:
    """A ``--model-dir`` folder as a snapshot. A folder inside a Hub cache
    (``.../snapshots/<sha>``) keeps its commit sha."""
    p = Path(path).expanduser()
    if not p.is_dir():
        what = "is not a directory" if p.exists() else "does not exist"
        raise HubError(
            f"model directory '{path}' {what}",
            "pass --model-dir a folder holding config.json, the weights and the tokenizer files",
            code=Code.MODEL_DIR_NOT_FOUND,
            details={"path": str(path)},
        )
    p = p.absolute()
    commit = p.name if p.parent.name == "snapshots" and _FULL_SHA.match(p.name) else None
    snapshot = ModelSnapshot(str(p), commit or "local", commit, p, "local")
    if not (p / "config.json").is_file():
        raise HubError(
            f"model directory '{path}' has no config.json: it is not a Transformers model folder",
            "point --model-dir at a folder saved with save_pretrained (config.json, weights, tokenizer)",
            code=Code.NOT_A_MODEL_REPO,
            details={"path": str(path)},
        )
    return snapshot
