"""Challenges, datasets, scorers, the client that drives a served model, and the report.

Typical use (the server is already running)::

    from podium.evaluate import evaluate, load_challenge
    report = evaluate(load_challenge(path), "http://127.0.0.1:8000", "model",
                      max_tokens=32, concurrency=16)
"""

from pathlib import Path

from podium.evaluate.challenge import (
    Challenge,
    apply_defaults,
    check_flags,
    check_submission,
    load_challenge,
    with_defaults,
)
from podium.evaluate.dataset import PromptTemplate, Sample, load_dataset
from podium.evaluate.report import EvalReport, RequestStats, render_table
from podium.evaluate.runner import evaluate, evaluate_async
from podium.evaluate.scorers import SCORERS, make_scorer

__all__ = [
    "SCORERS",
    "Challenge",
    "EvalReport",
    "PromptTemplate",
    "RequestStats",
    "Sample",
    "apply_defaults",
    "demo_challenge_path",
    "check_flags",
    "check_submission",
    "evaluate",
    "evaluate_async",
    "load_challenge",
    "load_dataset",
    "make_scorer",
    "render_table",
    "with_defaults",
]


def demo_challenge_path() -> Path:
    """The path of the demo challenge shipped with Podium."""
    return Path(__file__).resolve().parents[1] / "data" / "challenges" / "demo" / "challenge.yaml"
