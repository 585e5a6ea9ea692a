"""Dataset validation (errors name the line and the field) and prompt templates."""

from __future__ import annotations

import json

import pytest

from podium.errors import Code, EvalError
from podium.evaluate.dataset import PromptTemplate, build_messages, build_prompt, load_dataset

GOOD = [
    {
        "id": "a",
        "prompt": "Capital of France?",
        "answer": "Paris",
        "split": "public",
        "kind": "facts",
    },
    {
        "id": "b",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "2+2?"},
        ],
        "answers": ["4", "four"],
        "split": "private",
    },
    {
        "id": "c",
        "prompt": "Which flies?",
        "choices": ["Dog", "Eagle"],
        "answer": "B",
        "split": "public",
    },
]


def write(tmp_path, rows, extra_lines=()):
    p = tmp_path / "d.jsonl"
    lines = [json.dumps(r) if isinstance(r, dict) else r for r in rows]
    p.write_text("\n".join([*lines, *extra_lines]) + "\n")
    return p


def bad(tmp_path, rows) -> EvalError:
    with pytest.raises(EvalError) as exc:
        load_dataset(write(tmp_path, rows))
    assert exc.value.code is Code.DATASET_INVALID
    return exc.value


def test_good_dataset(tmp_path):
    samples = load_dataset(write(tmp_path, GOOD, ["", "// a comment"]))
    assert [s.id for s in samples] == ["a", "b", "c"]
    assert samples[1].answers == ("4", "four")
    assert samples[2].choices == ("Dog", "Eagle")


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"id": "x", "prompt": "q", "answer": "a", "split": "test"}, "split", "public"),
        ({"id": "x", "answer": "a", "split": "public"}, "prompt", "exactly one"),
        ({"id": "x", "prompt": "q", "split": "public"}, "answer", "exactly one"),
        ({"id": "x", "prompt": "q", "answers": [], "split": "public"}, "answers", "non-empty"),
        ({"prompt": "q", "answer": "a", "split": "public"}, "id", "required"),
        (
            {"id": "x", "prompt": "q", "answer": "a", "split": "public", "colour": 1},
            "colour",
            "unknown field",
        ),
        (
            {
                "id": "x",
                "messages": [{"role": "bot", "content": "hi"}],
                "answer": "a",
                "split": "public",
            },
            "messages[0]",
            "role",
        ),
        (
            {"id": "x", "prompt": "q", "choices": ["A"], "answer": "A", "split": "public"},
            "choices",
            "2 to 5",
        ),
        (
            {"id": "x", "prompt": "q", "choices": ["x", "y"], "answer": "C", "split": "public"},
            "answer",
            "A, B",
        ),
    ],
)
def test_errors_name_line_and_field(tmp_path, row, field, words):
    err = bad(tmp_path, [GOOD[0], row])
    assert err.message.startswith("d.jsonl line 2: ")
    assert f"field '{field}'" in err.message and words in err.message
    assert err.details["line"] == 2 and err.details["field"] == field


def test_bad_json_and_duplicate_ids(tmp_path):
    err = bad(tmp_path, [GOOD[0], GOOD[1], "{not json"])
    assert "line 3" in err.message and "not valid JSON" in err.message
    err = bad(tmp_path, [GOOD[0], GOOD[0]])
    assert "line 2" in err.message and "duplicate id 'a' (first on line 1)" in err.message


def test_missing_file(tmp_path):
    with pytest.raises(EvalError) as exc:
        load_dataset(tmp_path / "nope.jsonl")
    assert exc.value.code is Code.DATASET_INVALID


def test_template_renders_choices_and_never_sees_answers(tmp_path):
    s = load_dataset(write(tmp_path, GOOD))
    t = PromptTemplate(
        "{{ prompt }}{% if choices %}{% for c in choices %}\n{{ letters[loop.index0] }}) {{ c }}{% endfor %}{% endif %}"
    )
    assert t.render(s[2]) == "Which flies?\nA) Dog\nB) Eagle"
    with pytest.raises(EvalError) as exc:
        PromptTemplate("{{ answer }}").render(s[0])
    assert exc.value.code is Code.CHALLENGE_INVALID and "undefined" in exc.value.message


def test_template_is_sandboxed_and_participant_errors_are_flag_errors(tmp_path):
    s = load_dataset(write(tmp_path, GOOD))
    t = PromptTemplate(
        "{{ prompt.__class__.__mro__ }}", origin="--prompt-template-path", code=Code.FLAG_INVALID
    )
    with pytest.raises(EvalError) as exc:
        t.render(s[0])
    assert exc.value.code is Code.FLAG_INVALID and "--prompt-template-path" in exc.value.message
    with pytest.raises(EvalError):
        PromptTemplate("{% for %}")


def test_messages_and_completion_prompts(tmp_path):
    s = load_dataset(write(tmp_path, GOOD))
    t = PromptTemplate("Q: {{ prompt }}")
    assert build_messages(s[0], t, "short answers") == [
        {"role": "system", "content": "short answers"},
        {"role": "user", "content": "Q: Capital of France?"},
    ]
    # a sample with its own system message keeps it; the last user turn is templated
    assert build_messages(s[1], t, "short answers") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Q: 2+2?"},
    ]
    assert build_prompt(s[0], t, "short answers") == "short answers\n\nQ: Capital of France?"
