"""The participant CLI against a real Podium server: the FastAPI app on a real SQLite file,
served by uvicorn on 127.0.0.1 in a thread of this process (so that it resolves from the
session's offline tiny-model Hub cache), driven with typer's CliRunner."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner  # noqa: E402

from challenge_files import write_challenge
from podium.cli.main import app  # noqa: E402

QWEN = ["--hf-repo", "podium-test/tiny-qwen3", "--hf-repo-tag", "v1", "--neuron.model-type", "qwen3"]

CHALLENGE = {
    "title": "CLI test",
    "maximum": {"vllm.max-model-len": 1024},
    "extra_keys": {"temperature": "number"},
    "quotas": {"submissions": 20, "failed_allowance": 1, "max_in_flight": 20},
}


@dataclass
class Server:
    url: str
    app: object
    tokens: dict[str, str]
    requests: list[str]  # "METHOD /path" of every request the server answered

    @property
    def db(self):
        return self.app.state.db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path, hub_cache, monkeypatch: pytest.MonkeyPatch):
    import uvicorn
    from huggingface_hub import constants

    from podium.platform.app import create_app
    from podium.platform.challenges import service as challenges
    from podium.platform.models import Role
    from podium.platform.settings import Settings
    from podium.platform.users import service as users

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache.path))
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache.path))
    monkeypatch.delenv("PODIUM_DATABASE_URL", raising=False)
    for var in ("PODIUM_SERVER", "PODIUM_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    from podium.cli import render

    for console in (render.out, render.err):  # wide enough that no value is folded
        monkeypatch.setattr(console, "_width", 200)

    fastapi_app = create_app(Settings(data_dir=tmp_path / "data", env="production", secret_key="s" * 40))
    seen: list[str] = []

    @fastapi_app.middleware("http")
    async def record(request, call_next):
        seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    tokens = {}
    with fastapi_app.state.db.session() as session, session.begin():
        for who, role in (("a", Role.PARTICIPANT), ("b", Role.PARTICIPANT), ("org", Role.ORGANISER)):
            tokens[who] = users.create_token(session=session, user=users.create_user(session=session, name=f"user-{who}", role=role))
        for name, target in (("t1", "cpu"), ("neuron", "inf2.xlarge")):
            path = write_challenge(tmp_path / "challenges", name, target=target, **CHALLENGE)
            challenges.add_or_update(session=session, path=path)

    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(fastapi_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield Server(f"http://127.0.0.1:{port}", fastapi_app, tokens, seen)
    uv.should_exit = True
    thread.join(10)
    fastapi_app.state.db.dispose()


runner = CliRunner()


def cli(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result


def login(server: Server, who: str = "a"):
    result = cli("login", "--server", server.url, "--token", server.tokens[who])
    assert result.exit_code == 0, result.output
    return result


def submit_json(*args: str) -> tuple[int, dict]:
    result = cli("submit-model", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_login_keeps_the_token_0600_and_never_prints_it(server: Server, tmp_path: Path) -> None:
    token = server.tokens["a"]
    result = login(server)
    path = tmp_path / "xdg" / "podium" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"server": server.url, "token": token}
    assert "user-a" in result.output
    outputs = [result.output]
    outputs.append(cli("login", "--server", server.url, "--token", token, "--json").output)
    outputs.append(cli("submit-model", *QWEN, "--challenge", "t1").output)
    outputs.append(cli("submissions").output)
    outputs.append(cli("submissions", "show", "1", "--json").output)
    bad = cli("login", "--server", server.url, "--token", "wrong-" + token)
    assert bad.exit_code == 1 and "NOT_AUTHENTICATED" in bad.output
    outputs.append(bad.output)
    assert json.loads(path.read_text())["token"] == token  # a failed login keeps the old one
    assert all(token not in out for out in outputs)

    out = cli("logout")
    assert out.exit_code == 0 and not path.exists()
    gone = cli("submissions")
    assert gone.exit_code == 1 and "NOT_AUTHENTICATED" in gone.output and "podium login" in gone.output


def test_environment_overrides_the_stored_login(server: Server) -> None:
    login(server, "a")
    mine = json.loads(cli("submissions", "--json").stdout)
    assert mine == []
    cli("submit-model", *QWEN, "--challenge", "t1", env={"PODIUM_TOKEN": server.tokens["b"]})
    as_b = json.loads(cli("submissions", "--json", env={"PODIUM_TOKEN": server.tokens["b"]}).stdout)
    assert [r["owner"] for r in as_b] == ["user-b"]
    assert json.loads(cli("submissions", "--json").stdout) == []  # a still sees none of b's


def test_submit_prints_id_and_queue_position_then_list_and_show(server: Server) -> None:
    login(server)
    result = cli("submit-model", *QWEN, "--vllm.max-model-len=512", "--temperature", "0.5", "--challenge", "t1")
    assert result.exit_code == 0, result.output
    assert "#1" in result.output and "queued" in result.output and "position 1" in result.output
    assert f"in a browser: {server.url}/submissions/1" in result.output

    code, second = submit_json(*QWEN, "--challenge", "t1")
    assert code == 0 and second["id"] == 2 and second["state"] == "queued" and second["queue_position"] == 2
    assert second["pinned_commit"]

    rows = json.loads(cli("submissions", "--json").stdout)
    assert [r["id"] for r in rows] == [2, 1]
    listed = cli("submissions")
    assert listed.exit_code == 0 and "podium-test/tiny-qwen3@" in listed.output

    shown = json.loads(cli("submissions", "show", "1", "--json").stdout)
    assert shown["spec"]["vllm"]["max-model-len"] == 512 and shown["spec"]["extras"] == {"temperature": 0.5}
    assert sorted(shown["spec"]["given"]) == sorted(
        ["hf-repo", "hf-repo-tag", "neuron.model-type", "vllm.max-model-len", "temperature"]
    )
    human = cli("submissions", "show", "1")
    assert human.exit_code == 0 and "queued" in human.output and "position 1" in human.output
    assert f"{server.url}/submissions/1" in human.output

    missing = cli("submissions", "show", "99")
    assert missing.exit_code == 1 and "SUBMISSION_NOT_FOUND" in missing.output


def test_rejected_submissions_print_the_findings_with_exit_1(server: Server) -> None:
    login(server)
    # a Llama with --neuron.model-type left at its default on a Neuron challenge
    code, body = submit_json("--hf-repo", "podium-test/tiny-llama", "--challenge", "neuron")
    assert code == 1 and body["ok"] is False
    assert "MODEL_TYPE_MISMATCH" in [f["code"] for f in body["findings"]]
    human = cli("submit-model", "--hf-repo", "podium-test/tiny-llama", "--challenge", "neuron")
    assert human.exit_code == 1
    assert "MODEL_TYPE_MISMATCH" in human.output and "REJECTED" in human.output and "--neuron.model-type llama" in human.output

    code, body = submit_json(*QWEN, "--vllm.max-model-len", "4096", "--challenge", "t1")
    assert code == 1 and body["error"]["code"] == "FLAG_ABOVE_MAXIMUM"

    unknown = cli("submit-model", *QWEN, "--challenge", "nope")
    assert unknown.exit_code == 1 and "CHALLENGE_NOT_FOUND" in unknown.output
    # rejected ones are stored as rejected, never queued
    assert {r["state"] for r in json.loads(cli("submissions", "--json").stdout)} == {"rejected"}


def test_a_local_typo_fails_before_any_request(server: Server) -> None:
    login(server)
    server.requests.clear()
    result = cli("submit-model", *QWEN, "--vllm.max-model-lenn", "512", "--challenge", "t1")
    assert result.exit_code == 1
    assert "FLAG_UNKNOWN" in result.output and "--vllm.max-model-len" in result.output
    code, body = submit_json(*QWEN, "--vllm.max-num-seqs", "many", "--challenge", "t1")
    assert code == 1 and body["error"]["code"] == "FLAG_INVALID"
    assert server.requests == []
    # not logged in: the typo is still what the participant hears about first
    cli("logout")
    again = cli("submit-model", *QWEN, "--vllm.max-model-lenn", "512", "--challenge", "t1")
    assert again.exit_code == 1 and "FLAG_UNKNOWN" in again.output
    assert server.requests == []
    # a key that is neither a flag nor the challenge's: one read of the challenge, no submission
    login(server)
    server.requests.clear()
    extra = cli("submit-model", *QWEN, "--top-k", "5", "--challenge", "t1")
    assert extra.exit_code == 1 and "FLAG_UNKNOWN" in extra.output
    assert server.requests == ["GET /api/challenges"]


def test_wait_follows_the_stages_to_the_score(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.cli import submit
    from podium.platform.models import State
    from podium.platform.submissions.service import record_score, set_state

    login(server)
    steps = iter([State.RESOLVING, State.STARTING, State.EVALUATING, "score"])

    def fake_sleep(seconds: float) -> None:  # each poll moves the job one stage on
        step = next(steps)
        with server.db.session() as s, s.begin():
            if step == "score":
                record_score(session=s, submission_id=1, report_dict={"primary_by_split": {"public": 0.75, "private": 0.5}})
            else:
                set_state(session=s, submission_id=1, state=step)

    monkeypatch.setattr(submit, "_sleep", fake_sleep)
    result = cli("submit-model", *QWEN, "--challenge", "t1", "--wait")
    assert result.exit_code == 0, result.output
    out = result.output
    order = [out.index(w) for w in ("queued", "resolving", "starting", "evaluating", "SCORED")]
    assert order == sorted(order) and "0.7500" in out


def test_wait_reports_a_failure_with_exit_2_and_ctrl_c_stops_waiting_only(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.cli import submit
    from podium.platform.models import State, Submission
    from podium.platform.submissions.service import set_state

    login(server)

    def fail(seconds: float) -> None:
        with server.db.session() as s, s.begin():
            sub = s.get(Submission, 1)
            sub.error_code, sub.error_message, sub.error_hint = "ENGINE_CRASHED", "vLLM exited with status 1", "see the serve log"
            set_state(session=s, submission_id=1, state=State.FAILED)

    monkeypatch.setattr(submit, "_sleep", fail)
    failed = cli("submit-model", *QWEN, "--challenge", "t1", "--wait")
    assert failed.exit_code == 2
    assert "ENGINE_CRASHED" in failed.output and "vLLM exited with status 1" in failed.output and "see the serve log" in failed.output

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(submit, "_sleep", ctrl_c)
    stopped = cli("submit-model", *QWEN, "--challenge", "t1", "--wait")
    assert stopped.exit_code == 130
    assert "podium submissions show 2" in stopped.output
    assert json.loads(cli("submissions", "show", "2", "--json").stdout)["state"] == "queued"


def test_leaderboard_after_record_score(server: Server) -> None:
    from podium.platform.submissions.service import record_score

    ids = {}
    for who in ("a", "b"):
        login(server, who)
        ids[who] = submit_json(*QWEN, "--challenge", "t1")[1]["id"]
    with server.db.session() as s, s.begin():
        for who, (pub, priv) in (("a", (0.5, 0.9)), ("b", (0.8, 0.1))):
            record_score(session=s, submission_id=ids[who], report_dict={
                "primary_by_split": {"public": pub, "private": priv}, "requests": {"output_tokens_per_s": 12.5}})
    board = json.loads(cli("leaderboard", "t1", "--json").stdout)
    assert [(r["participant"], r["score"]) for r in board["rows"]] == [("user-b", 0.8), ("user-a", 0.5)]
    human = cli("leaderboard", "t1")
    assert human.exit_code == 0
    assert human.output.index("user-b") < human.output.index("user-a") and "0.8000" in human.output
    assert "12.5" in human.output and "exact_match" in human.output
    # anonymous (no token, only the server) sees the public board too
    cli("logout")
    anon = cli("leaderboard", "t1", "--json", env={"PODIUM_SERVER": server.url})
    assert anon.exit_code == 0 and len(json.loads(anon.stdout)["rows"]) == 2
    private = cli("leaderboard", "t1", "--split", "private", env={"PODIUM_SERVER": server.url})
    assert private.exit_code == 1 and "FORBIDDEN" in private.output
    assert cli("leaderboard", "nope", env={"PODIUM_SERVER": server.url}).exit_code == 1


def test_unreachable_server_is_a_failure_exit_2(server: Server) -> None:
    result = cli("submissions", env={"PODIUM_SERVER": f"http://127.0.0.1:{_free_port()}", "PODIUM_TOKEN": "x"})
    assert result.exit_code == 2 and "SERVER_UNREACHABLE" in result.output


def test_cancel_a_queued_submission(server: Server) -> None:
    login(server)
    sid = submit_json(*QWEN, "--challenge", "t1")[1]["id"]
    result = cli("submissions", "cancel", str(sid))
    assert result.exit_code == 0, result.output
    assert json.loads(cli("submissions", "show", str(sid), "--json").stdout)["state"] == "cancelled"
    again = cli("submissions", "cancel", str(sid))
    assert again.exit_code == 1 and "STATE_CONFLICT" in again.output
    assert cli("submissions", "cancel", "99").exit_code == 1
    login(server, "b")  # someone else's: not found, not cancelled
    assert "SUBMISSION_NOT_FOUND" in cli("submissions", "cancel", "1").output


def test_logs_by_offset_and_follow_to_the_end(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.cli import submissions
    from podium.platform.models import State
    from podium.platform.submissions.service import set_state
    from podium.platform.workers import logs

    login(server)
    sid = submit_json(*QWEN, "--challenge", "t1")[1]["id"]
    data_dir = server.app.state.settings.data_dir
    logs.append(data_dir, sid, "resolve: pinned\n")
    logs.append(data_dir, sid, "hidden prompt 42\n", private=True)
    first = cli("submissions", "logs", str(sid), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"text": "resolve: pinned\n", "next_offset": 16, "done": False}

    polls = iter(range(3))

    def more(seconds: float) -> None:  # the job goes on while the participant follows
        n = next(polls)
        if n == 0:
            logs.append(data_dir, sid, "serve: ready\n")
        elif n == 1:
            logs.append(data_dir, sid, "evaluate: 1/1\n")
            with server.db.session() as s, s.begin():
                set_state(session=s, submission_id=sid, state=State.CANCELLED)

    monkeypatch.setattr(submissions, "_sleep", more)
    followed = cli("submissions", "logs", str(sid), "--follow")
    assert followed.exit_code == 0, followed.output
    assert followed.stdout == "resolve: pinned\nserve: ready\nevaluate: 1/1\n"
