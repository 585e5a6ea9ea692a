"""Admission over HTTP: flat and typed payloads, rejections with the same findings as
`podium check`, refusals of what only a participant's machine may do."""

from __future__ import annotations

import pytest

GOOD = {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "v1", "neuron.model_type": "qwen3"}


def submit(p, body, who="a", challenge="t1"):
    return p.client.post(f"/api/challenges/{challenge}/submissions", json=body, headers=p.headers(who))


def test_flat_payload_is_queued_with_pinned_commit(platform, hf_models) -> None:
    r = submit(platform, {**GOOD, "vllm.max_model_len": "512"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["state"] == "queued"
    assert body["pinned_commit"] == hf_models.commits["qwen3@v1"]
    assert body["requested_revision"] == "v1"
    assert body["queue_position"] == 1
    r2 = submit(platform, GOOD, who="b")
    assert r2.json()["queue_position"] == 2

    shown = platform.client.get(f"/api/submissions/{body['id']}", headers=platform.headers("a")).json()
    assert shown["state"] == "queued"
    assert shown["spec"]["vllm"]["max-model-len"] == 512
    assert [e["state"] for e in shown["events"]] == ["queued"]
    assert shown["counted_against_quota"] is True
    assert shown["queue_position"] == 1


def test_typed_spec_is_the_same_submission(platform, hf_models) -> None:
    typed = {"spec": {"hf_repo": "podium-test/tiny-qwen3", "hf_repo_tag": "main",
                      "neuron_model_type": "qwen3", "vllm": {"max-model-len": 512}}}
    r = submit(platform, typed)
    assert r.status_code == 201, r.text
    assert r.json()["pinned_commit"] == hf_models.commits["qwen3@main"]


def test_error_finding_is_422_with_check_findings_and_stored_rejected(platform, tmp_path) -> None:
    from podium.cli.submission import prepare
    from podium.pipeline import check

    bad = {**GOOD, "vllm.max_model_len": "4096"}
    r = submit(platform, bad)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["ok"] is False
    errors = [f for f in body["findings"] if f["severity"] == "error"]
    assert "FLAG_ABOVE_MAXIMUM" in [f["code"] for f in errors]
    assert body["error"]["code"] == errors[0]["code"]
    # the same codes, messages and hints as `podium check --challenge`
    argv = ["--hf-repo", GOOD["hf_repo"], "--hf-repo-tag", "v1", "--neuron.model-type", "qwen3",
            "--vllm.max-model-len", "4096"]
    prepared = prepare(argv, model_dir=None, target=None, challenge=tmp_path / "challenges" / "t1")
    local = check(prepared.spec, prepared.target, extra_findings=prepared.findings)
    assert body["findings"] == [f.to_dict() for f in local.findings]

    mine = platform.client.get("/api/submissions", headers=platform.headers("a")).json()
    assert [(s["state"], s["counted_against_quota"]) for s in mine] == [("rejected", False)]
    assert mine[0]["error"]["code"] == errors[0]["code"]


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({**GOOD, "vllm.max_model_len": "4096"}, "FLAG_ABOVE_MAXIMUM", 422),
        ({**GOOD, "vllm.max_model_lenn": "512"}, "FLAG_UNKNOWN", 422),
        ({**GOOD, "vllm.max_model_len": "lots"}, "FLAG_INVALID", 422),
        ({**GOOD, "hf_repo_tag": "v9"}, "HUB_UNREACHABLE", 503),
        ({"hf_repo_tag": "v1"}, "FLAG_REQUIRED", 422),
        # offline and not cached: the server cannot reach the Hub (a platform fault)
        ({"hf_repo": "podium-test/nope"}, "HUB_UNREACHABLE", 503),
    ],
)
def test_spec_and_hub_errors(platform, body, code, status) -> None:
    r = submit(platform, body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["findings"][0]["code"] == code
    assert r.json()["error"]["hint"]


@pytest.mark.parametrize(
    "body",
    [
        {**GOOD, "model_dir": "/home/me/model"},
        {**GOOD, "model-dir": "./m"},
        {**GOOD, "prompt-template-path": "/etc/passwd"},
        {**GOOD, "prompt_template_path": "t.jinja"},
        {**GOOD, "hf_repo": "/srv/models/x"},
        {**GOOD, "hf_repo": "../../etc"},
        {**GOOD, "hf_repo": "./local"},
        {"spec": {"hf_repo": "podium-test/tiny-qwen3", "extras": {"prompt-template-path": "x"}}},
    ],
)
def test_local_only_things_are_refused(platform, body) -> None:
    r = submit(platform, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "FLAG_NOT_ALLOWED"
    assert "server" in r.json()["error"]["message"]


def test_challenge_extra_key_is_accepted(platform) -> None:
    r = submit(platform, {**GOOD, "temperature": "0.5"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "body",
    [{"spec": {"hf_repo": "x/y", "nonsense": 1}}, {"spec": "x"}, {"spec": {"hf_repo": "x/y"}, "hf_repo": "a/b"}],
)
def test_malformed_payload(platform, body) -> None:
    r = submit(platform, body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "PAYLOAD_INVALID"


def test_unknown_challenge_is_404(platform) -> None:
    r = submit(platform, GOOD, challenge="nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "CHALLENGE_NOT_FOUND"


def test_status_mapping_is_one_function() -> None:
    from podium.platform.errors import status_for

    assert status_for("FLAG_UNKNOWN") == 422
    assert status_for("QUOTA_EXCEEDED") == 429
    assert status_for("HUB_UNREACHABLE") == 503
    assert status_for("TARGET_UNKNOWN") == 500
    assert status_for("NOT_AUTHENTICATED") == 401
