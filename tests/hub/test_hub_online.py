"""The online path against a tiny local server that answers the way the Hub does
(status codes and X-Error-Code headers), reached through the real huggingface_hub client."""

from __future__ import annotations

import json
import socket
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podium.errors import Code, HubError
from podium.hub.resolve import resolve

TOKEN = "hf_SecretTokenValue1234567890abcdef"
QWEN = "podium-test/tiny-qwen3"


class FakeHub(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], dict | None]] = {}
    seen_auth: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen_auth.append(self.headers.get("authorization", ""))
        path = self.path.split("?")[0]
        status, headers, body = self.routes.get(path, (404, {"X-Error-Code": "RepoNotFound"}, None))
        data = json.dumps(body or {"error": "error"}).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", **headers}.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def hub(server_url: str, monkeypatch) -> str:
    """The fake Hub's URL, online mode on, no routes (everything answers RepoNotFound)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    FakeHub.routes, FakeHub.seen_auth = {}, []
    return server_url


def _api(repo: str, rev: str) -> str:
    return f"/api/models/{repo}/revision/{rev}"


def _raise(endpoint: str, repo: str, rev: str, cache, token: str | None = TOKEN) -> HubError:
    with pytest.raises(HubError) as info:
        resolve(repo, rev, token=token, cache_dir=cache, endpoint=endpoint)
    return info.value


def _assert_no_token(err: HubError) -> None:
    texts = [str(err), repr(err), err.message, err.hint, json.dumps(err.details, default=str)]
    texts.append("".join(traceback.format_exception(err)))
    assert all(TOKEN not in t for t in texts)


def test_repo_not_found(hub, tmp_path) -> None:
    err = _raise(hub, "podium-test/missing", "main", tmp_path)
    assert err.code is Code.REPO_NOT_FOUND and "podium-test/missing" in err.message
    assert "--hf-token" in err.hint
    assert FakeHub.seen_auth[0] == f"Bearer {TOKEN}"  # the token was sent...
    _assert_no_token(err)  # ...and appears in no error text


def test_private_repo_without_token(hub, tmp_path) -> None:
    FakeHub.routes[_api("o/private", "main")] = (401, {"X-Error-Code": "RepoNotFound"}, None)
    err = _raise(hub, "o/private", "main", tmp_path, token=None)
    assert err.code is Code.REPO_NOT_FOUND and "private" in err.message


def test_revision_not_found(hub, tmp_path) -> None:
    FakeHub.routes[_api(QWEN, "v9")] = (404, {"X-Error-Code": "RevisionNotFound"}, None)
    err = _raise(hub, QWEN, "v9", tmp_path)
    assert err.code is Code.REVISION_NOT_FOUND and "'v9'" in err.message and QWEN in err.message
    _assert_no_token(err)


def test_gated(hub, tmp_path) -> None:
    FakeHub.routes[_api("o/gated", "main")] = (
        403,
        {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access to model o/gated is restricted."},
        None,
    )
    err = _raise(hub, "o/gated", "main", tmp_path)
    assert err.code is Code.REPO_ACCESS_DENIED and "gated" in err.message
    _assert_no_token(err)


@pytest.mark.parametrize(
    "status,headers",
    [(403, {}), (401, {"X-Error-Message": "Invalid credentials in Authorization header"})],
)
def test_forbidden_and_bad_token(hub, tmp_path, status, headers) -> None:
    FakeHub.routes[_api("o/m", "main")] = (status, headers, None)
    err = _raise(hub, "o/m", "main", tmp_path)
    assert err.code is Code.REPO_ACCESS_DENIED and err.details["status"] == status
    _assert_no_token(err)


def test_not_found_never_falls_back_to_the_cache(hub, hub_cache) -> None:
    FakeHub.routes[_api(QWEN, "main")] = (404, {"X-Error-Code": "RepoNotFound"}, None)
    err = _raise(hub, QWEN, "main", hub_cache.path)
    assert err.code is Code.REPO_NOT_FOUND


def test_server_error_falls_back_to_the_cache(hub, hub_cache) -> None:
    FakeHub.routes[_api(QWEN, "v1")] = (503, {}, None)
    snap = resolve(QWEN, "v1", token=TOKEN, cache_dir=hub_cache.path, endpoint=hub)
    assert snap.source == "cache" and snap.commit == hub_cache.commits["qwen3@v1"]


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_connection_error_falls_back_to_the_cache(hub, hub_cache) -> None:
    snap = resolve(QWEN, "main", cache_dir=hub_cache.path, endpoint=_closed_port())
    assert snap.source == "cache" and snap.commit == hub_cache.commits["qwen3@main"]


def test_connection_error_and_not_cached(hub, tmp_path) -> None:
    err = _raise(_closed_port(), QWEN, "main", tmp_path)
    assert err.code is Code.HUB_UNREACHABLE
    assert "unreachable" in err.message and "hf download" in err.hint
    _assert_no_token(err)


def test_online_success_pins_the_commit_and_records_the_tag(hub, hub_cache, tmp_path) -> None:
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(hub_cache.path, cache, symlinks=True)
    sha = hub_cache.commits["qwen3@v1"]
    siblings = [{"rfilename": n} for n in ("config.json", "model.safetensors", "tokenizer.json")]
    FakeHub.routes[_api(QWEN, "release-1")] = (
        200,
        {},
        {"id": QWEN, "modelId": QWEN, "sha": sha, "siblings": siblings, "private": False},
    )
    snap = resolve(QWEN, "release-1", token=TOKEN, cache_dir=cache, endpoint=hub)
    assert (snap.source, snap.commit, snap.revision) == ("hub", sha, "release-1")
    ref = cache / "models--podium-test--tiny-qwen3" / "refs" / "release-1"
    assert ref.read_text() == sha  # the same tag now resolves offline


def test_online_repo_without_config(hub, tmp_path) -> None:
    FakeHub.routes[_api("o/data", "main")] = (
        200,
        {},
        {"id": "o/data", "sha": "c" * 40, "siblings": [{"rfilename": "README.md"}]},
    )
    err = _raise(hub, "o/data", "main", tmp_path)
    assert err.code is Code.NOT_A_MODEL_REPO and "o/data" in err.message
