"""Every huggingface_hub failure becomes a :class:`~podium.errors.HubError` here, and only here.

huggingface_hub maps HTTP answers to exception classes in one function
(``hf_raise_for_status``); :func:`translate` maps those classes to Podium's codes:

================================================  ======================
huggingface_hub                                   Podium code
================================================  ======================
``GatedRepoError``, ``DisabledRepoError``,        ``REPO_ACCESS_DENIED``
other HTTP 401 / 403
``RepositoryNotFoundError``                       ``REPO_NOT_FOUND`` (the Hub answers the
                                                  same for a private repo without a token)
``RevisionNotFoundError``                         ``REVISION_NOT_FOUND``
``RemoteEntryNotFoundError`` for config.json      ``NOT_A_MODEL_REPO``
``HFValidationError``                             ``REPO_INVALID``
offline / connection / timeout / HTTP 5xx /       ``HUB_UNREACHABLE``
nothing in the cache
================================================  ======================

The token never reaches a message: texts taken from a foreign error are passed through
:func:`redact`, and the foreign error is not chained (its response holds the request
headers, Authorization included).

    >>> translate(RevisionNotFoundError("...", response=r), "org/m", "v9").message  # doctest: +SKIP
    "revision 'v9' of 'org/m' was not found on the Hugging Face Hub"
"""

from __future__ import annotations

from typing import Any

from podium.errors import Code, HubError

FILL_CACHE_HINT = (
    "on a machine with internet access run `hf download {repo} --revision {revision}` "
    "(older clients: `huggingface-cli download {repo} --revision {revision}`) and copy its "
    "Hugging Face cache (HF_HUB_CACHE, default ~/.cache/huggingface/hub) here; or pass "
    "--model-dir DIR with a folder holding the model files"
)
TOKEN_HINT = (
    "if the repository is private or gated, pass a token with read access "
    "(--hf-token or the HF_TOKEN environment variable)"
)


def redact(text: str, token: str | None) -> str:
    """``text`` with every occurrence of ``token`` masked as ``***``."""
    if token:
        text = text.replace(token, "***")
    return text


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _connection_error_types() -> tuple[type[BaseException], ...]:
    """The transport errors of whichever HTTP client this huggingface_hub uses."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    types: list[type[BaseException]] = [OfflineModeIsEnabled, ConnectionError, TimeoutError]
    for module, name in (
        ("httpx2", "TransportError"),  # huggingface_hub 2.x
        ("httpx", "TransportError"),  # huggingface_hub 1.x
        ("requests.exceptions", "ConnectionError"),  # huggingface_hub 0.x
        ("requests.exceptions", "Timeout"),
    ):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError:
            continue
        types.append(getattr(mod, name))
    return tuple(types)


def _proxy_error_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = []
    for module in ("httpx2", "httpx"):
        try:
            types.append(__import__(module, fromlist=["ProxyError"]).ProxyError)
        except (ImportError, AttributeError):
            continue
    return tuple(types)


def hub_failure_types() -> tuple[type[BaseException], ...]:
    """What a huggingface_hub call raises when the Hub or the cache says no (for
    ``except``); programming errors (TypeError, ...) are left alone."""
    from huggingface_hub import errors as hf

    return (
        hf.HfHubHTTPError,
        hf.HFValidationError,
        hf.EntryNotFoundError,
        OSError,
        *_connection_error_types(),
        *_proxy_error_types(),
    )


def is_unreachable(exc: BaseException) -> bool:
    """True when the Hub could not be asked or did not answer (offline, network down,
    timeout, 5xx): the only failures after which the local cache may be used. A proxy
    error is a configuration fault, not an unreachable Hub (huggingface_hub's own rule)."""
    if isinstance(exc, _proxy_error_types()):
        return False
    if isinstance(exc, _connection_error_types()):
        return True
    status = _status(exc)
    return status is not None and status >= 500


def translate(
    exc: BaseException,
    repo: str,
    revision: str,
    *,
    token: str | None = None,
    filename: str | None = None,
) -> HubError:
    """The :class:`HubError` that says, in the participant's terms, why ``exc`` happened.

    Raise it ``from None``: the original error's response carries the request headers.
    """
    from huggingface_hub import errors as hf

    where = f"'{repo}' (revision '{revision}')"
    details: dict[str, Any] = {
        "repo": repo,
        "revision": revision,
        "cause": type(exc).__name__,
    }
    status = _status(exc)
    if status is not None:
        details["status"] = status

    def err(code: Code, message: str, hint: str) -> HubError:
        return HubError(redact(message, token), redact(hint, token), code=code, details=details)

    fill = FILL_CACHE_HINT.format(repo=repo, revision=revision)
    if isinstance(exc, hf.HFValidationError):
        return err(
            Code.REPO_INVALID,
            f"'{repo}' is not a valid Hugging Face repository id: {redact(str(exc), token)}",
            "write the repository as ORG/NAME, e.g. --hf-repo HuggingFaceTB/SmolLM2-135M-Instruct",
        )
    if isinstance(exc, hf.GatedRepoError):
        return err(
            Code.REPO_ACCESS_DENIED,
            f"repository '{repo}' is gated: this token has not been granted access",
            f"accept the model's conditions on https://huggingface.co/{repo} with the account "
            "whose token you pass (--hf-token or HF_TOKEN)",
        )
    if isinstance(exc, hf.DisabledRepoError) or (
        isinstance(exc, hf.HfHubHTTPError)
        and status in (401, 403)
        and not isinstance(exc, hf.RepositoryNotFoundError | hf.RevisionNotFoundError)
    ):
        return err(
            Code.REPO_ACCESS_DENIED,
            f"access to repository '{repo}' was refused (HTTP {status})",
            "check that the token (--hf-token or HF_TOKEN) is valid and has read access",
        )
    if isinstance(exc, hf.RepositoryNotFoundError):
        private = " (or it is private and no token with access was given)" if status == 401 else ""
        return err(
            Code.REPO_NOT_FOUND,
            f"repository '{repo}' was not found on the Hugging Face Hub{private}",
            f"check the spelling of --hf-repo (ORG/NAME); {TOKEN_HINT}",
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return err(
            Code.REVISION_NOT_FOUND,
            f"revision '{revision}' of '{repo}' was not found on the Hugging Face Hub",
            "check --hf-repo-tag: give a branch, a tag or a commit sha of this repository",
        )
    if isinstance(exc, hf.EntryNotFoundError) and not isinstance(exc, hf.LocalEntryNotFoundError):
        name = filename or "config.json"
        return err(
            Code.NOT_A_MODEL_REPO,
            f"{where} has no {name}: it is not a Transformers model repository",
            "submit a repository saved with save_pretrained (config.json, weights, tokenizer)",
        )
    if isinstance(exc, hf.LocalEntryNotFoundError | hf.OfflineModeIsEnabled) or is_unreachable(exc):
        why = (
            "the Hub is unreachable"
            if not isinstance(exc, hf.LocalEntryNotFoundError | hf.OfflineModeIsEnabled)
            else "offline mode is on"
        )
        if status is not None:
            why = f"the Hub answered HTTP {status}"
        return err(
            Code.HUB_UNREACHABLE,
            f"cannot resolve {where}: {why} and it is not in the local Hugging Face cache",
            fill,
        )
    if isinstance(exc, hf.HfHubHTTPError):
        return err(
            Code.HUB_UNREACHABLE,
            f"the Hugging Face Hub failed while reading {where} (HTTP {status})",
            "retry later; if it persists, check https://status.huggingface.co",
        )
    return err(
        Code.HUB_UNREACHABLE,
        f"cannot read {where}: {type(exc).__name__}: {redact(str(exc), token)}",
        fill,
    )


def not_cached(repo: str, revision: str, *, cached: list[str], reason: str) -> HubError:
    """HUB_UNREACHABLE for a repo or revision that the offline cache does not hold."""
    have = f" (cached revisions: {', '.join(cached)})" if cached else ""
    return HubError(
        f"cannot resolve '{repo}' (revision '{revision}'): {reason}{have}",
        FILL_CACHE_HINT.format(repo=repo, revision=revision),
        code=Code.HUB_UNREACHABLE,
        details={"repo": repo, "revision": revision, "cached_revisions": cached},
    )


def not_a_model_repo(repo: str, revision: str, commit: str | None) -> HubError:
    at = f" at {commit[:12]}" if commit else ""
    return HubError(
        f"'{repo}' (revision '{revision}'{at}) has no config.json: it is not a Transformers "
        "model repository",
        "submit a repository saved with save_pretrained (config.json, weights, tokenizer)",
        code=Code.NOT_A_MODEL_REPO,
        details={"repo": repo, "revision": revision, "commit": commit},
    )
