"""``evaluate`` end to end against the stub, and the demo challenge shipped with Podium."""

from __future__ import annotations

import json
from collections import Counter

import yaml

from podium.evaluate import demo_challenge_path, evaluate, load_challenge, load_dataset
from podium.evaluate.dataset import PromptTemplate, build_messages


def write_challenge(tmp_path, **evaluation):
    rows = [
        {
            "id": "f1",
            "prompt": "Capital of France? #Paris",
            "answer": "Paris",
            "split": "public",
            "kind": "facts",
        },
        {
            "id": "f2",
            "prompt": "Capital of Italy? #Milan",
            "answer": "Rome",
            "split": "private",
            "kind": "facts",
        },
        {
            "id": "a1",
            "prompt": "2+3? #it is 5",
            "answer": "5",
            "split": "public",
            "kind": "arithmetic",
        },
        {
            "id": "m1",
            "prompt": "Which flies? #(B)",
            "choices": ["Dog", "Eagle"],
            "answer": "B",
            "split": "private",
            "kind": "mc",
        },
    ]
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = {
        "name": "mini",
        "title": "Mini",
        "target": "cpu",
        "defaults": {"vllm.max-num-seqs": 2, "vllm-inference.max-tokens": 9},
        "maximum": {"vllm-inference.max-tokens": 20},
        "evaluation": {
            "dataset": "data.jsonl",
            "system_prompt": "Be short.",
            "scorers": [
                {"name": "numeric", "metric": "accuracy", "kinds": ["arithmetic"]},
                {"name": "multiple_choice", "metric": "accuracy", "kinds": ["mc"]},
                {"name": "contains", "metric": "accuracy"},
                {"name": "exact_match"},
            ],
            "primary_metric": "accuracy",
            "sampling": {"max_concurrency": 8},
            **evaluation,
        },
    }
    path = tmp_path / "challenge.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_evaluate_end_to_end(stub, tmp_path):
    challenge = load_challenge(write_challenge(tmp_path))
    progress = []
    report = evaluate(
        challenge,
        stub.url,
        "echo",
        max_tokens=100,
        concurrency=None,
        on_progress=lambda d, t: progress.append(d),
        is_alive=lambda: True,
    )
    assert progress[-1] == 4
    assert report.metrics["public"]["accuracy"] == 1.0  # Paris, 5
    assert report.metrics["private"]["accuracy"] == 0.5  # Milan wrong, (B) right
    assert report.primary_value == 1.0 and report.primary_split == "public"
    assert report.metrics["all"]["exact_match"] == 0.5  # "Paris" and "(B)" (normalised to b)
    assert report.by_kind["all"]["arithmetic"]["accuracy"] == 1.0
    assert report.settings["max_tokens"] == 20 and report.settings["concurrency"] == 2
    assert all(r["max_tokens"] == 20 for r in stub.requests)
    assert stub.requests[0]["messages"][0] == {"role": "system", "content": "Be short."}
    assert report.requests.requests == 4 and report.requests.errors == 0
    assert set(report.stage_timings) == {"prepare", "requests", "scoring"}
    json.dumps(report.to_dict())


def test_participant_template_and_splits(stub, tmp_path):
    challenge = load_challenge(write_challenge(tmp_path))
    report = evaluate(
        challenge,
        stub.url,
        "echo",
        prompt_template="Please: {{ prompt }}",
        splits=["public"],
    )
    assert report.counts == {"all": 2, "public": 2}
    assert stub.requests[0]["messages"][-1]["content"].startswith("Please: ")


def test_demo_challenge_loads_with_enough_items():
    challenge = load_challenge(demo_challenge_path())
    assert challenge.name == "demo" and challenge.target == "cpu"
    assert challenge.evaluation.api == "chat" and challenge.evaluation.primary_metric == "accuracy"
    defaults = challenge.typed_defaults()
    assert defaults["vllm.max-model-len"] == 2048
    assert defaults["vllm.max-num-seqs"] == 16
    assert defaults["vllm-inference.max-tokens"] == 32
    samples = load_dataset(challenge.dataset_path)
    assert len(samples) >= 90
    splits = Counter(s.split for s in samples)
    assert 0.3 <= splits["public"] / len(samples) <= 0.5 and splits["private"] > splits["public"]
    kinds = Counter(s.kind for s in samples)
    assert {"facts", "arithmetic", "reasoning", "multiple_choice"} <= set(kinds)
    for kind in kinds:  # every kind is in both splits
        assert {s.split for s in samples if s.kind == kind} == {"public", "private"}
    # every sample has an accuracy scorer, and every prompt renders
    template = PromptTemplate(challenge.evaluation.prompt_template)
    for s in samples:
        assert any(
            sc.metric_name == "accuracy" and sc.applies_to(s.kind)
            for sc in challenge.evaluation.scorers
        )
        build_messages(s, template, challenge.evaluation.system_prompt)
