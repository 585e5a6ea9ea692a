"""Challenge YAML validation, flag checks against a challenge, defaults."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from podium.errors import Code, EvalError, Severity
from podium.evaluate.challenge import (
    apply_defaults,
    challenge_from_dict,
    check_flags,
    load_challenge,
)
from podium.spec.flags import Group, Kind
from podium.spec.parse import parse_submit_args

BASE = {
    "name": "mini",
    "title": "Mini",
    "target": "cpu",
    "defaults": {"vllm.max-num-seqs": 8, "vllm-inference.max-tokens": 16},
    "maximum": {"vllm.max-num-seqs": 32, "vllm-inference.max-tokens": 64},
    "allowed_flags": ["vllm.max-model-len", "vllm.max-num-seqs", "vllm-inference.max-tokens"],
    "extra_keys": [
        {"name": "prompt-template-path", "help": "template file"},
        {"name": "games", "type": "integer", "default": 3, "min": 1, "max": 10},
    ],
    "evaluation": {
        "dataset": "data.jsonl",
        "scorers": [{"name": "exact_match", "metric": "accuracy"}],
        "primary_metric": "accuracy",
    },
}


def make(**changes):
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = data
        *head, last = dotted.split("__")
        for key in head:
            node = node[key]
        if value is ...:
            del node[last]
        else:
            node[last] = value
    return data


def invalid(data) -> EvalError:
    with pytest.raises(EvalError) as exc:
        challenge_from_dict(data, path=Path("mini.yaml"))
    assert exc.value.code is Code.CHALLENGE_INVALID
    return exc.value


def test_valid_challenge_loads_with_defaults():
    c = challenge_from_dict(BASE, path=Path("/x/mini.yaml"))
    assert c.evaluation.api == "chat"
    assert c.evaluation.sampling.temperature == 0
    assert c.evaluation.prompt_template == "{{ prompt }}"
    assert c.dataset_path == Path("/x/data.jsonl")
    assert c.quotas.window in ("daily", "rolling_24h")


def test_unknown_key_is_named_with_its_path():
    err = invalid(make(evaluation__sampling={"temprature": 0.5}))
    assert "evaluation.sampling.temprature: unknown key" in err.message
    assert err.details["field"] == "evaluation.sampling.temprature"


def test_missing_key_is_named():
    err = invalid(make(title=...))
    assert "title: required key is missing" in err.message


def test_bad_value_is_named_with_the_value():
    err = invalid(make(evaluation__sampling={"temperature": 5}))
    assert "evaluation.sampling.temperature" in err.message and "(got 5)" in err.message
    err = invalid(make(evaluation__api="grpc"))
    assert "evaluation.api" in err.message


def test_primary_metric_must_be_a_scorer_metric():
    err = invalid(make(evaluation__primary_metric="f1"))
    assert "primary_metric 'f1'" in err.message and "accuracy" in err.message


def test_unknown_flag_in_defaults_suggests():
    err = invalid(make(defaults={"vllm.max-num-seq": 4}))
    assert (
        "defaults.vllm.max-num-seq" in err.message
        and "did you mean vllm.max-num-seqs" in err.message
    )


def test_default_above_maximum_and_badly_typed_default():
    assert "above maximum" in invalid(make(defaults={"vllm.max-num-seqs": 64})).message
    assert (
        "defaults.vllm.max-num-seqs"
        in invalid(make(defaults={"vllm.max-num-seqs": "many"})).message
    )


def test_maximum_only_for_numeric_flags():
    assert "only numeric flags" in invalid(make(maximum={"vllm.dtype": 1})).message


def test_extra_key_clashing_with_a_flag():
    err = invalid(make(extra_keys=[{"name": "vllm.max-num-seqs"}]))
    assert "already a submit-model flag" in err.message


def test_unknown_scorer_suggests_a_name():
    data = make(evaluation__scorers=[{"name": "exact_mach", "metric": "accuracy"}])
    with pytest.raises(EvalError) as exc:
        challenge_from_dict(data)
    assert exc.value.code is Code.SCORER_UNKNOWN
    assert (
        "evaluation.scorers.0" in exc.value.message
        and "did you mean exact_match" in exc.value.message
    )


def test_bad_scorer_options_and_template():
    err = invalid(
        make(evaluation__scorers=[{"name": "numeric", "metric": "accuracy", "options": {"tol": 1}}])
    )
    assert "evaluation.scorers.0" in err.message and "tol" in err.message
    err = invalid(make(evaluation__prompt_template="{{ prompt "))
    assert "evaluation.prompt_template" in err.message


def test_yaml_errors(tmp_path):
    p = tmp_path / "challenge.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(EvalError) as exc:
        load_challenge(tmp_path)
    assert exc.value.code is Code.CHALLENGE_INVALID and "not valid YAML" in exc.value.message
    p.write_text(yaml.safe_dump(BASE))
    assert load_challenge(p).name == "mini"


def test_extra_flags_are_flag_objects_the_parser_accepts():
    c = challenge_from_dict(BASE)
    flags = {f.name: f for f in c.extra_flags()}
    assert flags["games"].kind is Kind.INT and flags["games"].group is Group.EXTRA
    assert flags["games"].maximum == 10 and flags["games"].default == 3
    assert c.extra_keys[0].is_path
    spec = parse_submit_args(["--hf-repo", "a/b", "--games", "5"], extras=c.extra_flags())
    assert spec.extras["games"] == 5


def test_check_flags_not_allowed_and_above_maximum():
    c = challenge_from_dict(BASE)
    values = {"hf-repo": "a/b", "vllm.max-num-seqs": 40, "vllm.enforce-eager": True, "games": 2}
    findings = check_flags(
        c, values, ["hf-repo", "vllm.max-num-seqs", "vllm.enforce-eager", "games"]
    )
    codes = [f.code for f in findings]
    assert codes == [Code.FLAG_NOT_ALLOWED, Code.FLAG_ABOVE_MAXIMUM]
    assert all(f.severity is Severity.ERROR for f in findings)
    assert "--vllm.enforce-eager" in findings[0].message and "mini" in findings[0].message
    assert "--vllm.max-num-seqs 40" in findings[1].message and "32" in findings[1].message
    assert "32 or less" in findings[1].hint


def test_check_flags_ok_and_all_allowed_by_default():
    c = challenge_from_dict(make(allowed_flags=...))
    assert (
        check_flags(
            c, {"vllm.enforce-eager": True, "vllm.max-num-seqs": 32}, ["vllm.enforce-eager"]
        )
        == []
    )


def test_apply_defaults_only_fills_flags_not_given():
    c = challenge_from_dict(BASE)
    values = {"hf-repo": "a/b", "vllm.max-num-seqs": 4, "vllm-inference.max-tokens": None}
    out = apply_defaults(c, values, ["hf-repo", "vllm.max-num-seqs"])
    assert out["vllm.max-num-seqs"] == 4
    assert out["vllm-inference.max-tokens"] == 16
    assert values["vllm-inference.max-tokens"] is None  # not edited


def test_max_tokens_and_concurrency_are_capped():
    c = challenge_from_dict(BASE)
    assert c.max_tokens_for(None) == 16
    assert c.max_tokens_for(1000) == 64
    assert c.concurrency_for(None) == 8
    assert c.concurrency_for(500) == 64  # sampling.max_concurrency default


def test_submission_spec_helpers():
    from podium.evaluate.challenge import check_submission, with_defaults

    c = challenge_from_dict(BASE)
    spec = parse_submit_args(
        ["--hf-repo", "a/b", "--vllm.max-num-seqs", "40", "--vllm.dtype", "half"],
        extras=c.extra_flags(),
    )
    assert [f.code for f in check_submission(c, spec)] == [
        Code.FLAG_NOT_ALLOWED,
        Code.FLAG_ABOVE_MAXIMUM,
    ]
    ok = parse_submit_args(["--hf-repo", "a/b", "--vllm.max-num-seqs", "4"], extras=c.extra_flags())
    filled = with_defaults(c, ok)
    assert filled.vllm["max-num-seqs"] == 4  # given: kept
    assert filled.inference["max-tokens"] == 16  # challenge default
    assert filled.extras["games"] == 3 and filled.given == ok.given
