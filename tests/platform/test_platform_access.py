"""Access control on every route, the HF token never leaking, the leaderboard, migrations."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

GOOD = {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"}
HF_TOKEN = "hf_" + "Zq8" * 12


@pytest.fixture
def two_subs(platform):
    ids = {}
    for who in ("a", "b"):
        r = platform.client.post("/api/challenges/t1/submissions", json=GOOD, headers=platform.headers(who))
        assert r.status_code == 201
        ids[who] = r.json()["id"]
    return ids


@pytest.mark.parametrize(
    ("who", "route", "status"),
    [
        (None, "GET /api/me", 401), ("a", "GET /api/me", 200), ("org", "GET /api/me", 200),
        (None, "GET /api/challenges", 200), ("a", "GET /api/challenges", 200),
        (None, "GET /api/challenges/t1/leaderboard", 200),
        (None, "GET /api/challenges/t1/leaderboard?split=private", 403),
        ("a", "GET /api/challenges/t1/leaderboard?split=private", 403),
        ("b", "GET /api/challenges/t1/leaderboard?split=private", 403),
        ("org", "GET /api/challenges/t1/leaderboard?split=private", 200),
        (None, "POST /api/challenges/t1/submissions", 401),
        ("a", "POST /api/challenges/t1/submissions", 201),
        ("org", "POST /api/challenges/t1/submissions", 201),
        (None, "GET /api/submissions", 401),
        (None, "GET /api/submissions/{a}", 401),
        ("a", "GET /api/submissions/{a}", 200),
        ("a", "GET /api/submissions/{b}", 404),
        ("b", "GET /api/submissions/{a}", 404),
        ("b", "GET /api/submissions/{b}", 200),
        ("org", "GET /api/submissions/{a}", 200),
        ("org", "GET /api/submissions/{b}", 200),
        ("bad", "GET /api/submissions", 401),
    ],
)
def test_access_matrix(platform, two_subs, who, route, status) -> None:
    method, path = route.split()
    path = path.format(**two_subs)
    headers = {"Authorization": "Bearer pdm_notatokenatall12345678"} if who == "bad" else platform.headers(who)
    r = platform.client.request(method, path, headers=headers, json=GOOD if method == "POST" else None)
    assert r.status_code == status, r.text


def test_lists_are_scoped(platform, two_subs) -> None:
    owners = lambda who: {s["owner"] for s in platform.client.get("/api/submissions", headers=platform.headers(who)).json()}  # noqa: E731
    assert owners("a") == {"user-a"}
    assert owners("b") == {"user-b"}
    assert owners("org") == {"user-a", "user-b"}


def test_hf_token_never_leaks(platform, caplog) -> None:
    from sqlalchemy import select

    from podium.platform.models import SecretToken, State
    from podium.platform.submissions.service import hf_token_for, set_state

    caplog.set_level(logging.DEBUG)
    bodies = []
    r = platform.client.post("/api/challenges/t1/submissions", json={**GOOD, "hf_token": HF_TOKEN}, headers=platform.headers("a"))
    assert r.status_code == 201
    sid = r.json()["id"]
    bodies.append(r.text)
    bodies.append(platform.client.post("/api/challenges/t1/submissions",
                                       json={**GOOD, "vllm.max_model_len": "9999", "hf_token": HF_TOKEN},
                                       headers=platform.headers("a")).text)
    bodies.append(platform.client.post("/api/challenges/t1/submissions",
                                       json={"spec": {"hf_repo": "x/y"}, "hf_token": HF_TOKEN},
                                       headers=platform.headers("a")).text)
    for who in ("a", "org"):
        for path in ("/api/submissions", f"/api/submissions/{sid}", "/api/challenges", "/api/me"):
            bodies.append(platform.client.get(path, headers=platform.headers(who)).text)
    bodies.append(platform.client.get("/openapi.json").text)
    logging.getLogger("podium.test").warning("resolving with token %s", HF_TOKEN)
    logging.getLogger("anything").error(f"inline {HF_TOKEN} and hf_abcdefghijklmnop")
    for body in bodies:
        assert HF_TOKEN not in body
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert HF_TOKEN not in text and "hf_abcdefghijklmnop" not in text
    assert "[REDACTED]" in text
    # at rest: encrypted, usable for resolve, gone when the submission ends
    with platform.db.session() as s, s.begin():
        row = s.scalar(select(SecretToken).where(SecretToken.submission_id == sid))
        assert HF_TOKEN.encode() not in row.ciphertext
        assert hf_token_for(session=s, box=platform.app.state.box, submission_id=sid) == HF_TOKEN
        set_state(session=s, submission_id=sid, state=State.CANCELLED)
    with platform.db.session() as s:
        assert s.scalar(select(SecretToken)) is None
    raw = (platform.data_dir / "podium.db").read_bytes()
    assert HF_TOKEN.encode() not in raw


def test_leaderboard_best_per_participant_ties_by_earlier(platform, add_challenge) -> None:
    from podium.platform.challenges import service as challenges
    from podium.platform.submissions.service import record_score

    add_challenge("t3", submissions=10, max_in_flight=10)
    post = lambda who: platform.client.post("/api/challenges/t3/submissions", json=GOOD, headers=platform.headers(who)).json()["id"]  # noqa: E731
    a1, a2, b1, o1 = post("a"), post("a"), post("b"), post("org")
    scores = {a1: (0.5, 0.9), a2: (0.7, 0.1), b1: (0.7, 0.2), o1: (0.6, 0.3)}
    with platform.db.session() as s, s.begin():
        for sid, (pub, priv) in scores.items():
            record_score(session=s, submission_id=sid, report_dict={
                "primary_by_split": {"public": pub, "private": priv},
                "requests": {"output_tokens_per_s": 12.5}})
    board = platform.client.get("/api/challenges/t3/leaderboard").json()["rows"]
    assert [(r["participant"], r["submission_id"], r["score"]) for r in board] == [
        ("user-a", a2, 0.7), ("user-b", b1, 0.7), ("user-org", o1, 0.6)]
    assert board[0]["pinned_commit"] and board[0]["tokens_per_s"] == 12.5
    private = platform.client.get("/api/challenges/t3/leaderboard?split=private", headers=platform.headers("org")).json()["rows"]
    assert [(r["participant"], r["score"]) for r in private] == [("user-a", 0.9), ("user-org", 0.3), ("user-b", 0.2)]
    shown = platform.client.get(f"/api/submissions/{a2}", headers=platform.headers("a")).json()
    assert shown["state"] == "scored" and [e["state"] for e in shown["events"]] == ["queued", "scored"]
    # revealed: everyone sees the private split
    with platform.db.session() as s, s.begin():
        challenges.get_challenge(session=s, name="t3").reveal_private_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert platform.client.get("/api/challenges/t3/leaderboard?split=private").status_code == 200


def test_migrations_apply_to_an_empty_database(tmp_path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from podium.platform.db import Database
    from podium.platform.models import Base

    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    db.upgrade()
    db.upgrade()  # idempotent
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "api_tokens", "challenges", "submissions", "submission_events", "secret_tokens", "alembic_version"} <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.dispose()


def test_settings_refuse_to_start_without_a_secret(tmp_path) -> None:
    from podium.errors import PodiumError
    from podium.platform.settings import Settings

    with pytest.raises(PodiumError, match="PODIUM_SECRET_KEY"):
        Settings(data_dir=tmp_path / "d", env="production", secret_key=None).ready()
    dev = Settings(data_dir=tmp_path / "d", env="development", secret_key=None).ready()
    again = Settings(data_dir=tmp_path / "d", env="development", secret_key=None).ready()
    assert dev.secret_key == again.secret_key and len(dev.secret_key) >= 32
    assert (tmp_path / "d" / "secret.key").stat().st_mode & 0o777 == 0o600
