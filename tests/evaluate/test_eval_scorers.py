"""Each scorer on positive and negative cases; custom and unknown scorers."""

from __future__ import annotations

import pytest

from podium.errors import Code, EvalError
from podium.evaluate.dataset import Sample
from podium.evaluate.scorers import extract_choice, extract_numbers, make_scorer, normalize


def sample(*answers: str, choices=None) -> Sample:
    return Sample(id="s", split="public", answers=tuple(answers), prompt="q", choices=choices)


def score(name: str, output: str, smp: Sample, **options) -> float:
    return make_scorer(name, options)(output, smp)


def test_normalize():
    assert normalize("  The  Eiffel-Tower. ") == "eiffel tower"
    assert normalize("An APPLE!") == "apple"


@pytest.mark.parametrize("out", ["Paris", "paris.", " PARIS ", "The Paris", "Paris!"])
def test_exact_match_positive(out):
    assert score("exact_match", out, sample("Paris")) == 1.0


@pytest.mark.parametrize("out", ["Paris, France", "It is Paris", "", "Pari"])
def test_exact_match_negative(out):
    assert score("exact_match", out, sample("Paris")) == 0.0


def test_exact_match_any_answer():
    assert score("exact_match", "four", sample("4", "four")) == 1.0


def test_contains():
    s = sample("Buenos Aires")
    assert score("contains", "The capital of Argentina is Buenos Aires.", s) == 1.0
    assert score("contains", "buenos   aires", s) == 1.0
    assert score("contains", "Buenos", s) == 0.0
    assert score("contains", "14 apples", sample("4")) == 0.0  # whole words only
    assert score("contains", "I have 4 apples", sample("4")) == 1.0
    assert score("contains", "Paris London Berlin Rome Madrid", sample("Rome"), max_words=3) == 0.0


def test_regex_with_capture_group():
    s = sample("Paris")
    pattern = r"answer:\s*(\w+)"
    assert score("regex", "Reasoning... Answer: paris", s, pattern=pattern) == 1.0
    assert score("regex", "Answer: Lyon", s, pattern=pattern) == 0.0
    assert score("regex", "Paris", s, pattern=pattern) == 0.0  # no match
    assert score("regex", "final=Paris", s, pattern=r"Paris") == 1.0  # no group: whole match
    assert score("regex", "Answer: paris", s, pattern=pattern, ignore_case=False) == 0.0


def test_regex_invalid_pattern_is_a_challenge_error():
    with pytest.raises(EvalError) as exc:
        make_scorer("regex", {"pattern": "(unclosed"}, where="evaluation.scorers.2")
    assert exc.value.code is Code.CHALLENGE_INVALID and "evaluation.scorers.2" in exc.value.message


def test_extract_numbers():
    assert extract_numbers("7 + 5 = 12") == [7, 5, 12]
    assert extract_numbers("It costs 1,234.50 dollars, not 99.") == [1234.5, 99]
    assert extract_numbers("5-3=2") == [5, 3, 2]
    assert extract_numbers("it is -4 degrees") == [-4]
    assert extract_numbers("1,2,3") == [1, 2, 3]
    assert extract_numbers("no numbers") == []


def test_numeric():
    assert score("numeric", "7 + 5 = 12", sample("12")) == 1.0
    assert score("numeric", "The answer is 1,250.", sample("1250")) == 1.0
    assert score("numeric", "12.0", sample("12")) == 1.0
    assert score("numeric", "13", sample("12")) == 0.0
    assert score("numeric", "twelve", sample("12")) == 0.0
    assert score("numeric", "12 is bigger than 7", sample("12")) == 0.0  # last number is 7
    assert score("numeric", "12 is bigger than 7", sample("12"), position="first") == 1.0
    assert score("numeric", "3.14", sample("3.1416"), tolerance=0.01) == 1.0
    assert score("numeric", "3.14", sample("3.1416")) == 0.0


@pytest.mark.parametrize(
    "out",
    [
        "B",
        "(B)",
        "B.",
        "b)",
        "Answer: B",
        "The answer is B.",
        "B) Paris",
        "B. Paris",
        "I think (B) is right",
        "[B]",
    ],
)
def test_multiple_choice_positive(out):
    assert score("multiple_choice", out, sample("B", choices=("Lyon", "Paris", "Nice"))) == 1.0


@pytest.mark.parametrize("out", ["A", "Answer: C", "(A) Lyon", "I don't know", "", "A big city"])
def test_multiple_choice_negative(out):
    assert score("multiple_choice", out, sample("B", choices=("Lyon", "Paris", "Nice"))) == 0.0


def test_multiple_choice_falls_back_to_the_choice_text():
    choices = ("Lyon", "Paris", "Nice")
    assert extract_choice("Paris", choices) == "B"
    assert extract_choice("Paris or Nice", choices) is None  # ambiguous
    assert extract_choice("I'd say it is a city") is None


def _my_scorer(output, sample, bonus=0.0):
    return 0.5 + bonus


def test_custom_scorer_module_function():
    fn = make_scorer(f"{__name__}:_my_scorer", {"bonus": 0.25})
    assert fn("x", sample("y")) == 0.75


def test_unknown_scorers():
    with pytest.raises(EvalError) as exc:
        make_scorer("contain")
    assert exc.value.code is Code.SCORER_UNKNOWN
    assert "did you mean contains?" in exc.value.message and "known:" in exc.value.message
    with pytest.raises(EvalError) as exc:
        make_scorer("no_such_module_xyz:fn")
    assert exc.value.code is Code.SCORER_UNKNOWN and "cannot be imported" in exc.value.message
    with pytest.raises(EvalError) as exc:
        make_scorer(f"{__name__}:missing")
    assert exc.value.code is Code.SCORER_UNKNOWN


def test_unknown_option():
    with pytest.raises(EvalError) as exc:
        make_scorer("exact_match", {"strict": True})
    assert exc.value.code is Code.CHALLENGE_INVALID and "strict" in exc.value.message


def test_thousands_separators_are_one_number():
    assert normalize("1,250 apples") == "1250 apples"
    assert score("contains", "There are 7,981,980 of them", sample("7")) == 0.0
    assert score("exact_match", "1,000", sample("1000")) == 1.0
