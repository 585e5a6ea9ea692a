"""Percentiles (checked against numpy), aggregation, writers, the rich table."""

from __future__ import annotations

import json
import random
from dataclasses import asdict

import numpy as np
import pytest

from podium.evaluate.client import SampleResult
from podium.evaluate.report import (
    EvalReport,
    RequestStats,
    aggregate,
    histogram,
    percentile,
    render_table,
)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 101, 997])
def test_percentiles_match_numpy(n):
    rng = random.Random(n)
    values = [rng.expovariate(2.0) for _ in range(n)]
    for q in (0, 50, 90, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([], 50) is None


def rows():
    out = []
    for i in range(10):
        r = SampleResult(
            id=f"s{i}",
            split="public" if i < 4 else "private",
            kind="facts" if i % 2 else "math",
            prompt="q",
            output="x",
            prompt_tokens=10,
            output_tokens=5,
            latency_s=0.1 * (i + 1),
            ttft_s=0.01 * (i + 1),
        )
        r.scores = {"accuracy": float(i % 3 == 0)}
        out.append(r)
    out[9].error = "HTTP 500: boom"
    out[9].scores = {"accuracy": 0.0}
    return out


def test_request_stats():
    results = rows()
    st = RequestStats.from_results(results, wall_s=2.0, concurrency=4, max_in_flight=4)
    ok = results[:9]
    assert (st.requests, st.errors) == (10, 1)
    assert st.output_tokens == 45 and st.prompt_tokens == 90
    assert st.output_tokens_per_s == pytest.approx(22.5)
    assert st.requests_per_s == pytest.approx(4.5)
    lat = [r.latency_s for r in ok]
    assert st.latency_s["p50"] == pytest.approx(float(np.percentile(lat, 50)))
    assert st.latency_s["p99"] == pytest.approx(float(np.percentile(lat, 99)))
    assert st.ttft_s["p90"] == pytest.approx(float(np.percentile([r.ttft_s for r in ok], 90)))


def test_aggregate_per_split_and_kind():
    metrics, by_kind, counts = aggregate(rows(), ["accuracy", "other"])
    # public: s0..s3 -> scores 1,0,0,1 ; private: s4..s9 -> 0,0,1,0,0,0(error)
    assert metrics["public"]["accuracy"] == pytest.approx(0.5)
    assert metrics["private"]["accuracy"] == pytest.approx(1 / 6)
    assert metrics["all"]["accuracy"] == pytest.approx(0.3)
    assert metrics["all"]["other"] is None
    assert by_kind["public"]["math"]["accuracy"] == pytest.approx(0.5)  # s0 -> 1, s2 -> 0
    assert by_kind["public"]["facts"]["accuracy"] == pytest.approx(0.5)  # s1 -> 0, s3 -> 1
    assert counts == {"all": 10, "public": 4, "private": 6}


def make_report():
    results = rows()
    metrics, by_kind, counts = aggregate(results, ["accuracy"])
    return EvalReport(
        challenge="mini",
        primary_metric="accuracy",
        primary_split="public",
        primary_value=metrics["public"]["accuracy"],
        primary_by_split={s: m["accuracy"] for s, m in metrics.items()},
        metrics=metrics,
        by_kind=by_kind,
        counts=counts,
        requests=RequestStats.from_results(results, 2.0),
        stage_timings={"serve": 1.5},
        samples=results,
    )


def test_writers(tmp_path):
    report = make_report()
    rp, sp = report.write(tmp_path / "out")
    data = json.loads(rp.read_text())
    assert data["primary_value"] == pytest.approx(0.5)
    assert data["requests"]["latency_s"]["p50"] is not None
    assert data["stage_timings"] == {"serve": 1.5}
    lines = [json.loads(line) for line in sp.read_text().splitlines()]
    assert len(lines) == 10 and lines[9]["error"] == "HTTP 500: boom"
    assert set(lines[0]) >= {
        "id",
        "split",
        "prompt",
        "output",
        "finish_reason",
        "prompt_tokens",
        "output_tokens",
        "latency_s",
        "ttft_s",
        "error",
        "scores",
    }


def test_public_writer_hides_the_private_split(tmp_path):
    rp, sp = make_report().write(tmp_path, include_private=False)
    data = json.loads(rp.read_text())
    assert set(data["metrics"]) == {"public"} and set(data["by_kind"]) == {"public"}
    assert all(json.loads(line)["split"] == "public" for line in sp.read_text().splitlines())


def test_render_table():
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(render_table(make_report()))
    text = console.export_text()
    assert "accuracy" in text and "0.500" in text and "p50/p90/p99" in text


@pytest.mark.parametrize("n", [2, 7, 100, 1001])
def test_latency_histogram_matches_numpy(n):
    rng = random.Random(n)
    values = [rng.lognormvariate(-1.0, 0.8) for _ in range(n)]
    h = histogram(values)
    counts, edges = np.histogram(values, bins=12)
    assert h["counts"] == counts.tolist()
    assert h["edges_s"] == pytest.approx(edges.tolist())
    assert histogram([]) == {"edges_s": [], "counts": []}
    assert histogram([0.5, 0.5, 0.5]) == {"edges_s": [0.5, 0.5], "counts": [3]}


def test_request_stats_carry_the_latency_histogram():
    st = RequestStats.from_results(rows(), wall_s=2.0)
    h = st.latency_histogram
    assert sum(h["counts"]) == 9  # the failed request has no latency that counts
    assert h["edges_s"][0] == pytest.approx(0.1) and h["edges_s"][-1] == pytest.approx(0.9)
    assert len(h["edges_s"]) == len(h["counts"]) + 1 == 13
    assert json.loads(json.dumps(asdict(st)))["latency_histogram"] == h
