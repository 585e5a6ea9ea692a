"""`podium admin` (create-user, create-token, add-challenge, rerun, cancel) on a data
directory in tmp_path, and `podium server` as a real subprocess: it answers /api/health
and /docs, and SIGTERM stops it with no process left."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner  # noqa: E402

import challenge_files
from podium.cli.main import app  # noqa: E402
from podium.errors import Code, PodiumError  # noqa: E402

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # the commands set PODIUM_DATA_DIR in os.environ: monkeypatch restores it afterwards
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PODIUM_ENV", "development")
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    monkeypatch.delenv("PODIUM_SECRET_KEY", raising=False)
    return tmp_path / "data"


def admin(data_dir: Path, *args: str):
    return runner.invoke(app, ["admin", *args, "--data-dir", str(data_dir)])


def rows(data_dir: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(data_dir / "podium.db") as con:
        return con.execute(sql, params).fetchall()


def write_challenge(tmp_path: Path, title: str) -> Path:
    return challenge_files.write_challenge(tmp_path / "challenges", "c1", title=title, quotas={"submissions": 5})


def test_create_user_and_token_printed_once_only_its_hash_kept(data_dir: Path) -> None:
    from podium.platform.security import token_hash

    r = admin(data_dir, "create-user", "alice")
    assert r.exit_code == 0, r.output
    assert "created participant alice" in r.output
    r = admin(data_dir, "create-user", "olga", "--role", "organiser")
    assert r.exit_code == 0 and "created organiser olga" in r.output
    assert rows(data_dir, "SELECT name, role FROM users ORDER BY id") == [("alice", "participant"), ("olga", "organiser")]

    dup = admin(data_dir, "create-user", "alice")
    assert dup.exit_code != 0 and isinstance(dup.exception, PodiumError)

    r = admin(data_dir, "create-token", "alice")
    assert r.exit_code == 0, r.output
    token = r.output.strip()
    assert len(r.output.strip().splitlines()) == 1 and len(token) >= 32
    second = admin(data_dir, "create-token", "alice").output.strip()
    assert second != token  # a new one each time; the first is never shown again
    stored = rows(data_dir, "SELECT sha256 FROM api_tokens ORDER BY id")
    assert stored[0] == (token_hash(token),) and len(stored) == 2
    # the clear text is nowhere in the database files
    for f in data_dir.glob("podium.db*"):
        assert token.encode() not in f.read_bytes()

    nobody = admin(data_dir, "create-token", "bob")
    assert nobody.exit_code != 0 and "no user 'bob'" in str(nobody.exception)


def test_add_challenge_then_update(data_dir: Path, tmp_path: Path) -> None:
    path = write_challenge(tmp_path, "First title")
    r = admin(data_dir, "add-challenge", str(path))
    assert r.exit_code == 0, r.output
    assert "added challenge c1" in r.output
    write_challenge(tmp_path, "Second title")
    r = admin(data_dir, "add-challenge", str(path.parent))  # the folder works too
    assert r.exit_code == 0, r.output
    assert "updated challenge c1" in r.output
    assert rows(data_dir, "SELECT name, title FROM challenges") == [("c1", "Second title")]


def test_cancel_and_rerun_a_queued_submission(data_dir: Path, tmp_path: Path, hub_cache, monkeypatch) -> None:
    from fastapi.testclient import TestClient
    from huggingface_hub import constants

    from podium.platform.app import create_app
    from podium.platform.dispatch.settings import DispatchSettings
    from podium.platform.settings import Settings

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache.path))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache.path))
    assert admin(data_dir, "create-user", "alice").exit_code == 0
    token = admin(data_dir, "create-token", "alice").output.strip()
    assert admin(data_dir, "add-challenge", str(write_challenge(tmp_path, "T"))).exit_code == 0

    # a real admission through the API (no dispatcher: it stays queued)
    api = create_app(Settings(data_dir=data_dir, env="development"), dispatch=DispatchSettings(dispatcher=False))
    client = TestClient(api)
    try:
        r = client.post("/api/challenges/c1/submissions", headers={"Authorization": f"Bearer {token}"},
                        json={"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        assert r.json()["state"] == "queued"

        def shown() -> dict:
            return client.get(f"/api/submissions/{sid}", headers={"Authorization": f"Bearer {token}"}).json()

        r = admin(data_dir, "cancel", str(sid))
        assert r.exit_code == 0, r.output
        assert f"submission {sid} cancelled" in r.output
        assert shown()["state"] == "cancelled"
        assert "cancelled by an organiser" in shown()["events"][-1]["detail"]

        again = admin(data_dir, "cancel", str(sid))
        assert again.exit_code != 0
        assert isinstance(again.exception, PodiumError) and again.exception.code == Code.STATE_CONFLICT

        r = admin(data_dir, "rerun", str(sid))
        assert r.exit_code == 0, r.output
        assert f"submission {sid} queued" in r.output
        body = shown()
        assert body["state"] == "queued" and "rerun by an organiser" in body["events"][-1]["detail"]
        assert rows(data_dir, "SELECT state, current_attempt_id, attempts FROM submissions WHERE id = ?", sid) == [
            ("queued", None, 0)]

        r = admin(data_dir, "cancel", str(sid))
        assert r.exit_code == 0 and shown()["state"] == "cancelled"

        missing = admin(data_dir, "rerun", "999")
        assert missing.exit_code != 0 and missing.exception.code == Code.SUBMISSION_NOT_FOUND
    finally:
        client.close()
        api.state.db.dispose()

    helptext = runner.invoke(app, ["admin", "cancel", "--help"]).output
    assert "dispatcher" in helptext


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_subprocess_answers_then_stops_on_sigterm(tmp_path: Path) -> None:
    import httpx

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PODIUM_ENV": "development", "PODIUM_DISPATCHER": "true"}
    for var in ("PODIUM_DATABASE_URL", "PODIUM_SECRET_KEY", "PODIUM_DATA_DIR"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", "server", "--port", str(port), "--data-dir", str(tmp_path / "d")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(base + "/api/health", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, proc.poll()
        assert health.json() == {"ok": True}
        docs = httpx.get(base + "/docs", timeout=5.0)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        spec = httpx.get(base + "/openapi.json", timeout=5.0).json()
        assert "/api/challenges/{name}/submissions" in spec["paths"]
        assert (tmp_path / "d" / "podium.db").exists()

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        out = proc.stdout.read().decode(errors="replace")
        assert proc.returncode in (0, 130), out  # stopped, not killed
        assert "Traceback" not in out, out
        assert not _alive(proc.pid)  # nothing left in its process group
        with pytest.raises(httpx.HTTPError):
            httpx.get(base + "/api/health", timeout=1.0)
    finally:
        if proc.poll() is None or _alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
