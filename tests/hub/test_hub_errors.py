"""translate(): every huggingface_hub error class to a Podium code, never leaking the token."""

from __future__ import annotations

import json
import traceback

import httpx2
import pytest
from huggingface_hub import errors as hf

from podium.errors import Code, HubError
from podium.hub.hub_errors import is_unreachable, translate

TOKEN = "hf_AnotherSecretToken0987654321"


def _response(status: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    request = httpx2.Request(
        "GET", "https://huggingface.co/api/models/o/m", headers={"authorization": f"Bearer {TOKEN}"}
    )
    return httpx2.Response(status, headers=headers or {}, request=request)


def _http(cls, status: int, message: str = "boom") -> Exception:
    return cls(f"{status} Client Error: {message} token={TOKEN}", response=_response(status))


CASES = [
    (_http(hf.RepositoryNotFoundError, 404), Code.REPO_NOT_FOUND),
    (_http(hf.GatedRepoError, 403), Code.REPO_ACCESS_DENIED),
    (_http(hf.DisabledRepoError, 403), Code.REPO_ACCESS_DENIED),
    (_http(hf.HfHubHTTPError, 401), Code.REPO_ACCESS_DENIED),
    (_http(hf.HfHubHTTPError, 403), Code.REPO_ACCESS_DENIED),
    (_http(hf.RevisionNotFoundError, 404), Code.REVISION_NOT_FOUND),
    (_http(hf.RemoteEntryNotFoundError, 404), Code.NOT_A_MODEL_REPO),
    (_http(hf.HfHubHTTPError, 502), Code.HUB_UNREACHABLE),
    (hf.LocalEntryNotFoundError(f"not cached {TOKEN}"), Code.HUB_UNREACHABLE),
    (hf.OfflineModeIsEnabled("offline"), Code.HUB_UNREACHABLE),
    (httpx2.ConnectError("refused"), Code.HUB_UNREACHABLE),
    (httpx2.ReadTimeout("slow"), Code.HUB_UNREACHABLE),
    (hf.HFValidationError(f"bad id {TOKEN}"), Code.REPO_INVALID),
]


@pytest.mark.parametrize("exc,code", CASES, ids=lambda c: getattr(c, "__name__", type(c).__name__))
def test_translation(exc: Exception, code: Code) -> None:
    err = translate(exc, "o/m", "v1", token=TOKEN)
    assert isinstance(err, HubError) and isinstance(err, OSError)
    assert err.code is code
    assert "o/m" in err.message and err.hint
    assert err.details["repo"] == "o/m" and err.details["revision"] == "v1"
    try:
        raise err from None
    except HubError as raised:
        tb = "".join(traceback.format_exception(raised))
    for text in (str(err), repr(err), err.message, err.hint, json.dumps(err.details), tb):
        assert TOKEN not in text


def test_revision_is_named_in_revision_errors() -> None:
    err = translate(_http(hf.RevisionNotFoundError, 404), "o/m", "v7", token=TOKEN)
    assert "'v7'" in err.message


def test_unreachable_rule() -> None:
    assert is_unreachable(httpx2.ConnectError("x"))
    assert is_unreachable(hf.OfflineModeIsEnabled("x"))
    assert is_unreachable(_http(hf.HfHubHTTPError, 503))
    assert not is_unreachable(_http(hf.RepositoryNotFoundError, 404))
    assert not is_unreachable(_http(hf.GatedRepoError, 403))
    assert not is_unreachable(_http(hf.HfHubHTTPError, 401))
    assert not is_unreachable(httpx2.ProxyError("proxy"))
